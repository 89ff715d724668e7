// SPDX-License-Identifier: GPL-3.0-or-later
// cloe xoe VSERVER -- ARGS...; cloe service list|show|start|stop|create|profile; cloe locate NAME
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cloe/service.hpp"
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {
namespace {

nlohmann::json service_json(const ServiceEntry& e) {
  return {{"cluster", e.cluster}, {"node", e.node},         {"vserver", e.vserver}, {"ip", e.ip},
          {"name", e.name},       {"software", e.software}, {"version", e.version}, {"role", e.role},
          {"state", e.state},     {"port", e.port},         {"url", e.url}};
}

nlohmann::json problems_json(const std::vector<VserverProblem>& all) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : all) arr.push_back({{"vserver", p.vserver}, {"kind", p.kind}, {"message", p.message}});
  return arr;
}

void print_problems(const std::vector<VserverProblem>& all) {
  for (const auto& p : all) std::cerr << "cloe: " << p.message << "\n";  // the message names the vserver
}

void print_service(core::cli::Frame& frame, const ServiceEntry& e) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"service", service_json(e)}}.dump(2) + "\n");
    return;
  }
  core::cli::Frame::out(core::render_fields({{"name", e.name},
                                             {"vserver", e.vserver + " on node " + e.node},
                                             {"software", e.software + " " + e.version},
                                             {"role", e.role},
                                             {"state", e.state},
                                             {"url", e.url}}));
}

void print_created(core::cli::Frame& frame, const std::vector<ServiceCreated>& all) {
  if (frame.globals().json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : all) {
      nlohmann::json j = service_json(c.service);
      j["admin_login"] = c.admin_login;
      if (!c.admin_password.empty()) j["admin_password"] = c.admin_password;
      j["resumed"] = c.resumed;
      arr.push_back(j);
    }
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"services", arr}}.dump(2) + "\n");
    return;
  }
  for (const auto& c : all)
    core::cli::Frame::out(fmt::format("{} {} {} at {} login {} password {}\n", c.service.name, c.service.software,
                                      c.service.version, c.service.url, c.admin_login,
                                      c.admin_password.empty() ? "(unchanged)" : c.admin_password));
}

}  // namespace

void add_service(core::cli::Frame& frame, const ClusterOption& cluster) {
  // cloe xoe VSERVER -- ARGS...: xoe inside, its output and exit code as they are.
  struct XoeOptions {
    std::string vserver;
    std::vector<std::string> args;
    bool stdin_too = false;
  };
  auto xo = std::make_shared<XoeOptions>();
  CLI::App* x = frame.command(frame.app(), "xoe",
                              "Run xoe inside a vserver (as its root): cloe xoe VSERVER -- ARGS...; its output and exit "
                              "code are xoe's",
                              core::cli::Effect::mutates, [&frame, xo, cluster] {
                                Settings s = settings(frame);
                                std::optional<std::string> in;
                                if (xo->stdin_too)
                                  in = std::string(std::istreambuf_iterator<char>(std::cin), {});
                                XoeRun r = xoe_run(s, cluster_name(s, *cluster), xo->vserver, xo->args, in);
                                std::cout << r.out << std::flush;
                                std::cerr << r.err << std::flush;
                                return r.exit_code;
                              });
  x->add_option("vserver", xo->vserver, "Vserver name")->required();
  x->add_option("args", xo->args, "xoe's arguments (after --)")->required();
  x->add_flag("--stdin", xo->stdin_too, "Give this process's stdin to xoe (secrets go there)");

  CLI::App* group = frame.group(frame.app(), "service", "The ERP services in the cluster's vservers, through xoe");

  struct ListOptions {
    std::string vserver, group;
  };
  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = frame.command(
      *group, "list", "The services of a vserver, of a group's vservers or of the whole cluster (asked through xoe)",
      core::cli::Effect::reads, [&frame, lo, cluster] {
        Settings s = settings(frame);
        ServiceListRequest rq;
        rq.cluster = cluster_name(s, *cluster);
        if (!lo->vserver.empty()) rq.vserver = lo->vserver;
        if (!lo->group.empty()) rq.group = lo->group;
        if (rq.vserver && rq.group) throw core::Error(core::ErrorKind::invalid, "give a vserver or --group, not both");
        auto r = service_list(s, rq);
        if (frame.globals().json) {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& e : r.services) arr.push_back(service_json(e));
          core::cli::Frame::out(
              nlohmann::json{{"version", 1}, {"services", arr}, {"problems", problems_json(r.problems)}}.dump(2) +
              "\n");
        } else {
          core::Table table{{"VSERVER", "NODE", "SERVICE", "SOFTWARE", "ROLE", "STATE", "URL"}, {}};
          for (const auto& e : r.services)
            table.rows.push_back({e.vserver, e.node, e.name, e.software + " " + e.version, e.role, e.state, e.url});
          core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
          print_problems(r.problems);
        }
        return r.problems.empty() ? core::exit_code::ok : core::exit_code::failed;
      });
  list->add_option("vserver", lo->vserver, "Only this vserver's");
  list->add_option("--group", lo->group, "Only those of this group's vservers");

  struct OneOptions {
    std::string vserver, name;
  };
  auto one = [&frame, group, cluster](const char* verb, const char* help,
                                      ServiceEntry (*call)(const Settings&, const std::string&, const std::string&,
                                                           const std::string&),
                                      core::cli::Effect effect) {
    auto o = std::make_shared<OneOptions>();
    CLI::App* c = frame.command(*group, verb, help, effect, [&frame, o, cluster, call] {
      Settings s = settings(frame);
      print_service(frame, call(s, cluster_name(s, *cluster), o->vserver, o->name));
      return core::exit_code::ok;
    });
    c->add_option("vserver", o->vserver, "Vserver name")->required();
    c->add_option("name", o->name, "Service name")->required();
  };
  one("show", "One service of a vserver", service_show, core::cli::Effect::reads);
  one("start", "Start a service of a vserver", service_start, core::cli::Effect::mutates);
  one("stop", "Stop a service of a vserver", service_stop, core::cli::Effect::mutates);

  auto co = std::make_shared<ServiceCreateRequest>();
  CLI::App* create = frame.command(*group, "create", "Create and start a service in a vserver (xoe create)",
                                   core::cli::Effect::mutates, [&frame, co, cluster] {
                                     Settings s = settings(frame);
                                     ServiceCreateRequest rq = *co;
                                     rq.cluster = cluster_name(s, *cluster);
                                     print_created(frame, {service_create(s, rq)});
                                     return core::exit_code::ok;
                                   });
  create->add_option("vserver", co->vserver, "Vserver name")->required();
  create->add_option("name", co->name, "Service name")->required();
  create->add_option("--software", co->software, "tryton or odoo")->required();
  create->add_option("--version", co->version, "Its version, as xoe's recipes name it")->required();
  create->add_option("--role", co->role, "production, training or test")->default_str("production");
  create->add_option("--module", co->modules, "A module to activate (repeatable)");

  auto po = std::make_shared<ProfileApplyRequest>();
  CLI::App* profile = frame.command(*group, "profile",
                                    "Apply a profile in a vserver (xoe profile apply): vds gives NAME-production, "
                                    "NAME-training, NAME-test",
                                    core::cli::Effect::mutates, [&frame, po, cluster] {
                                      Settings s = settings(frame);
                                      ProfileApplyRequest rq = *po;
                                      rq.cluster = cluster_name(s, *cluster);
                                      print_created(frame, profile_apply(s, rq).services);
                                      return core::exit_code::ok;
                                    });
  profile->add_option("vserver", po->vserver, "Vserver name")->required();
  profile->add_option("profile", po->profile, "vds or acs")->required();
  profile->add_option("name", po->name, "The customer's name")->required();
  profile->add_option("--software", po->software, "acs: the software");
  profile->add_option("--version", po->version, "vds: the version");

  struct MonitorOptions {
    std::string vserver;
    std::vector<std::string> names;
  };
  auto mo = std::make_shared<MonitorOptions>();
  CLI::App* monitor = frame.command(
      *group, "monitor", "Usage and health of a vserver's services (xoe monitor): up, users, last login, sizes",
      core::cli::Effect::reads, [&frame, mo, cluster] {
        Settings s = settings(frame);
        auto all = service_monitor(s, cluster_name(s, *cluster), mo->vserver, mo->names);
        auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
        if (frame.globals().json) {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& u : all) {
            nlohmann::json j = service_json(u.service);
            j["up"] = u.up;
            j["http_ms"] = opt(u.http_ms);
            j["memory_bytes"] = opt(u.memory_bytes);
            j["db_bytes"] = opt(u.db_bytes);
            j["users"] = opt(u.users);
            j["last_login"] = opt(u.last_login);
            j["last_backup"] = opt(u.last_backup);
            arr.push_back(j);
          }
          core::cli::Frame::out(nlohmann::json{{"version", 1}, {"services", arr}}.dump(2) + "\n");
          return core::exit_code::ok;
        }
        auto text = [](const auto& v) { return v ? fmt::format("{}", *v) : std::string("-"); };
        auto size = [](const std::optional<std::uint64_t>& b) {
          return b ? format_size(static_cast<std::int64_t>(*b)) : std::string("-");
        };
        core::Table table{{"SERVICE", "STATE", "UP", "USERS", "LAST LOGIN", "DATABASE", "MEMORY", "LAST BACKUP"}, {}};
        for (const auto& u : all)
          table.rows.push_back({u.service.name, u.service.state, u.up ? "yes" : "no", text(u.users),
                                text(u.last_login), size(u.db_bytes), size(u.memory_bytes), text(u.last_backup)});
        core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
        return core::exit_code::ok;
      });
  monitor->add_option("vserver", mo->vserver, "Vserver name")->required();
  monitor->add_option("names", mo->names, "Only these services");

  auto bo = std::make_shared<OneOptions>();
  CLI::App* backup = frame.command(
      *group, "backup", "Back a service up inside its vserver (xoe backup; xoe's retention applies)",
      core::cli::Effect::mutates, [&frame, bo, cluster] {
        Settings s = settings(frame);
        auto b = service_backup(s, cluster_name(s, *cluster), bo->vserver, bo->name);
        if (frame.globals().json)
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"vserver", b.vserver},
                                               {"service", b.service},
                                               {"archive", b.archive},
                                               {"sha256", b.sha256},
                                               {"bytes", b.bytes}}
                                    .dump(2) +
                                "\n");
        else
          core::cli::Frame::out(fmt::format("service {} of {} backed up: {} ({}, sha256 {})\n", b.service, b.vserver,
                                            b.archive, format_size(static_cast<std::int64_t>(b.bytes)),
                                            b.sha256.substr(0, 16)));
        return core::exit_code::ok;
      });
  backup->add_option("vserver", bo->vserver, "Vserver name")->required();
  backup->add_option("name", bo->name, "Service name")->required();

  struct RemoveOptions {
    std::string vserver, name, archive_dir;
  };
  auto ro = std::make_shared<RemoveOptions>();
  CLI::App* remove = frame.command(
      *group, "remove",
      "Remove a service for good, with its final archive copied to the referee (checked) before xoe removes it",
      core::cli::Effect::mutates, [&frame, ro, cluster] {
        Settings s = settings(frame);
        auto r = service_remove(s, cluster_name(s, *cluster), ro->vserver, ro->name, ro->archive_dir);
        if (frame.globals().json)
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"vserver", r.vserver},
                                               {"service", r.service},
                                               {"archive", r.archive.string()},
                                               {"sha256", r.sha256},
                                               {"bytes", r.bytes}}
                                    .dump(2) +
                                "\n");
        else
          core::cli::Frame::out(fmt::format("service {} of {} removed; its final archive: {} (sha256 {})\n",
                                            r.service, r.vserver, r.archive.string(), r.sha256.substr(0, 16)));
        return core::exit_code::ok;
      });
  remove->add_option("vserver", ro->vserver, "Vserver name")->required();
  remove->add_option("name", ro->name, "Service name")->required();
  remove->add_option("--archive-dir", ro->archive_dir,
                     "Where the final archive goes, below CLUSTER/VSERVER/ (default ROOT/var/lib/oe/cloe/archives)");

  auto lname = std::make_shared<std::string>();
  CLI::App* loc = frame.command(frame.app(), "locate",
                                "Where a vserver or a service is: cluster, node, vserver, address, port, URL",
                                core::cli::Effect::reads, [&frame, lname, cluster] {
                                  Settings s = settings(frame);
                                  auto r = locate(s, cluster_name(s, *cluster), *lname);
                                  if (frame.globals().json) {
                                    nlohmann::json arr = nlohmann::json::array();
                                    for (const auto& l : r.found)
                                      arr.push_back({{"kind", l.kind}, {"cluster", l.cluster}, {"node", l.node},
                                                     {"vserver", l.vserver}, {"ip", l.ip}, {"service", l.service},
                                                     {"port", l.port}, {"url", l.url}});
                                    core::cli::Frame::out(nlohmann::json{{"version", 1},
                                                                         {"found", arr},
                                                                         {"problems", problems_json(r.problems)}}
                                                              .dump(2) +
                                                          "\n");
                                  } else {
                                    core::Table table{{"KIND", "CLUSTER", "NODE", "VSERVER", "IP", "SERVICE", "URL"}, {}};
                                    for (const auto& l : r.found)
                                      table.rows.push_back({l.kind, l.cluster, l.node, l.vserver, l.ip, l.service, l.url});
                                    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
                                    print_problems(r.problems);
                                  }
                                  if (r.found.empty())
                                    throw core::Error(core::ErrorKind::failed,
                                                      *lname + ": not found in the vservers that answered");
                                  return core::exit_code::ok;
                                });
  loc->add_option("name", *lname, "A vserver or a service")->required();
}

}  // namespace cloe::cli
