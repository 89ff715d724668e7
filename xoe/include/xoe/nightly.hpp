// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The nightly job, which cron runs (docs/xoe.md, "Nightly"): a backup of every
// service but the training services NAME-training of a NAME-production, with
// the retention, then the refresh of each of those from its production's
// backup of the night. xoe self-install writes the cron file that runs it.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

struct NightlyStep {
  std::string service;
  std::string action;                  // "backup" or "refresh"
  std::optional<std::string> from;     // refresh: the production
  std::optional<std::filesystem::path> archive;  // the archive written (backup) or restored (refresh)
  bool ok = false;
  std::string error;  // when not ok: the one-line error
  double seconds = 0;
  friend bool operator==(const NightlyStep&, const NightlyStep&) = default;
};

struct NightlyResult {
  std::vector<NightlyStep> steps;  // backups first, in the registry's order, then refreshes
  std::vector<std::string> skipped;  // services not ready (creating, dropped...), as "NAME (STATE)"
  double seconds = 0;
  [[nodiscard]] bool ok() const;
  friend bool operator==(const NightlyResult&, const NightlyResult&) = default;
};

// Runs the nightly job: each service's failure is recorded and the others go
// on; a training whose production's backup failed tonight is not refreshed
// (an older archive is not taken for tonight's).
NightlyResult run_nightly(const Settings& settings);

// The cron file that runs the nightly job, ROOT/etc/cron.d/oe-xoe: its text,
// for the xoe at `xoe` with this root and the schedule nightly.schedule.
std::string nightly_cron_text(const Settings& settings, const std::filesystem::path& xoe);
// Writes it (0644, replaced when it differs); returns its path.
std::filesystem::path install_nightly_cron(const Settings& settings);

}  // namespace xoe
