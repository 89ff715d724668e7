// SPDX-License-Identifier: GPL-3.0-or-later
// hoe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code.

#include "core/cli.hpp"
#include "hoe/tool.hpp"

int main(int argc, char** argv) {
  core::cli::Frame frame("hoe", "hoe: hosting contracts: customers, subscriptions, dates, usage, mails", hoe::config_schema(), hoe::legacy_table());
  try {
    core::cli::add_config_commands(frame);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return frame.report(error);
  } catch (const std::exception& error) {
    return frame.report(core::Error(core::ErrorKind::internal, error.what()));
  }
}
