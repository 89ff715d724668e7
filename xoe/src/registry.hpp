// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// xoe's registry: ROOT/var/lib/oe/xoe/xoe.db (SQLite, schema tier "xoe"),
// which also holds the job journal of xoe's operations.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/sqlite.hpp"
#include "xoe/settings.hpp"

namespace xoe::registry {

// Opens (creating) the registry and brings its schema up to date.
core::sqlite::Database open(const Settings& settings);
// Opens it read-only when it exists; nullopt when it does not (nothing registered yet).
std::optional<core::sqlite::Database> open_existing(const Settings& settings);

struct SoftwareRow {
  std::string software, version, path, source, detail, fetched;
};
std::optional<SoftwareRow> find_software(core::sqlite::Database& db, const std::string& software,
                                         const std::string& version);
std::vector<SoftwareRow> all_software(core::sqlite::Database& db);

struct ServiceRow {
  std::string name, software, version, role, backend, database, user, modules, state, created;
  std::int64_t port = 0;
};
std::optional<ServiceRow> find_service(core::sqlite::Database& db, const std::string& name);
std::vector<ServiceRow> all_services(core::sqlite::Database& db);

struct TemplateRow {
  std::string name, software, version, backend, modules, location, created;
};
std::optional<TemplateRow> find_template(core::sqlite::Database& db, const std::string& name);

}  // namespace xoe::registry
