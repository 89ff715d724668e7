// SPDX-License-Identifier: GPL-3.0-or-later
// The services inside vservers, through libxoe's typed client over a runner
// that enters the vserver (service.hpp).
#include "cloe/service.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cloe/vserver.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "xoe/client.hpp"

namespace cloe {
namespace {

using core::ErrorKind;
using core::fail;

// Exit codes of `cloe __enter` itself (lxc.cpp): 125 it could not enter,
// 127 the program is not in the vserver.
constexpr int enter_failed = 125;
constexpr int not_inside = 127;

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

Vserver running(const Settings& s, const std::string& cluster, const std::string& name) {
  Vserver v = vserver_show(s, cluster, name);
  if (v.domain_state != "running")
    fail(ErrorKind::precondition, "vserver {} does not run (libvirt: {}): cloe vserver start {}", v.name,
         v.domain_state, v.name);
  return v;
}

// Runs the argv inside the vserver; the entry's own failures are errors, the
// program's exit status is the caller's.
XoeRun run_inside(const Settings& s, const Vserver& v, const std::vector<std::string>& argv,
                  const std::optional<std::string>& stdin_text) {
  core::RunOptions o;
  o.check = false;
  o.stdin_data = stdin_text;
  auto r = core::run(vserver_enter_argv(s, v, argv), o);
  if (r.exit_code == enter_failed && r.err.find("cloe __enter:") != std::string::npos)
    fail(ErrorKind::external, "vserver {}: {}", v.name, last_line(r.err));
  if (r.exit_code == not_inside && r.err.find("cloe __enter: cannot run") != std::string::npos)
    fail(ErrorKind::precondition, "vserver {} has no {} (its template {} was built without --repository)", v.name,
         argv.empty() ? "" : argv.front(), v.template_name);
  return {r.exit_code, std::move(r.out), std::move(r.err)};
}

std::unique_ptr<xoe::Client> client_of(const Settings& s, const Vserver& v) {
  return xoe::command_client([s, v](const std::vector<std::string>& argv, const std::optional<std::string>& in) {
    XoeRun r = run_inside(s, v, argv, in);
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
  return run_inside(s, v, argv, stdin_text);
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
