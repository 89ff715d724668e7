// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service list
#include "commands.hpp"
#include "core/output.hpp"

namespace xoe::cli {

void add_service_list(core::cli::Frame& frame, CLI::App& service) {
  frame.command(service, "list", "The services of this host and their state", core::cli::Effect::reads, [&frame] {
    auto all = list_services(settings(frame));
    if (frame.globals().json) {
      std::vector<ServiceSummary> list;
      for (const auto& s : all) list.push_back(summary(s));
      print_answer(list);
    } else {
      auto colour = core::stdout_colour();
      core::Table t{{"NAME", "SOFTWARE", "VERSION", "ROLE", "STATE", "URL"}, {}};
      for (const auto& s : all)
        t.rows.push_back({s.name, s.software, s.version, s.role,
                          core::paint_status(s.state, colour), s.url});
      core::cli::Frame::out(core::render_table(t, colour));
    }
    return core::exit_code::ok;
  });
}

}  // namespace xoe::cli
