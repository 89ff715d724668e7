// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service start|stop|restart|status NAME: through the supervisor (runit).
#include "commands.hpp"

namespace xoe::cli {

void print_service(core::cli::Frame& frame, const ServiceInfo& s);

void add_service_control(core::cli::Frame& frame, CLI::App& service) {
  struct Verb {
    const char* name;
    const char* help;
    core::cli::Effect effect;
    ServiceInfo (*act)(const Settings&, const std::string&);
  };
  static const Verb verbs[] = {
      {"start", "Start a service and wait until it answers", core::cli::Effect::mutates, &start_service},
      {"stop", "Stop a service (it stays down until started)", core::cli::Effect::mutates, &stop_service},
      {"restart", "Stop and start a service", core::cli::Effect::mutates, &restart_service},
      {"status", "A service's state as the supervisor reports it", core::cli::Effect::reads, &show_service},
  };
  for (const auto& v : verbs) {
    auto name = std::make_shared<std::string>();
    CLI::App* cmd = frame.command(service, v.name, v.help, v.effect, [&frame, name, act = v.act] {
      print_service(frame, act(settings(frame), *name));
      return core::exit_code::ok;
    });
    cmd->add_option("name", *name, "Service name")->required();
  }
}

}  // namespace xoe::cli
