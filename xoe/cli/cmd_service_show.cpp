// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service show NAME
#include "commands.hpp"
#include "core/output.hpp"

namespace xoe::cli {

void print_service(core::cli::Frame& frame, const ServiceInfo& s) {
  if (frame.globals().json) {
    print_answer(s);
    return;
  }
  std::string modules;
  for (const auto& m : s.modules) modules += (modules.empty() ? "" : ",") + m;
  core::cli::Frame::out(core::render_fields({
      {"name", s.name},
      {"software", s.software + "/" + s.version},
      {"role", s.role},
      {"state", s.state + (s.pid ? fmt::format(" (pid {}, {} s)", *s.pid, s.seconds) : std::string{})},
      {"supervisor", s.supervisor.empty() ? "(none)" : s.supervisor},
      {"url", s.url},
      {"database", s.database + " (" + s.backend + ")"},
      {"port", std::to_string(s.port)},
      {"user", s.user},
      {"admin login", s.admin_login},
      {"modules", modules.empty() ? "(base)" : modules},
  }));
}

void add_service_show(core::cli::Frame& frame, CLI::App& service) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = frame.command(service, "show", "One service in detail", core::cli::Effect::reads, [&frame, name] {
    print_service(frame, show_service(settings(frame), *name));
    return core::exit_code::ok;
  });
  cmd->add_option("name", *name, "Service name")->required();
}

}  // namespace xoe::cli
