// SPDX-License-Identifier: GPL-3.0-or-later
// xoe self-install [SOFTWARE/VERSION...] [--check]
// xoe self-update PACKAGE.deb
#include "commands.hpp"
#include "core/output.hpp"
#include "core/validate.hpp"
#include "xoe/nightly.hpp"
#include "xoe/self.hpp"

namespace xoe::cli {

void add_self(core::cli::Frame& frame) {
  auto check = std::make_shared<bool>(false);
  auto refs = std::make_shared<std::vector<std::string>>();
  CLI::App* install = frame.command(
      frame.app(), "self-install", "Install the Debian packages xoe and every recipe need on this host",
      core::cli::Effect::mutates, [&frame, check, refs] {
        auto s = settings(frame);
        std::vector<core::SoftwareRef> parsed;
        for (const auto& r : *refs) parsed.push_back(core::parse_software_ref(r, "software"));
        DepsPlan plan = *check ? check_self(s, parsed) : self_install(s, parsed);
        // The nightly job's cron file (docs/xoe.md, Nightly).
        std::optional<std::filesystem::path> cron;
        if (!*check) cron = install_nightly_cron(s);
        if (frame.globals().json) {
          print_answer(SelfInstallResult{plan.present, plan.missing,
                                         *check ? std::vector<std::string>{} : plan.missing, cron});
        } else {
          std::string missing;
          for (const auto& p : plan.missing) missing += (missing.empty() ? "" : " ") + p;
          core::cli::Frame::out(core::render_fields({
              {"present", std::to_string(plan.present.size()) + " packages"},
              {*check ? "missing" : "installed", missing.empty() ? "-" : missing},
              {"nightly cron file", cron ? cron->string() : "-"},
          }));
        }
        return *check && !plan.missing.empty() ? core::exit_code::precondition : core::exit_code::ok;
      });
  install->add_option("software", *refs, "Only these recipes, e.g. tryton/7.0 (default: every recipe)");
  install->add_flag("--check", *check, "Only report what is missing (exit 6 when something is)");

  auto deb = std::make_shared<std::string>();
  CLI::App* update = frame.command(
      frame.app(), "self-update", "Install a newer package file of the suite (the .deb CPack builds)",
      core::cli::Effect::mutates, [&frame, deb] {
        SelfUpdate u = self_update(settings(frame), *deb);
        if (frame.globals().json) {
          print_answer(u);
        } else {
          core::cli::Frame::out(core::render_fields({{"package", suite_package},
                                                     {"from", u.from_version.empty() ? "-" : u.from_version},
                                                     {"to", u.to_version}}));
        }
        return core::exit_code::ok;
      });
  update->add_option("package", *deb, "The suite's .deb file")->required();
}

}  // namespace xoe::cli
