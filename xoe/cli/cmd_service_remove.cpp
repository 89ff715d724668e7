// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service remove NAME
#include "commands.hpp"

namespace xoe::cli {

void add_service_remove(core::cli::Frame& frame, CLI::App& service) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = frame.command(
      service, "remove",
      "Remove a service: supervisor entry, processes, database, data, config, log, user and port "
      "(or roll back its unfinished creation)",
      core::cli::Effect::mutates, [&frame, name] {
        Removed r = remove_service(settings(frame), *name);
        if (frame.globals().json)
          core::cli::Frame::out(nlohmann::json{{"version", json_version},
                                               {"removed", r.name},
                                               {"rolled_back", r.rolled_back}}
                                    .dump(2) + "\n");
        else
          core::cli::Frame::out(r.rolled_back ? r.name + ": unfinished creation rolled back\n" : r.name + " removed\n");
        return core::exit_code::ok;
      });
  cmd->add_option("name", *name, "Service name")->required();
}

}  // namespace xoe::cli
