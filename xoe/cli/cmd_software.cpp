// SPDX-License-Identifier: GPL-3.0-or-later
// xoe software list|fetch|remove|deps
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/software.hpp"

namespace xoe::cli {

void add_software(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "software", "The software versions xoe can run (recipes) and their code");

  frame.command(*group, "list", "Every software version with a recipe, and whether its code is fetched",
                core::cli::Effect::reads, [&frame] {
                  auto all = list_software(settings(frame));
                  if (frame.globals().json) {
                    print_answer(all);
                  } else {
                    core::Table t{{"SOFTWARE", "VERSION", "SOURCE", "FETCHED", "PATH"}, {}};
                    for (const auto& i : all)
                      t.rows.push_back({i.software, i.version, i.source, i.fetched ? "yes" : "no", i.path.string()});
                    core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
                  }
                  return core::exit_code::ok;
                });

  auto ref = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  auto refresh = std::make_shared<bool>(false);
  CLI::App* fetch = frame.command(*group, "fetch", "Fetch the code of SOFTWARE/VERSION as its recipe says",
                                  core::cli::Effect::mutates, [&frame, ref, source, refresh] {
                                    auto r = fetch_software(settings(frame),
                                                            {core::parse_software_ref(*ref, "software"), *source,
                                                             *refresh});
                                    if (frame.globals().json) {
                                      print_answer(r);
                                    } else {
                                      core::cli::Frame::out(fmt::format("{}/{} {} in {}\n", r.info.software,
                                                                        r.info.version,
                                                                        r.already     ? "was fetched already"
                                                                        : r.refreshed ? "fetched again"
                                                                                      : "fetched",
                                                                        r.info.path.string()));
                                    }
                                    return core::exit_code::ok;
                                  });
  fetch->add_option("ref", *ref, "SOFTWARE/VERSION, e.g. tryton/7.0")->required();
  fetch->add_option("--source", *source, "Odoo: a source tree (folder holding odoo-bin) or a git URL");
  fetch->add_flag("--refresh", *refresh,
                  "Fetch a version fetched already again, as its recipe says now (a recipe that gained packages)");

  auto rm_ref = std::make_shared<std::string>();
  CLI::App* rm = frame.command(*group, "remove", "Remove the fetched code of SOFTWARE/VERSION (no service may use it)",
                               core::cli::Effect::mutates, [&frame, rm_ref] {
                                 auto r = core::parse_software_ref(*rm_ref, "software");
                                 remove_software(settings(frame), r);
                                 if (frame.globals().json)
                                   print_answer(SoftwareRemoved{r.software, r.version});
                                 else
                                   core::cli::Frame::out(fmt::format("{}/{} removed\n", r.software, r.version));
                                 return core::exit_code::ok;
                               });
  rm->add_option("ref", *rm_ref, "SOFTWARE/VERSION")->required();

  auto deps_ref = std::make_shared<std::string>();
  auto check_only = std::make_shared<bool>(false);
  CLI::App* deps = frame.command(*group, "deps", "Install the Debian packages SOFTWARE/VERSION needs on this host",
                                 core::cli::Effect::mutates, [&frame, deps_ref, check_only] {
                                   auto r = core::parse_software_ref(*deps_ref, "software");
                                   auto s = settings(frame);
                                   DepsPlan plan = *check_only ? check_deps(s, r) : install_deps(s, r);
                                   if (frame.globals().json) {
                                     print_answer(DepsResult{plan.present, plan.missing, !*check_only});
                                   } else {
                                     std::string text;
                                     for (const auto& p : plan.missing)
                                       text += (*check_only ? "missing: " : "installed: ") + p + "\n";
                                     text += fmt::format("{} package(s) already present\n", plan.present.size());
                                     core::cli::Frame::out(text);
                                   }
                                   return (*check_only && !plan.missing.empty()) ? core::exit_code::precondition
                                                                                 : core::exit_code::ok;
                                 });
  deps->add_option("ref", *deps_ref, "SOFTWARE/VERSION")->required();
  deps->add_flag("--check", *check_only, "Only report what is missing (exit 6 when something is)");
}

}  // namespace xoe::cli
