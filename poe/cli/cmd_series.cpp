// SPDX-License-Identifier: GPL-3.0-or-later
// poe series show SERIES
#include <memory>

#include "commands.hpp"
#include "core/output.hpp"

namespace poe::cli {

void add_series(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "series", "Series of differences");
  auto folder = std::make_shared<std::string>();
  CLI::App* cmd = frame.command(*group, "show", "Validate a series and show its patches", core::cli::Effect::reads,
                                [&frame, folder] {
                                  const Series series = read_series(*folder);
                                  if (frame.globals().json) {
                                    nlohmann::json list = nlohmann::json::array();
                                    for (const auto& p : series.patches)
                                      list.push_back({{"name", p.name}, {"patch_id", p.patch_id}, {"files", p.files},
                                                      {"status", status_name(p.status)}, {"binary", p.binary}});
                                    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"base", series.base},
                                                                         {"base_tree", series.base_tree},
                                                                         {"split", series.split}, {"patches", list}}
                                                              .dump(2) +
                                                          "\n");
                                  } else {
                                    core::Table table{{"PATCH", "STATUS", "FILES", "BINARY", "PATCH-ID"}, {}};
                                    for (const auto& p : series.patches)
                                      table.rows.push_back({p.name, std::string(status_name(p.status)),
                                                            std::to_string(p.files.size()), p.binary ? "yes" : "",
                                                            p.patch_id.substr(0, 12)});
                                    core::cli::Frame::out("base: " + series.base + "\n");
                                    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
                                  }
                                  return core::exit_code::ok;
                                });
  cmd->add_option("series", *folder, "The series folder")->required();
}

}  // namespace poe::cli
