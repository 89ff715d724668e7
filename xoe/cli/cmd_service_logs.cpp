// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service logs NAME [--lines N] [--follow]
#include <cstdio>

#include "commands.hpp"
#include "xoe/logs.hpp"

namespace xoe::cli {

void add_service_logs(core::cli::Frame& frame, CLI::App& service) {
  struct Options {
    std::string name;
    std::size_t lines = 100;
    bool follow = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      service, "logs", "The last lines of a service's log (svlogd); --follow prints new lines until interrupted",
      core::cli::Effect::reads, [&frame, o] {
        if (o->follow && frame.globals().json)
          throw core::Error(core::ErrorKind::invalid, "service logs: --follow cannot be combined with --json");
        auto s = settings(frame);
        if (o->follow) {
          follow_service_log(
              s, o->name, o->lines,
              [](const std::vector<std::string>& lines) {
                std::string text;
                for (const auto& l : lines) text += l + "\n";
                core::cli::Frame::out(text);
                std::fflush(stdout);
              },
              [] { return true; });
          return core::exit_code::ok;
        }
        ServiceLog log = read_service_log(s, o->name, o->lines);
        if (frame.globals().json) {
          print_answer(parsed(log));
        } else {
          std::string text;
          for (const auto& l : log.lines) text += l + "\n";
          core::cli::Frame::out(text);
        }
        return core::exit_code::ok;
      });
  cmd->add_option("name", o->name, "Service name")->required();
  cmd->add_option("--lines,-n", o->lines, "How many of the last lines (default 100)")->check(CLI::Range(0, 1000000));
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new lines until interrupted (not with --json)");
}

}  // namespace xoe::cli
