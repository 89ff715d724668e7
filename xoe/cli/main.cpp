// SPDX-License-Identifier: GPL-3.0-or-later
// xoe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code.

#include "commands.hpp"
#include "core/cli.hpp"
#include "xoe/tool.hpp"

namespace xoe::cli {

Settings settings(core::cli::Frame& frame) { return make_settings(frame.paths(), frame.config()); }

namespace {

// With --json (parsed, or on a command line that failed to parse), the
// error answer on stdout; always the one line on stderr and the exit code
// of the error's kind.
int report(core::cli::Frame& frame, const core::Error& error, int argc, char** argv) {
  bool json = frame.globals().json;
  for (int i = 1; i < argc && !json; ++i) json = std::string_view(argv[i]) == "--json";
  if (json) core::cli::Frame::out(wire::render(wire::error_answer(error)));
  return frame.report(error);
}

}  // namespace

}  // namespace xoe::cli

int main(int argc, char** argv) {
  // The child that reads and writes a service's SQLite files as its user
  // (sqlite_file.hpp): before the frame, which would read config and log.
  if (auto status = xoe::run_internal_child(argc, argv)) return *status;
  core::cli::Frame frame("xoe", "xoe: the Tryton and Odoo services of one host", xoe::config_schema(), xoe::legacy_table());
  try {
    core::cli::add_config_commands(frame);
    xoe::cli::add_software(frame);
    CLI::App* service = frame.group(frame.app(), "service", "Create, run, show and remove services");
    xoe::cli::add_service_create(frame, *service);
    xoe::cli::add_service_list(frame, *service);
    xoe::cli::add_service_show(frame, *service);
    xoe::cli::add_service_control(frame, *service);
    xoe::cli::add_service_remove(frame, *service);
    xoe::cli::add_service_update(frame, *service);
    xoe::cli::add_service_logs(frame, *service);
    xoe::cli::add_service_config(frame, *service);
    xoe::cli::add_backup(frame);
    xoe::cli::add_restore(frame);
    xoe::cli::add_db(frame);
    xoe::cli::add_training(frame);
    xoe::cli::add_nightly(frame);
    xoe::cli::add_profile(frame);
    xoe::cli::add_monitor(frame);
    xoe::cli::add_students(frame);
    xoe::cli::add_self(frame);
    xoe::cli::add_supervisor(frame);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return xoe::cli::report(frame, error, argc, argv);
  } catch (const std::exception& error) {
    return xoe::cli::report(frame, core::Error(core::ErrorKind::internal, error.what()), argc, argv);
  }
}
