// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The referee's database, ROOT/var/lib/oe/referee.db: cloe's tables (schema
// tier "cloe", the steps in inventory_db.cpp) and the job journal (tier
// "core.jobs"); hoe adds its own tier to the same file.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <span>
#include <string_view>

#include "cloe/inventory.hpp"
#include "core/sqlite.hpp"

namespace cloe::inventory {

// cloe's migrations, append-only.
std::span<const std::string_view> migrations();

// Opens (creating, mode 0600) the database and brings cloe's schema and the
// job journal up to date.
core::sqlite::Database open(const Settings& settings);
// Read-only when it exists and has cloe's tables; nullopt otherwise (then
// nothing was ever recorded). Never writes.
std::optional<core::sqlite::Database> open_existing(const Settings& settings);

// Shared with the other areas of libcloe (inventory.cpp).
std::string now();  // ISO 8601, UTC, seconds
// not_found when NAME is not a cluster.
Cluster cluster(core::sqlite::Database& db, const std::string& name);
std::vector<Node> nodes(core::sqlite::Database& db, const std::string& cluster,
                        const std::optional<std::string>& only = std::nullopt);
std::optional<std::uint32_t> ipv4(std::string_view text);
std::string ipv4_text(std::uint32_t ip);
int network_prefix(const Cluster& cluster);

}  // namespace cloe::inventory
