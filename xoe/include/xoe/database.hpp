// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The database of one service (`xoe db drop|create|rename`). Each service
// has one database (the registry's services.database): `drop` removes it
// (after a backup) and leaves the service stopped with state "dropped",
// `create` gives the service a fresh one from its template, `rename` renames
// it. Each is a journaled job: a failure puts the old state back, a killed
// run is finished by the next run of the same command. docs/xoe.md.

#include <filesystem>
#include <optional>
#include <string>

#include "xoe/settings.hpp"

namespace xoe {

struct DropRequest {
  std::string service;
  bool backup = true;  // a backup first (xoe backup SERVICE); false: --no-backup
  friend bool operator==(const DropRequest&, const DropRequest&) = default;
};

struct DropResult {
  std::string service;
  std::string database;
  std::string backend;
  std::optional<std::filesystem::path> archive;  // the backup made first
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const DropResult&, const DropResult&) = default;
};

// Backs the service up (unless request.backup is false; a failed backup
// changes nothing), then as a job "db.drop" (stop, mark, drop): stops the
// service, marks it "dropped" (start refuses it until `create_database`) and
// drops its database and attachments. Throws not_found, conflict (not ready,
// dropped already), external.
DropResult drop_database(const Settings& settings, const DropRequest& request);

struct DatabaseCreated {
  std::string service;
  std::string database;
  std::string backend;
  std::string template_name;
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const DatabaseCreated&, const DatabaseCreated&) = default;
};

// Gives a dropped service a fresh database, as a job "db.create" (template,
// database, password, ready, start): a copy of the template of its software,
// version, backend and modules (built when missing), with the service's own
// admin password (its admin-password file, unchanged), then starts it and
// waits for its probe. Throws not_found, conflict (the service has its
// database, or a database of that name exists), external.
DatabaseCreated create_database(const Settings& settings, const std::string& service);

struct RenameRequest {
  std::string service;
  std::string database;  // the new name: a label, not starting with "xoe-" (xoe's templates and temporary databases)
  friend bool operator==(const RenameRequest&, const RenameRequest&) = default;
};

struct RenameResult {
  std::string service;
  std::string old_database;
  std::string database;
  std::string backend;
  bool restarted = false;  // it was running: stopped around the rename and started again
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const RenameResult&, const RenameResult&) = default;
};

// Renames the service's database as a job "db.rename" (stop, database,
// registry, start): PostgreSQL ALTER DATABASE ... RENAME TO, SQLite a rename
// of the file; the attachments folder follows; the registry, the config and
// the run file are updated; a running service is started again and must
// answer its probe. Throws invalid (bad or same name), not_found, conflict
// (a database or another service's database of that name, in use by another
// session, not ready), external.
RenameResult rename_database(const Settings& settings, const RenameRequest& request);

}  // namespace xoe
