// SPDX-License-Identifier: GPL-3.0-or-later
// client_check ROOT SERVICE NEWNAME PASSWORD_FILE: drives the built xoe
// through xoe::command_client with local_runner (the sibling bin/xoe, with
// --root ROOT) and compares each result with local_client's (libxoe in this
// process) on the same root, for scenario.xoe_client. SERVICE is a running
// service; NEWNAME is created through the command client, its admin
// password written to PASSWORD_FILE (0600) for the scenario to log in with.
// Prints "ok: ..." per step; exits 1 at the first difference.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "core/config.hpp"
#include "core/paths.hpp"
#include "xoe/client.hpp"
#include "xoe/tool.hpp"

namespace {

using namespace xoe;

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "FAIL: " << what << "\n";
  std::exit(1);
}

void ok(const std::string& what) { std::cout << "ok: " << what << std::endl; }

template <typename T>
void same(const std::string& what, const T& a, const T& b) {
  if (!(a == b))
    fail(what + ": command_client and local_client differ:\n" + wire::render(wire::answer(a)) +
         wire::render(wire::answer(b)));
}

// The seconds in a state move on between two reads.
ServiceInfo steady(ServiceInfo s) {
  s.seconds = 0;
  return s;
}

MonitorResult steady(MonitorResult m) {
  m.time = {};
  for (auto& h : m.services) {
    h.http_ms.reset();
    h.memory_bytes.reset();
    h.backup_age_seconds.reset();
  }
  return m;
}

core::Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const core::Error& e) {
    return e;
  }
  fail("no error thrown");
}

void same_error(const std::string& what, const std::function<void()>& a, const std::function<void()>& b,
                core::ErrorKind kind) {
  core::Error ea = error_of(a), eb = error_of(b);
  if (ea.kind() != kind || eb.kind() != kind || std::string(ea.what()) != eb.what())
    fail(what + ": errors differ or are not " + std::string(wire::kind_spelling(kind)) + ": " +
         std::string(wire::kind_spelling(ea.kind())) + " '" + ea.what() + "' vs " +
         std::string(wire::kind_spelling(eb.kind())) + " '" + eb.what() + "'");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: client_check ROOT SERVICE NEWNAME PASSWORD_FILE\n";
    return 2;
  }
  std::string root = argv[1], svc = argv[2], fresh = argv[3], pwfile = argv[4];
  try {
    core::Paths paths = core::Paths::resolve(root);
    core::Config config =
        core::Config::load("xoe", config_schema(), paths.config_file("xoe"), {}, core::environment());
    auto local = local_client(make_settings(paths, config));
    auto cmd = command_client(local_runner(), {"--root", root});

    same("software list", cmd->software_list(), local->software_list());
    same("service list", cmd->list(), local->list());
    same("service show", steady(cmd->show({svc})), steady(local->show({svc})));
    same("supervisor status", cmd->supervisor_status(), local->supervisor_status());
    same("config show", cmd->config_show({svc}), local->config_show({svc}));
    same("db list", cmd->db_list(), local->db_list());
    same("monitor", steady(cmd->monitor({{svc}})), steady(local->monitor({{svc}})));
    ok("list, show, supervisor status, config show, db list, monitor: the same through xoe --json");

    ServiceInfo stopped = cmd->stop({svc});
    if (stopped.state != "down") fail("state after stop through the command client: " + stopped.state);
    same("show after stop", steady(cmd->show({svc})), steady(local->show({svc})));
    if (local->show({svc}).state != "down") fail("local_client does not see the stop");
    ServiceInfo started = local->start({svc});
    if (started.state != "run") fail("state after start through local_client: " + started.state);
    same("show after start", steady(cmd->show({svc})), steady(local->show({svc})));
    if (!cmd->monitor({{svc}}).all_up()) fail("the service does not answer after its start");
    ok("stop through xoe, start in process: each sees the other's");

    BackupResult b = cmd->backup({svc, std::nullopt});
    if (!std::filesystem::exists(b.archive)) fail("no archive " + b.archive.string());
    auto listed = local->backup_list({svc});
    if (listed.empty() || listed.front().archive != b.archive) fail("local backup list lacks " + b.archive.string());
    same("backup list", cmd->backup_list({svc}), listed);
    same("monitor after backup", steady(cmd->monitor({{svc}})), steady(local->monitor({{svc}})));
    if (!cmd->monitor({{svc}}).services.at(0).last_backup) fail("monitor has no last backup");
    ok("backup through xoe: " + b.archive.filename().string() + ", listed alike");

    same_error("show of an unknown service", [&] { cmd->show({"nosuch-" + fresh}); },
               [&] { local->show({"nosuch-" + fresh}); }, core::ErrorKind::not_found);
    CreateRequest bad{"Bad_Name", "tryton", "7.0", "test", "sqlite", {}, std::nullopt, std::nullopt};
    same_error("create --dry-run of a bad name", [&] { cmd->plan_create(bad); }, [&] { local->plan_create(bad); },
               core::ErrorKind::invalid);
    same_error("start of an unknown service", [&] { cmd->start({"nosuch-" + fresh}); },
               [&] { local->start({"nosuch-" + fresh}); }, core::ErrorKind::not_found);
    ok("errors come back as core::Error with the same kind and message");

    CreateRequest rq{fresh, "tryton", "7.0", "test", "sqlite", {}, std::nullopt, std::nullopt};
    same("create --dry-run", cmd->plan_create(rq), local->plan_create(rq));
    Created c = cmd->create(rq);
    if (c.admin_password.size() < 20) fail("no admin password in create's answer");
    same("show of the created service", steady(cmd->show({fresh})), steady(local->show({fresh})));
    if (local->show({fresh}).port != c.service.port) fail("port of the created service");
    {
      ::umask(077);
      std::ofstream(pwfile) << c.admin_password;
    }
    same("service list with the created service", cmd->list(), local->list());
    ok("create through xoe: " + fresh + " on port " + std::to_string(c.service.port));
  } catch (const core::Error& e) {
    fail(std::string("error ") + std::string(wire::kind_spelling(e.kind())) + ": " + e.what());
  }
  return 0;
}
