// SPDX-License-Identifier: GPL-3.0-or-later
// poe adapt SERIES --onto SOFTWARE/VERSION --output NEWSERIES [--workdir W]
// poe adapt --continue WORKDIR
#include <memory>

#include "commands.hpp"
#include "core/output.hpp"

namespace poe::cli {

nlohmann::json check_json(const CheckReport& report);
std::string check_table(const CheckReport& report);

namespace {

int render(core::cli::Frame& frame, const AdaptResult& result) {
  if (frame.globals().json) {
    nlohmann::json comparison = nlohmann::json::array();
    for (const auto& c : result.comparison)
      comparison.push_back({{"name", c.name}, {"change", c.change}, {"old_patch_id", c.old_patch_id},
                            {"new_patch_id", c.new_patch_id}});
    nlohmann::json doc{{"version", 1},
                       {"complete", result.complete},
                       {"output", result.output.string()},
                       {"workdir", result.complete ? "" : result.workdir.string()},
                       {"dropped", result.dropped},
                       {"edit", result.conflict_files},
                       {"comparison", comparison}};
    if (!result.check.patches.empty()) doc["check"] = check_json(result.check);
    core::cli::Frame::out(doc.dump(2) + "\n");
  } else {
    if (!result.check.patches.empty()) core::cli::Frame::out(check_table(result.check));
    if (result.complete) {
      core::Table table{{"PATCH", "CHANGE", "OLD", "NEW"}, {}};
      for (const auto& c : result.comparison)
        table.rows.push_back({c.name, c.change, c.old_patch_id.substr(0, 12), c.new_patch_id.substr(0, 12)});
      core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
      core::cli::Frame::out("new series: " + result.output.string() + "\n");
    } else {
      core::cli::Frame::out("conflicts to resolve in " + result.workdir.string() + ":\n");
      for (const auto& f : result.conflict_files) core::cli::Frame::out("  " + f + "\n");
      core::cli::Frame::out("edit them (delete a file to drop it), then: poe adapt --continue " + result.workdir.string() +
                            "\n");
    }
  }
  return result.complete ? core::exit_code::ok : core::exit_code::failed;
}

}  // namespace

void add_adapt(core::cli::Frame& frame) {
  struct Options {
    std::string series;
    std::string onto;
    std::string output;
    std::string workdir;
    std::string resume;
    int fuzz = -1;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "adapt", "Write the series for a new standard version; conflicts go to a work folder",
      core::cli::Effect::mutates, [&frame, o] {
        if (!o->resume.empty()) {
          if (!o->series.empty() || !o->onto.empty() || !o->output.empty())
            throw core::Error(core::ErrorKind::invalid, "--continue takes only the work folder");
          Store store = Store::open(store_path(frame), StoreMode::open_existing);
          return render(frame, adapt_continue(store, o->resume));
        }
        if (o->series.empty() || o->onto.empty() || o->output.empty())
          throw core::Error(core::ErrorKind::invalid, "adapt needs SERIES, --onto and --output (or --continue WORKDIR)");
        const int fuzz = o->fuzz >= 0 ? o->fuzz : static_cast<int>(frame.config().get_int("check.fuzz"));
        Store store = open_store_for_input(frame, o->onto);
        return render(frame, adapt_series(store, {o->series, o->onto, o->output, o->workdir, check_options(frame, fuzz)}));
      });
  cmd->add_option("series", o->series, "The series folder");
  cmd->add_option("--onto", o->onto, "The new standard version, SOFTWARE/VERSION");
  cmd->add_option("--output,-o", o->output, "The new series folder (must not exist)");
  cmd->add_option("--workdir", o->workdir, "Where conflicts are written (default: OUTPUT.work)");
  cmd->add_option("--continue", o->resume, "Finish an adapt whose conflicts were edited in this work folder");
  cmd->add_option("--fuzz", o->fuzz, "Context lines a hunk may ignore (0-3; reported)")->check(CLI::Range(0, 3));
}

}  // namespace poe::cli
