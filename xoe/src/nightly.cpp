// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/nightly.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "xoe/backup.hpp"
#include "xoe/copy.hpp"

namespace fs = std::filesystem;

namespace xoe {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The first line of an error: each step's error is one line.
std::string one_line(const std::string& what) { return what.substr(0, what.find('\n')); }

}  // namespace

bool NightlyResult::ok() const {
  for (const auto& s : steps)
    if (!s.ok) return false;
  return true;
}

NightlyResult run_nightly(const Settings& s) {
  auto t0 = Clock::now();
  auto log = core::logger("xoe");
  NightlyResult out;
  std::vector<registry::ServiceRow> rows;
  if (auto db = registry::open_existing(s)) rows = registry::all_services(*db);
  // NAME-training's production NAME-production, when it exists (then the training is refreshed, not backed up).
  auto production_of = [&rows](const registry::ServiceRow& row) -> std::optional<std::string> {
    auto set = detail::profile_set_of(row.name, "training");
    if (row.role != "training" || !set) return std::nullopt;
    std::string production = *set + "-production";
    for (const auto& p : rows)
      if (p.name == production && p.role == "production") return production;
    return std::nullopt;
  };
  std::vector<std::string> backed_up;
  for (const auto& row : rows) {
    if (production_of(row)) continue;  // refreshed from its production below
    if (row.state != "ready") {
      out.skipped.push_back(row.name + " (" + row.state + ")");
      continue;
    }
    NightlyStep step{row.name, "backup", std::nullopt, std::nullopt, false, {}, 0};
    auto t = Clock::now();
    try {
      BackupResult b = backup_service(s, {row.name, std::nullopt});
      step.archive = b.archive;
      step.ok = true;
      backed_up.push_back(row.name);
    } catch (const std::exception& e) {
      step.error = one_line(e.what());
      log->error("nightly: backup of {} failed: {}", row.name, step.error);
    }
    step.seconds = since(t);
    out.steps.push_back(step);
  }
  for (const auto& row : rows) {
    auto production = production_of(row);
    if (!production) continue;  // backed up above
    if (row.state != "ready") {
      out.skipped.push_back(row.name + " (" + row.state + ")");
      continue;
    }
    NightlyStep step{row.name, "refresh", production, std::nullopt, false, {}, 0};
    auto t = Clock::now();
    if (std::find(backed_up.begin(), backed_up.end(), *production) == backed_up.end()) {
      step.error = "not refreshed: the backup of " + *production + " failed or was skipped tonight";
    } else {
      try {
        RefreshResult r = training_refresh(s, {row.name, *production});
        step.archive = r.archive;
        step.ok = true;
      } catch (const std::exception& e) {
        step.error = one_line(e.what());
      }
    }
    if (!step.ok) log->error("nightly: refresh of {} failed: {}", row.name, step.error);
    step.seconds = since(t);
    out.steps.push_back(step);
  }
  out.seconds = since(t0);
  return out;
}

std::string nightly_cron_text(const Settings& s, const fs::path& xoe) {
  // cron hands the command line to /bin/sh: only paths it cannot split or expand.
  for (const auto& p : {xoe, s.root}) {
    bool plain = !p.empty();
    for (char c : p.string())
      plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                        c == '.' || c == '_' || c == '-' || c == '+');
    if (!plain)
      core::fail(core::ErrorKind::invalid, "'{}': a path with characters cron's shell would interpret",
                 core::escape_for_display(p.string()));
  }
  std::string command = xoe.string();
  if (s.root != "/") command += " --root " + s.root.string();
  return "# xoe's nightly job (docs/xoe.md, Nightly): a backup of every service, with the retention,\n"
         "# but each NAME-training of a NAME-production, refreshed from that backup instead.\n"
         "# Written by xoe self-install; the schedule is nightly.schedule.\n"
         "SHELL=/bin/sh\n"
         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" +
         s.nightly_schedule + " root " + command + " -q nightly\n";
}

fs::path install_nightly_cron(const Settings& s) {
  fs::path dir = s.root / "etc/cron.d", file = dir / "oe-xoe";
  std::string text = nightly_cron_text(s, detail::xoe_binary());
  std::error_code ec;
  if (fs::is_regular_file(file, ec) && host::read_file(file) == text) return file;
  host::make_dir(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  // cron reads only files owned by root, not group- or other-writable.
  host::write_file(file, text, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                   fs::perms::others_read);
  return file;
}

}  // namespace xoe
