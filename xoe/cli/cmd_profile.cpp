// SPDX-License-Identifier: GPL-3.0-or-later
// xoe profile apply vds --software S --version V --name NAME [--db-backend B] [--modules M,...]
// xoe profile apply acs --name SCHOOL [--software S] [--versions V1,V2,V3] [--db-backend B] [--modules M,...]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/profile.hpp"

namespace xoe::cli {

void add_profile(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "profile", "Sets of services created together");
  auto rq = std::make_shared<ProfileRequest>();
  CLI::App* apply = frame.command(
      *group, "apply", "Create the services of a profile (vds: NAME-production, NAME-training, NAME-test; acs: the same three "
      "for each of three versions, NAME-V-production, ...)",
      core::cli::Effect::mutates, [&frame, rq] {
        ProfileResult r = apply_profile(settings(frame), *rq);
        if (frame.globals().json) {
          print_answer(r);
        } else {
          core::Table t{{"SERVICE", "ROLE", "URL", "LOGIN", "PASSWORD"}, {}};
          for (const auto& ps : r.services)
            t.rows.push_back({ps.service.name, ps.service.role, ps.service.url, ps.service.admin_login,
                              ps.admin_password.value_or("(set before)")});
          core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
        }
        return core::exit_code::ok;
      });
  apply->add_option("profile", rq->profile, "The profile: vds or acs")->required();
  apply->add_option("--name", rq->name, "The customer (lower-cased: ACME -> acme-production, ...)")->required();
  apply->add_option("--software", rq->software, "tryton or odoo (acs: default profile.acs_software)");
  apply->add_option("--version", rq->version, "vds: the software's version, e.g. 7.0");
  apply->add_option("--versions", rq->versions, "acs: three versions (default profile.acs_versions)")->delimiter(',');
  apply->add_option("--db-backend", rq->backend, "postgresql or sqlite (default: database.backend)");
  apply->add_option("--modules", rq->modules, "Modules to activate, comma-separated")->delimiter(',');
}

}  // namespace xoe::cli
