// SPDX-License-Identifier: GPL-3.0-or-later
#include "registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "host.hpp"

namespace fs = std::filesystem;

namespace xoe::registry {

namespace {

// Append-only: never edit a released step.
constexpr std::array<std::string_view, 5> steps = {
    R"(CREATE TABLE software (
         software TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL,
         detail TEXT NOT NULL DEFAULT '', fetched TEXT NOT NULL, PRIMARY KEY (software, version));
       CREATE TABLE templates (
         name TEXT PRIMARY KEY, software TEXT NOT NULL, version TEXT NOT NULL, backend TEXT NOT NULL,
         modules TEXT NOT NULL, location TEXT NOT NULL, created TEXT NOT NULL);
       CREATE TABLE services (
         name TEXT PRIMARY KEY, software TEXT NOT NULL, version TEXT NOT NULL, role TEXT NOT NULL,
         backend TEXT NOT NULL, database TEXT NOT NULL, port INTEGER NOT NULL UNIQUE,
         user TEXT NOT NULL UNIQUE, modules TEXT NOT NULL, state TEXT NOT NULL, created TEXT NOT NULL);)",
    // xoe backup verify: one row per verification.
    R"(CREATE TABLE backup_verifications (
         id INTEGER PRIMARY KEY, archive TEXT NOT NULL, sha256 TEXT NOT NULL, software TEXT NOT NULL,
         version TEXT NOT NULL, ok INTEGER NOT NULL, restore_seconds REAL NOT NULL, login_ms REAL NOT NULL,
         seconds REAL NOT NULL, verified TEXT NOT NULL, error TEXT NOT NULL);)",
    // xoe service config set: per-service settings, re-applied whenever xoe renders the config; gone with the service.
    R"(CREATE TABLE service_settings (
         service TEXT NOT NULL REFERENCES services (name) ON DELETE CASCADE, key TEXT NOT NULL,
         value TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (service, key));)",
    // xoe students: one row per student database (no secret here).
    R"(CREATE TABLE students (
         group_name TEXT NOT NULL, login TEXT NOT NULL, service TEXT NOT NULL, database TEXT NOT NULL UNIQUE,
         kind TEXT NOT NULL, state TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (group_name, login, kind));)",
    // xoe monitor: the newest last login seen per service (seconds since the epoch); gone with the service.
    R"(CREATE TABLE usage_seen (
         service TEXT PRIMARY KEY REFERENCES services (name) ON DELETE CASCADE, last_login INTEGER NOT NULL);)",
};

void migrate(core::sqlite::Database& db) { core::sqlite::migrate(db, "xoe", steps); }

ServiceRow service_from(core::sqlite::Statement& q) {
  ServiceRow r;
  r.name = q.column_text(0);
  r.software = q.column_text(1);
  r.version = q.column_text(2);
  r.role = q.column_text(3);
  r.backend = q.column_text(4);
  r.database = q.column_text(5);
  r.port = q.column_int64(6);
  r.user = q.column_text(7);
  r.modules = q.column_text(8);
  r.state = q.column_text(9);
  r.created = q.column_text(10);
  return r;
}

constexpr std::string_view service_columns =
    "SELECT name, software, version, role, backend, database, port, user, modules, state, created FROM services";

}  // namespace

core::sqlite::Database open(const Settings& settings) {
  // 0710: the services' users traverse it (by group) and cannot list it.
  host::make_dir(settings.state, fs::perms::owner_all | fs::perms::group_exec);
  // Root's alone: it names every customer, port, module, job error and
  // student. SQLite gives the -wal and -shm files the mode of the database
  // file, so the file is made 0600 before SQLite first opens it; older
  // registries (0644) are narrowed here.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::path f = settings.database().string() + suffix;
    int fd = ::open(f.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (*suffix ? 0 : O_CREAT), 0600);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      core::fail_errno(core::ErrorKind::io, "open " + f.string(), errno);
    }
    core::Fd owner(fd);
    if (::fchmod(fd, 0600) != 0) core::fail_errno(core::ErrorKind::io, "chmod " + f.string(), errno);
  }
  auto db = core::sqlite::Database::open(settings.database());
  migrate(db);
  return db;
}

std::optional<core::sqlite::Database> open_existing(const Settings& settings) {
  std::error_code ec;
  if (!fs::exists(settings.database(), ec)) return std::nullopt;
  auto db = core::sqlite::Database::open(settings.database(), core::sqlite::OpenMode::read_only);
  if (core::sqlite::schema_version(db, "xoe") == 0) return std::nullopt;
  return db;
}

std::optional<SoftwareRow> find_software(core::sqlite::Database& db, const std::string& software,
                                         const std::string& version) {
  auto q = db.query("SELECT software, version, path, source, detail, fetched FROM software "
                    "WHERE software = ?1 AND version = ?2",
                    software, version);
  if (!q.step()) return std::nullopt;
  return SoftwareRow{q.column_text(0), q.column_text(1), q.column_text(2),
                     q.column_text(3), q.column_text(4), q.column_text(5)};
}

std::vector<SoftwareRow> all_software(core::sqlite::Database& db) {
  auto q = db.query("SELECT software, version, path, source, detail, fetched FROM software ORDER BY software, version");
  std::vector<SoftwareRow> out;
  while (q.step())
    out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3), q.column_text(4),
                   q.column_text(5)});
  return out;
}

std::optional<ServiceRow> find_service(core::sqlite::Database& db, const std::string& name) {
  auto q = db.query(std::string(service_columns) + " WHERE name = ?1", name);
  if (!q.step()) return std::nullopt;
  return service_from(q);
}

std::vector<ServiceRow> all_services(core::sqlite::Database& db) {
  auto q = db.query(std::string(service_columns) + " ORDER BY name");
  std::vector<ServiceRow> out;
  while (q.step()) out.push_back(service_from(q));
  return out;
}

std::optional<TemplateRow> find_template(core::sqlite::Database& db, const std::string& name) {
  auto q = db.query("SELECT name, software, version, backend, modules, location, created FROM templates WHERE name = ?1",
                    name);
  if (!q.step()) return std::nullopt;
  return TemplateRow{q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3),
                     q.column_text(4), q.column_text(5), q.column_text(6)};
}

}  // namespace xoe::registry
