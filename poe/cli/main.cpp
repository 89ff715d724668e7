// SPDX-License-Identifier: GPL-3.0-or-later
// poe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code.

#include "commands.hpp"
#include "core/cli.hpp"
#include "poe/tool.hpp"

int main(int argc, char** argv) {
  core::cli::Frame frame("poe", "poe: each service's differences from its standard version", poe::config_schema(), poe::legacy_table());
  try {
    core::cli::add_config_commands(frame);
    poe::cli::add_standard(frame);
    poe::cli::add_diff(frame);
    poe::cli::add_check(frame);
    poe::cli::add_adapt(frame);
    poe::cli::add_apply(frame);
    poe::cli::add_series(frame);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return frame.report(error);
  } catch (const std::exception& error) {
    return frame.report(core::Error(core::ErrorKind::internal, error.what()));
  }
}
