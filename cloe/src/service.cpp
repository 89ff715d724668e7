// SPDX-License-Identifier: GPL-3.0-or-later
// The services inside vservers, through libxoe's typed client over a runner
// that enters the vserver (service.hpp).
#include "cloe/service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fmt/chrono.h>
#include <map>

#include "cloe/vserver.hpp"
#include "inside.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "xoe/client.hpp"

namespace cloe {
namespace {

using core::ErrorKind;
using core::fail;


Vserver running(const Settings& s, const std::string& cluster, const std::string& name) {
  Vserver v = vserver_show(s, cluster, name);
  if (v.domain_state != "running")
    fail(ErrorKind::precondition, "vserver {} does not run (libvirt: {}): cloe vserver start {}", v.name,
         v.domain_state, v.name);
  return v;
}

XoeRun run_in(const Settings& s, const Vserver& v, const std::vector<std::string>& argv,
              const std::optional<std::string>& stdin_text) {
  auto r = run_inside(s, v, argv, stdin_text);
  return {r.exit_code, std::move(r.out), std::move(r.err)};
}

std::unique_ptr<xoe::Client> client_of(const Settings& s, const Vserver& v) {
  return xoe::command_client([s, v](const std::vector<std::string>& argv, const std::optional<std::string>& in) {
    XoeRun r = run_in(s, v, argv, in);
    return xoe::RunOutput{r.exit_code, std::move(r.out), std::move(r.err)};
  });
}

// The port of xoe's URL (http://HOST:PORT/...); 0 when it has none.
std::uint16_t port_of(const std::string& url) {
  auto scheme = url.find("://");
  auto colon = scheme == std::string::npos ? std::string::npos : url.find(':', scheme + 3);
  if (colon == std::string::npos) return 0;
  try {
    return static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1)));
  } catch (const std::exception&) {
    return 0;
  }
}

// xoe's URL is at the address it probes inside; cloe's at the vserver's.
std::string url_at(const std::string& ip, std::uint16_t port, const std::string& xoe_url) {
  return port == 0 ? xoe_url : fmt::format("http://{}:{}/", ip, port);
}

ServiceEntry entry(const Vserver& v, const xoe::ServiceInfo& i) {
  std::uint16_t port = i.port != 0 ? i.port : port_of(i.url);
  return {v.cluster, v.node, v.name, v.ip, i.name, i.software, i.version, i.role, i.state, port,
          url_at(v.ip, port, i.url)};
}

ServiceEntry entry(const Vserver& v, const xoe::ServiceSummary& i) {
  std::uint16_t port = port_of(i.url);
  return {v.cluster, v.node, v.name, v.ip, i.name, i.software, i.version, i.role, i.state, port,
          url_at(v.ip, port, i.url)};
}

ServiceCreated created(const Vserver& v, const xoe::ServiceInfo& i, const std::string& password, bool resumed) {
  return {entry(v, i), i.admin_login, password, resumed};
}

}  // namespace

XoeRun xoe_run(const Settings& s, const std::string& cluster, const std::string& name,
               const std::vector<std::string>& args, const std::optional<std::string>& stdin_text) {
  Vserver v = running(s, cluster, name);
  std::vector<std::string> argv = {"xoe"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_in(s, v, argv, stdin_text);
}

ServiceListResult service_list(const Settings& s, const ServiceListRequest& rq) {
  ServiceListResult out;
  std::vector<Vserver> targets;
  if (rq.vserver) {
    targets.push_back(running(s, rq.cluster, *rq.vserver));
  } else {
    VserverListRequest lr;
    lr.cluster = rq.cluster;
    lr.group = rq.group;
    targets = vserver_list(s, lr);
    if (rq.group && targets.empty())
      fail(ErrorKind::not_found, "group {} has no vserver in cluster {}", *rq.group, rq.cluster);
  }
  for (const auto& v : targets) {
    try {
      if (!rq.vserver && v.domain_state != "running")
        fail(ErrorKind::precondition, "vserver {} does not run (libvirt: {})", v.name, v.domain_state);
      for (const auto& i : client_of(s, v)->list()) out.services.push_back(entry(v, i));
    } catch (const core::Error& e) {
      if (rq.vserver) throw;
      out.problems.push_back({v.name, std::string(core::kind_name(e.kind())), e.what()});
    }
  }
  return out;
}

ServiceCreated service_create(const Settings& s, const ServiceCreateRequest& rq) {
  Vserver v = running(s, rq.cluster, rq.vserver);
  xoe::CreateRequest c;
  c.name = rq.name;
  c.software = rq.software;
  c.version = rq.version;
  c.role = rq.role;
  c.modules = rq.modules;
  c.port = rq.port;
  auto r = client_of(s, v)->create(c);
  return created(v, r.service, r.admin_password, r.resumed);
}

ProfileApplied profile_apply(const Settings& s, const ProfileApplyRequest& rq) {
  Vserver v = running(s, rq.cluster, rq.vserver);
  xoe::ProfileRequest p;
  p.profile = rq.profile;
  p.name = rq.name;
  p.software = rq.software;
  p.version = rq.version;
  auto r = client_of(s, v)->profile_apply(p);
  ProfileApplied out;
  for (const auto& ps : r.services) out.services.push_back(created(v, ps.service, ps.admin_password.value_or(""), ps.existed));
  return out;
}

ServiceEntry service_show(const Settings& s, const std::string& cluster, const std::string& vserver,
                          const std::string& name) {
  Vserver v = running(s, cluster, vserver);
  return entry(v, client_of(s, v)->show({name}));
}

ServiceEntry service_start(const Settings& s, const std::string& cluster, const std::string& vserver,
                           const std::string& name) {
  Vserver v = running(s, cluster, vserver);
  return entry(v, client_of(s, v)->start({name}));
}

ServiceEntry service_stop(const Settings& s, const std::string& cluster, const std::string& vserver,
                          const std::string& name) {
  Vserver v = running(s, cluster, vserver);
  return entry(v, client_of(s, v)->stop({name}));
}

std::vector<ServiceUsage> service_monitor(const Settings& s, const std::string& cluster, const std::string& vserver,
                                          const std::vector<std::string>& names) {
  Vserver v = running(s, cluster, vserver);
  auto client = client_of(s, v);
  std::map<std::string, xoe::ServiceSummary> summary;
  for (auto& i : client->list()) summary.emplace(i.name, i);
  xoe::MonitorRequest rq;
  rq.services = names;
  auto iso = [](const std::optional<std::chrono::sys_seconds>& t) -> std::optional<std::string> {
    if (!t) return std::nullopt;
    return fmt::format("{:%FT%TZ}", *t);
  };
  std::vector<ServiceUsage> out;
  for (const auto& h : client->monitor(rq).services) {
    ServiceUsage u;
    auto it = summary.find(h.name);
    if (it != summary.end()) u.service = entry(v, it->second);
    else u.service = {v.cluster, v.node, v.name, v.ip, h.name, h.software, h.version, h.role, h.state, 0, ""};
    u.service.state = h.state;
    u.up = h.up;
    u.http_ms = h.http_ms;
    u.memory_bytes = h.memory_bytes;
    u.db_bytes = h.db_bytes;
    u.users = h.users;
    u.last_login = iso(h.last_login);
    u.last_backup = iso(h.last_backup);
    out.push_back(std::move(u));
  }
  return out;
}

ServiceBackup service_backup(const Settings& s, const std::string& cluster, const std::string& vserver,
                             const std::string& name) {
  Vserver v = running(s, cluster, vserver);
  xoe::BackupRequest rq;
  rq.service = name;
  auto r = client_of(s, v)->backup(rq);
  return {v.name, name, r.archive.string(), r.sha256, static_cast<std::uint64_t>(r.bytes)};
}

ServiceRetired service_remove(const Settings& s, const std::string& cluster, const std::string& vserver,
                              const std::string& name, const std::filesystem::path& archive_dir) {
  namespace fs = std::filesystem;
  Vserver v = running(s, cluster, vserver);
  auto client = client_of(s, v);
  client->show({name});  // not_found before anything is done
  client->stop({name});
  xoe::BackupRequest rq;
  rq.service = name;
  auto b = client->backup(rq);
  fs::path dir = (archive_dir.empty() ? s.state / "archives" : archive_dir) / v.cluster / v.name;
  fs::create_directories(dir);
  fs::path to = dir / b.archive.filename();
  fs::path tmp = dir / (b.archive.filename().string() + ".partial");
  // Read inside the vserver by its root (the customer's paths are resolved
  // there, never on the referee), written here to a file of cloe's.
  core::RunOptions o;
  o.check = false;
  o.stdout_to = tmp;
  o.timeout = std::chrono::hours(6);
  auto r = core::run(vserver_enter_argv(s, v, {"cat", "--", b.archive.string()}), o);
  auto drop = [&] {
    std::error_code ec;
    fs::remove(tmp, ec);
  };
  if (r.exit_code != 0) {
    drop();
    fail(ErrorKind::external, "vserver {}: the archive {} could not be read ({}): service {} kept", v.name,
         b.archive.string(), last_line(r.err).empty() ? "exit " + std::to_string(r.exit_code) : last_line(r.err),
         name);
  }
  auto hashed = core::run({"sha256sum", "--", tmp.string()}, {.timeout = std::chrono::hours(1)});
  std::string sum = hashed.out.substr(0, hashed.out.find(' '));
  if (sum != b.sha256) {
    drop();
    fail(ErrorKind::external, "vserver {}: the copy of {} has SHA-256 {}, xoe said {}: service {} kept", v.name,
         b.archive.string(), sum, b.sha256, name);
  }
  fs::rename(tmp, to);
  client->remove({name});
  return {v.name, name, to, sum, static_cast<std::uint64_t>(fs::file_size(to))};
}

LocateResult locate(const Settings& s, const std::string& cluster, const std::string& name) {
  LocateResult out;
  VserverListRequest lr;
  lr.cluster = cluster;
  for (const auto& v : vserver_list(s, lr)) {
    if (v.name == name) {
      out.found.push_back({"vserver", v.cluster, v.node, v.name, v.ip, "", 0, ""});
      return out;
    }
  }
  ServiceListRequest sr;
  sr.cluster = cluster;
  auto all = service_list(s, sr);
  for (const auto& e : all.services)
    if (e.name == name) out.found.push_back({"service", e.cluster, e.node, e.vserver, e.ip, e.name, e.port, e.url});
  out.problems = std::move(all.problems);
  if (out.found.empty() && out.problems.empty())
    fail(ErrorKind::not_found, "no vserver or service {} in cluster {}", name, cluster);
  return out;
}

}  // namespace cloe
