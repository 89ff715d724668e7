// SPDX-License-Identifier: GPL-3.0-or-later
// poe diff --standard SOFTWARE/VERSION DIR --output SERIES [--split module|file]
#include <memory>

#include "commands.hpp"
#include "core/output.hpp"

namespace poe::cli {

void add_diff(core::cli::Frame& frame) {
  struct Options {
    std::string standard;
    std::string dir;
    std::string output;
    std::string split = "module";
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "diff", "Write the series of differences between a customised tree and its standard",
      core::cli::Effect::mutates, [&frame, o] {
        DiffRequest request;
        request.standard = o->standard;
        request.tree = o->dir;
        request.output = o->output;
        request.split = o->split == "file" ? Split::file : Split::module;
        request.tree_options = tree_options(frame);
        request.module_roots = frame.config().get_list("diff.module_roots");
        Store store = open_store_for_input(frame, o->standard);
        const Series series = make_series(store, request);
        if (frame.globals().json) {
          nlohmann::json list = nlohmann::json::array();
          for (const auto& p : series.patches)
            list.push_back({{"name", p.name}, {"patch_id", p.patch_id}, {"files", p.files}, {"binary", p.binary}});
          core::cli::Frame::out(nlohmann::json{{"version", 1}, {"series", series.folder.string()}, {"base", series.base},
                                               {"patches", list}}
                                    .dump(2) +
                                "\n");
        } else {
          core::Table table{{"PATCH", "FILES", "BINARY"}, {}};
          for (const auto& p : series.patches)
            table.rows.push_back({p.name, std::to_string(p.files.size()), p.binary ? "yes" : ""});
          core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
          core::cli::Frame::out(fmt::format("{} patches against {} in {}\n", series.patches.size(), series.base,
                                            series.folder.string()));
        }
        return core::exit_code::ok;
      });
  cmd->add_option("--standard", o->standard, "The standard version, SOFTWARE/VERSION")->required();
  cmd->add_option("dir", o->dir, "The customised tree (never written into)")->required();
  cmd->add_option("--output,-o", o->output, "The series folder to create (must not exist)")->required();
  cmd->add_option("--split", o->split, "One patch per module (default) or per file")
      ->check(CLI::IsMember({"module", "file"}));
}

}  // namespace poe::cli
