// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service create NAME --software S --version V [--role R] [--db-backend B] [--modules M,...] [--port P]
//                   [--patches SERIES] [--dry-run]
#include "commands.hpp"
#include "core/output.hpp"
#include "core/validate.hpp"

namespace xoe::cli {

namespace {

struct Options {
  CreateRequest request;
  std::string modules;
  std::string port;
  std::string patches;
  bool dry_run = false;
};

}  // namespace

void add_service_create(core::cli::Frame& frame, CLI::App& service) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      service, "create", "Create and start a service; prints its URL and admin password once",
      core::cli::Effect::mutates, [&frame, o] {
        CreateRequest rq = o->request;
        std::string csv = o->modules;
        for (std::size_t i = 0; i <= csv.size();) {
          auto j = csv.find(',', i);
          std::string m = csv.substr(i, j == std::string::npos ? std::string::npos : j - i);
          if (!m.empty()) rq.modules.push_back(m);
          if (j == std::string::npos) break;
          i = j + 1;
        }
        if (!o->port.empty()) rq.port = core::parse_port(o->port, "--port");
        if (!o->patches.empty()) rq.patches = std::filesystem::absolute(o->patches);
        auto s = settings(frame);
        if (o->dry_run) {
          CreatePlan plan = plan_create(s, rq);
          if (frame.globals().json) {
            print_answer(plan);
          } else {
            core::cli::Frame::out(core::render_fields({
                {"service", plan.service.name},
                {"software", plan.service.software + "/" + plan.service.version},
                {"role", plan.service.role},
                {"backend", plan.service.backend},
                {"database", plan.service.database},
                {"port", std::to_string(plan.service.port)},
                {"user", plan.service.user},
                {"template", plan.template_name + (plan.template_exists ? " (kept)" : " (to build)")},
                {"resume", plan.resume ? "yes" : "no"},
            }));
          }
          return core::exit_code::ok;
        }
        Created c = create_service(s, rq);
        if (frame.globals().json) {
          print_answer(c);
        } else {
          core::cli::Frame::out(core::render_fields({
              {"service", c.service.name},
              {"software", c.service.software + "/" + c.service.version},
              {"role", c.service.role},
              {"url", c.service.url},
              {"database", c.service.database + " (" + c.service.backend + ")"},
              {"admin login", c.service.admin_login},
              {"admin password", c.admin_password + "  (shown once)"},
          }));
        }
        return core::exit_code::ok;
      });
  cmd->add_option("name", o->request.name, "Service name (a DNS label)")->required();
  cmd->add_option("--software", o->request.software, "tryton or odoo")->required();
  cmd->add_option("--version", o->request.version, "Software version, e.g. 7.0")->required();
  cmd->add_option("--role", o->request.role, "production, training, test or student")->capture_default_str();
  cmd->add_option("--db-backend", o->request.backend, "postgresql or sqlite (default: database.backend)");
  cmd->add_option("--modules", o->modules, "Modules to activate, comma-separated (default: the base ones)");
  cmd->add_option("--port", o->port, "Port (default: the first free one of services.port_min..port_max)");
  cmd->add_option("--patches", o->patches, "A poe series applied to the service's own copy of the code");
  cmd->add_flag("--dry-run", o->dry_run, "Check and print the plan; change nothing");
}

}  // namespace xoe::cli
