// SPDX-License-Identifier: GPL-3.0-or-later
// cloe template build|list|show|remove
#include <nlohmann/json.hpp>

#include "cloe/template.hpp"
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {

namespace {

nlohmann::json template_json(const TemplateInfo& t) {
  return {{"name", t.name},         {"suite", t.suite},       {"packages", t.packages}, {"mirror", t.mirror},
          {"inputs", t.inputs},     {"checksum", t.checksum}, {"bytes", t.bytes},       {"root", t.root.string()},
          {"built_at", t.built_at}, {"xoe", t.xoe},           {"software", t.software}};
}

void print_template(core::cli::Frame& frame, const TemplateInfo& t) {
  std::string packages, software;
  for (const auto& p : t.packages) packages += (packages.empty() ? "" : ",") + p;
  for (const auto& w : t.software) software += (software.empty() ? "" : ",") + w;
  core::cli::Frame::out(core::render_fields({{"name", t.name},
                                             {"suite", t.suite},
                                             {"packages", packages},
                                             {"size", std::to_string(t.bytes >> 20) + " MB"},
                                             {"checksum", t.checksum},
                                             {"built", t.built_at},
                                             {"xoe", t.xoe.empty() ? "none" : t.xoe},
                                             {"software", software.empty() ? "none" : software},
                                             {"root", t.root.string()}}));
  (void)frame;
}

}  // namespace

void add_template(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "template", "Build, list and remove vserver templates");

  auto req = std::make_shared<TemplateBuildRequest>();
  auto packages = std::make_shared<std::vector<std::string>>();
  auto mirror = std::make_shared<std::string>();
  auto repository = std::make_shared<std::string>();
  CLI::App* build = frame.command(*group, "build", "Build a template: Debian with runit as init (debootstrap)",
                                  core::cli::Effect::mutates, [&frame, req, packages, mirror, repository] {
                                    req->packages = *packages;
                                    if (!repository->empty()) req->repository = *repository;
                                    if (!mirror->empty()) req->mirror = *mirror;
                                    if (auto c = frame.config().get_string("template.deb_cache"); !c.empty())
                                      req->deb_cache = c;
                                    auto r = build_template(frame.paths(), *req);
                                    if (frame.globals().json) {
                                      core::cli::Frame::out(nlohmann::json{{"version", 1},
                                                                           {"template", template_json(r.info)},
                                                                           {"built", r.built},
                                                                           {"seconds", r.seconds}}
                                                                .dump(2) +
                                                            "\n");
                                    } else {
                                      core::cli::Frame::out(fmt::format(
                                          "template {} {} in {:.1f} s ({} MB, checksum {})\n", r.info.name,
                                          r.built ? "built" : "unchanged", r.seconds, r.info.bytes >> 20,
                                          r.info.checksum.substr(0, 16)));
                                    }
                                    return core::exit_code::ok;
                                  });
  build->add_option("name", req->name, "Template name (an RFC 1123 label)")->required();
  build->add_option("--suite", req->suite, "Debian suite")->capture_default_str();
  build->add_option("--packages", *packages, "More Debian packages, comma-separated")->delimiter(',');
  build->add_option("--mirror", *mirror, "Debian archive URI (default: this host's apt sources)");
  build->add_option("--repository", *repository,
                    "A flat repository of the suite's packages (oe-apt-repo): oe-xoe is installed inside");
  build->add_option("--software", req->software,
                    "Software versions whose code xoe fetches inside (with its host packages), comma-separated: "
                    "tryton/7.0")
      ->delimiter(',');
  build->add_flag("--force", req->force, "Build again even when nothing changed");

  frame.command(*group, "list", "The templates", core::cli::Effect::reads, [&frame] {
    auto all = list_templates(frame.paths());
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& t : all) list.push_back(template_json(t));
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"templates", list}}.dump(2) + "\n");
      return core::exit_code::ok;
    }
    core::Table table{{"NAME", "SUITE", "SIZE", "BUILT", "CHECKSUM"}, {}};
    for (const auto& t : all)
      table.rows.push_back({t.name, t.suite, std::to_string(t.bytes >> 20) + " MB", t.built_at, t.checksum.substr(0, 16)});
    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
    return core::exit_code::ok;
  });

  auto name = std::make_shared<std::string>();
  auto verify = std::make_shared<bool>(false);
  CLI::App* show = frame.command(*group, "show", "One template; --verify checks its tree", core::cli::Effect::reads,
                                 [&frame, name, verify] {
                                   auto t = find_template(frame.paths(), *name);
                                   bool intact = !*verify || template_checksum(t.root) == t.checksum;
                                   if (frame.globals().json) {
                                     auto j = nlohmann::json{{"version", 1}, {"template", template_json(t)}};
                                     if (*verify) j["intact"] = intact;
                                     core::cli::Frame::out(j.dump(2) + "\n");
                                   } else {
                                     print_template(frame, t);
                                     if (*verify) core::cli::Frame::out(intact ? "tree: intact\n" : "tree: CHANGED\n");
                                   }
                                   if (!intact)
                                     throw core::Error(core::ErrorKind::failed,
                                                       "template " + t.name + ": its tree no longer has its checksum");
                                   return core::exit_code::ok;
                                 });
  show->add_option("name", *name, "Template name")->required();
  show->add_flag("--verify", *verify, "Recompute the tree's checksum (exit 1 when it changed)");

  auto rname = std::make_shared<std::string>();
  CLI::App* remove = frame.command(*group, "remove", "Remove a template", core::cli::Effect::mutates, [&frame, rname] {
    remove_template(frame.paths(), *rname);
    if (frame.globals().json)
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"removed", {{"template", *rname}}}}.dump(2) + "\n");
    return core::exit_code::ok;
  });
  remove->add_option("name", *rname, "Template name")->required();
}

}  // namespace cloe::cli
