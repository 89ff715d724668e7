// SPDX-License-Identifier: GPL-3.0-or-later
// goe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code.

#include "commands.hpp"
#include "core/cli.hpp"
#include "goe/tool.hpp"

int main(int argc, char** argv) {
  core::cli::Frame frame("goe", "goe: a web panel over xoe", goe::config_schema(), goe::legacy_table());
  try {
    core::cli::add_config_commands(frame);
    goe::cli::add_serve(frame);
    goe::cli::add_user(frame);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return frame.report(error);
  } catch (const std::exception& error) {
    return frame.report(core::Error(core::ErrorKind::internal, error.what()));
  }
}
