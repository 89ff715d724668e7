// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service config show NAME | set NAME KEY=VALUE... | unset NAME KEY...
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/service_config.hpp"

namespace xoe::cli {

namespace {

int print_config(core::cli::Frame& frame, const ServiceConfig& c, bool changing) {
  if (frame.globals().json) {
    print_answer(c);
    return core::exit_code::ok;
  }
  core::Table t{{"KEY", "VALUE", "ORIGIN", "WHAT"}, {}};
  for (const auto& e : c.settings)
    t.rows.push_back({e.key, e.value, e.origin + (e.updated.empty() ? "" : " " + e.updated), e.help});
  std::string text = core::render_table(t, core::stdout_colour());
  if (changing) {
    std::string keys;
    for (const auto& k : c.changed) keys += (keys.empty() ? "" : ", ") + k;
    text += keys.empty() ? "nothing changed\n"
                         : "changed: " + keys + (c.restarted ? " (restarted, answering)" : " (not running)") + "\n";
  }
  core::cli::Frame::out(text);
  return core::exit_code::ok;
}

}  // namespace

void add_service_config(core::cli::Frame& frame, CLI::App& service) {
  CLI::App* group = frame.group(service, "config", "Per-service settings kept across re-renderings of the config");

  auto show_name = std::make_shared<std::string>();
  CLI::App* show = frame.command(*group, "show", "Every key of the service with its value and origin",
                                 core::cli::Effect::reads, [&frame, show_name] {
                                   return print_config(frame, show_service_config(settings(frame), *show_name), false);
                                 });
  show->add_option("name", *show_name, "Service name")->required();

  auto set = std::make_shared<ConfigChange>();
  CLI::App* set_cmd = frame.command(
      *group, "set", "Set keys (checked first; a running service is restarted and must answer again)",
      core::cli::Effect::mutates,
      [&frame, set] { return print_config(frame, change_service_config(settings(frame), *set), true); });
  set_cmd->add_option("name", set->service, "Service name")->required();
  set_cmd->add_option("assignments", set->assignments, "KEY=VALUE ... (xoe service config show NAME lists the keys)")
      ->required();

  auto unset = std::make_shared<ConfigChange>();
  CLI::App* unset_cmd = frame.command(
      *group, "unset", "Put keys back to the server's default (a running service is restarted)",
      core::cli::Effect::mutates,
      [&frame, unset] { return print_config(frame, change_service_config(settings(frame), *unset), true); });
  unset_cmd->add_option("name", unset->service, "Service name")->required();
  unset_cmd->add_option("keys", unset->unset, "KEY ...")->required();
}

}  // namespace xoe::cli
