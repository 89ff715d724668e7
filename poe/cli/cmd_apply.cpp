// SPDX-License-Identifier: GPL-3.0-or-later
// poe apply SERIES [--standard SOFTWARE/VERSION] (--output DIR | --in-place DIR)
#include <memory>

#include "commands.hpp"

namespace poe::cli {

void add_apply(core::cli::Frame& frame) {
  struct Options {
    std::string series;
    std::string standard;
    std::string output;
    std::string in_place;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "apply", "Build standard + series into a new folder, or onto a copy of the standard (atomic)",
      core::cli::Effect::mutates, [&frame, o] {
        ApplyRequest request;
        request.series = o->series;
        request.standard = o->standard;
        if (!o->output.empty()) request.output = o->output;
        if (!o->in_place.empty()) request.in_place = o->in_place;
        request.tree_options = tree_options(frame);
        Store store = open_store_for_input(frame, o->standard.empty() ? std::string("of the series") : o->standard);
        const ApplyResult result = apply_series(store, request);
        if (frame.globals().json)
          core::cli::Frame::out(nlohmann::json{{"version", 1}, {"target", result.target.string()},
                                               {"patches", result.patches}, {"files", result.files_changed}}
                                    .dump(2) +
                                "\n");
        else
          core::cli::Frame::out(fmt::format("applied {} patches ({} files) into {}\n", result.patches,
                                            result.files_changed, result.target.string()));
        return core::exit_code::ok;
      });
  cmd->add_option("series", o->series, "The series folder")->required();
  cmd->add_option("--standard", o->standard, "The standard to apply onto (default: the series' base)");
  auto* out = cmd->add_option("--output,-o", o->output, "A new folder to create");
  auto* in = cmd->add_option("--in-place", o->in_place, "An existing copy of the standard to change");
  out->excludes(in);
}

}  // namespace poe::cli
