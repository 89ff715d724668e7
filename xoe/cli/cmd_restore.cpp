// SPDX-License-Identifier: GPL-3.0-or-later
// xoe restore SERVICE ARCHIVE [--as NEWNAME] [--role ROLE] [--trust]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/backup.hpp"

namespace xoe::cli {

void add_restore(core::cli::Frame& frame) {
  struct Options {
    std::string service, archive;
    std::optional<std::string> as, role;
    bool trust = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "restore",
      "Restore an archive into SERVICE (replacing its database and data) or into a new service (--as); checked first",
      core::cli::Effect::mutates, [&frame, o] {
        RestoreResult r = restore_service(settings(frame), {o->service, o->archive, o->as, o->role,
                                                          o->trust ? ArchiveOrigin::trusted : ArchiveOrigin::this_root});
        if (frame.globals().json) {
          print_answer(r);
        } else {
          std::vector<std::pair<std::string, std::string>> f = {
              {"restored", r.service + (r.created ? " (created)" : "")},
              {"from", r.meta.service + " " + r.meta.software + "/" + r.meta.version + " of " + r.meta.created},
              {"url", r.url},
              {"database", r.database},
              {"role", r.role},
              {"neutralised", r.neutralised ? "yes (no scheduled jobs, mail to the catcher)"
                                            : "no (production: its jobs run, its mail goes out)"},
              {"code", r.code_restored ? "rebuilt with the archive's series" : "as it was"},
              {"seconds", fmt::format("{:.1f}", r.seconds)}};
          if (r.admin_password) f.emplace_back("admin password", *r.admin_password);
          core::cli::Frame::out(core::render_fields(f));
        }
        return core::exit_code::ok;
      });
  cmd->add_option("service", o->service, "Service restored into (created when it does not exist)")->required();
  cmd->add_option("archive", o->archive, "The archive (.tar.zst, with its .sha256 beside it)")->required();
  cmd->add_option("--as", o->as, "Restore into this new service instead");
  cmd->add_option("--role", o->role,
                  "Role of a service the restore creates (default: test, neutralised, under a new name such as --as; "
                  "the archive's under its own name); production only when asked for");
  cmd->add_flag("--trust", o->trust,
                "Accept an archive this root's backup key does not authenticate (made elsewhere: know where it comes from)");
}

}  // namespace xoe::cli
