// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The referee's database, ROOT/var/lib/oe/referee.db: cloe's tables (schema
// tier "cloe", the steps in inventory_db.cpp) and the job journal (tier
// "core.jobs"); hoe adds its own tier to the same file.

#include <optional>
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

}  // namespace cloe::inventory
