// SPDX-License-Identifier: GPL-3.0-or-later
// poe check SERIES --onto SOFTWARE/VERSION [--fuzz N]
#include <memory>

#include "commands.hpp"
#include "core/output.hpp"

namespace poe::cli {

nlohmann::json check_json(const CheckReport& report) {
  nlohmann::json patches = nlohmann::json::array();
  for (const auto& p : report.patches) {
    nlohmann::json conflicts = nlohmann::json::array();
    for (const auto& c : p.conflicts) conflicts.push_back({{"file", c.file}, {"lines", c.lines}});
    nlohmann::json details = nlohmann::json::array();
    for (const auto& d : p.details)
      details.push_back({{"file", d.file}, {"onto", d.onto}, {"status", status_name(d.status)}, {"offset", d.offset},
                         {"fuzz", d.fuzz}});
    patches.push_back({{"name", p.name},
                       {"status", status_name(p.status)},
                       {"files", p.files},
                       {"conflicts", conflicts},
                       {"fuzz", p.fuzz},
                       {"upstream_by_patch_id", p.upstream_by_patch_id},
                       {"details", details}});
  }
  return {{"version", 1}, {"base", report.base}, {"onto", report.onto}, {"patches", patches}};
}

std::string check_table(const CheckReport& report) {
  auto colour = core::stdout_colour();
  core::Table table{{"PATCH", "STATUS", "FILES", "DETAIL"}, {}};
  for (const auto& p : report.patches) {
    std::string detail;
    for (const auto& c : p.conflicts) detail += (detail.empty() ? "" : ", ") + c.file + ":" + c.lines;
    for (const auto& d : p.details)
      if (d.onto != d.file) detail += (detail.empty() ? "" : ", ") + d.file + " -> " + d.onto;
    if (p.fuzz > 0) detail += (detail.empty() ? "" : ", ") + std::string("fuzz ") + std::to_string(p.fuzz);
    std::string status(status_name(p.status));
    const std::string painted = core::paint_status(
        p.status == PatchStatus::conflict ? "fail" : (p.status == PatchStatus::removed || p.status == PatchStatus::merges ? "warn" : "ok"),
        colour);
    (void)painted;
    table.rows.push_back({p.name, status, std::to_string(p.files.size()), detail});
  }
  return core::render_table(table, colour);
}

void add_check(core::cli::Frame& frame) {
  struct Options {
    std::string series;
    std::string onto;
    int fuzz = -1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "check", "Validate every patch of a series against a new standard version (exit 1 on a conflict)",
      core::cli::Effect::reads, [&frame, o] {
        const int fuzz = o->fuzz >= 0 ? o->fuzz : static_cast<int>(frame.config().get_int("check.fuzz"));
        Store store = open_store_for_input(frame, o->onto);
        const CheckReport report = check_series(store, o->series, o->onto, check_options(frame, fuzz));
        core::cli::Frame::out(frame.globals().json ? check_json(report).dump(2) + "\n" : check_table(report));
        return report.has_conflict() ? core::exit_code::failed : core::exit_code::ok;
      });
  cmd->add_option("series", o->series, "The series folder")->required();
  cmd->add_option("--onto", o->onto, "The new standard version, SOFTWARE/VERSION")->required();
  cmd->add_option("--fuzz", o->fuzz, "Context lines a hunk may ignore (0-3; reported)")->check(CLI::Range(0, 3));
}

}  // namespace poe::cli
