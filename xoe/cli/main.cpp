// SPDX-License-Identifier: GPL-3.0-or-later
// xoe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code.

#include "core/cli.hpp"
#include "xoe/tool.hpp"

int main(int argc, char** argv) {
  core::cli::Frame frame("xoe", "xoe: the Tryton and Odoo services of one host", xoe::config_schema(), xoe::legacy_table());
  try {
    core::cli::add_config_commands(frame);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return frame.report(error);
  } catch (const std::exception& error) {
    return frame.report(core::Error(core::ErrorKind::internal, error.what()));
  }
}
