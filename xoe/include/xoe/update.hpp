// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Updates and upgrades of a service's code and database (docs/xoe.md,
// "Update and upgrade"). Both take a backup first, migrate a *copy* of the
// database with the new code, and switch to the new code and database only
// when the migration worked and the server answers; any failure puts the
// old code and database back and starts the service as it was.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

// poe's verdict on one patch of a service's series against a new version.
struct PatchVerdict {
  std::string name;
  std::string status;  // applies, offset, merges, upstream, removed, conflict
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> conflicts;  // file, lines
  friend bool operator==(const PatchVerdict&, const PatchVerdict&) = default;
};

struct UpgradeCheck {
  std::string service;
  std::string from;  // "tryton/6.0" (the recipe versions)
  std::string to;
  std::string base;  // the series' standard, "tryton/6.0.29" (empty: no series)
  std::string onto;  // the new standard, "tryton/7.0.30"
  std::vector<PatchVerdict> patches;
  bool blocked() const;  // a patch conflicts or touches a removed file: the upgrade is refused
  friend bool operator==(const UpgradeCheck&, const UpgradeCheck&) = default;
};

// Checks the service's series against the standard of software/to_version
// with libpoe. Reads only. Throws not_found (service, recipe), invalid (same
// or older version, other software), precondition (not fetched, no standard).
UpgradeCheck check_upgrade(const Settings& settings, const std::string& service, const std::string& to_version);

struct UpdateRequest {
  std::string service;
  std::optional<std::string> to_version;            // upgrade; empty: update in the same version
  std::optional<std::filesystem::path> patches;     // update: the service's new series
  friend bool operator==(const UpdateRequest&, const UpdateRequest&) = default;
};

struct UpdateResult {
  std::string service;
  std::string software;
  std::string from_version;
  std::string to_version;
  std::filesystem::path backup;  // the archive taken first
  std::vector<PatchVerdict> patches;  // upgrade: poe's verdicts
  std::vector<std::string> dropped;   // upgrade: patches already upstream, left out of the new series
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const UpdateResult&, const UpdateResult&) = default;
};

// `xoe service update` / `upgrade` as one journaled job ("service.update":
// prepare, stop, copy, code, migrate, switch, start, finish) after a backup.
// A failing step rolls back (exit code of the failure, the message says it
// was rolled back); a killed run is resumed by the next update of the
// service. Throws conflict for an upgrade poe blocks (check_upgrade first
// to show the report).
UpdateResult update_service(const Settings& settings, const UpdateRequest& request);

}  // namespace xoe
