// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Database copies between services, neutralised when the target is not
// production (recipe's [neutralise]: scheduled jobs off, mail to the
// catcher, a visible marker), and the nightly training refresh from the
// production's last backup. docs/xoe.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xoe/backup.hpp"
#include "xoe/settings.hpp"

namespace xoe {

struct DatabaseInfo {
  std::string service;
  std::string database;
  std::string backend;
  std::string role;
  std::uintmax_t bytes = 0;
  friend bool operator==(const DatabaseInfo&, const DatabaseInfo&) = default;
};

// The database of every service, with its size. Reads only.
std::vector<DatabaseInfo> list_databases(const Settings& settings);

struct CopyRequest {
  std::string source;  // a service
  std::string target;  // another service of the same software, version and backend
  friend bool operator==(const CopyRequest&, const CopyRequest&) = default;
};

struct CopyResult {
  std::string source;
  std::string target;
  bool neutralised = false;      // the target is not production
  // PostgreSQL: the source was drained for the copy: its server stopped
  // (source_stopped, recipe's server.drain "restart"), or its database
  // refused new sessions and its server's ended, the server running.
  bool source_drained = false;
  bool source_stopped = false;
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const CopyResult&, const CopyResult&) = default;
};

// Replaces the target's database and data with a copy of the source's, as
// a journaled job ("db.copy": work, drain, clone, release, then stop, swap,
// password, neutralise, start, finish). PostgreSQL copies with CREATE
// DATABASE ... TEMPLATE, which fails while anyone is connected to the
// source: a running source is stopped for the copy and started again
// (drain/release; a failure or a rollback starts it again too). SQLite
// copies with the online backup API, the source running. Throws invalid
// (same service), not_found, conflict (not ready; other software, version
// or backend; an unfinished restore), external.
CopyResult copy_database(const Settings& settings, const CopyRequest& request);

struct RefreshRequest {
  std::string service;              // the training service
  std::optional<std::string> from;  // its production; default: NAME-training -> NAME-production
  friend bool operator==(const RefreshRequest&, const RefreshRequest&) = default;
};

struct RefreshResult {
  std::string service;
  std::string production;
  std::filesystem::path archive;  // the production's last backup, restored
  RestoreResult restore;
  friend bool operator==(const RefreshResult&, const RefreshResult&) = default;
};

// Replaces a training service's database with its production's from the
// production's last backup (the nightly one), neutralised: restore_service
// of that archive into the training service. Throws not_found (no backup),
// conflict (the target is production), invalid (no --from and a name that
// does not end in -training).
RefreshResult training_refresh(const Settings& settings, const RefreshRequest& request);

}  // namespace xoe
