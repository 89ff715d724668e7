// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/host.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "inventory_db.hpp"
#include "transport.hpp"

using namespace std::chrono_literals;

namespace cloe {

using core::ErrorKind;
using core::fail;

bool InstallHostResult::changed() const {
  return std::any_of(steps.begin(), steps.end(), [](const auto& s) { return s.changed; });
}

const std::vector<std::string>& node_packages() {
  static const std::vector<std::string> all = {"libvirt-daemon", "libvirt-daemon-driver-lxc",
                                               "libvirt-clients", "iproute2",
                                               "nftables",       "rsync",
                                               "e2fsprogs",      "util-linux"};
  return all;
}

namespace {

struct Host {
  transport::NodeLink& link;
  const Node& node;
  bool dry_run;

  core::RunResult try_run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 60s) {
    return link.run(argv, {.timeout = timeout, .check = false});
  }
  // A command that must work: its failure is the node's, named.
  void must(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 60s) {
    auto r = try_run(argv, timeout);
    if (r.exit_code != 0) {
      std::string err = r.err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
      if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
      fail(ErrorKind::external, "node {}: {} failed (exit {}){}", node.name, argv.front(), r.exit_code,
           err.empty() ? "" : ": " + err);
    }
  }
};

InstallHostStep packages_step(Host& h) {
  std::vector<std::string> argv = {"dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\\n"};
  argv.insert(argv.end(), node_packages().begin(), node_packages().end());
  auto r = h.try_run(argv);  // exit 1 when one is unknown: its line is missing
  std::vector<std::string> installed;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string name, status;
    f >> name >> status;
    if (status.starts_with("ii")) installed.push_back(name);
  }
  std::vector<std::string> missing;
  for (const auto& p : node_packages())
    if (std::find(installed.begin(), installed.end(), p) == installed.end()) missing.push_back(p);
  if (missing.empty()) return {"packages", fmt::format("{} installed", node_packages().size()), false};
  std::string list = fmt::format("{}", fmt::join(missing, " "));
  if (h.dry_run) return {"packages", "would install " + list, true};
  std::vector<std::string> install = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                                      "--no-install-recommends"};
  install.insert(install.end(), missing.begin(), missing.end());
  h.must(install, 30min);
  return {"packages", "installed " + list, true};
}

InstallHostStep libvirtd_step(Host& h, const std::string& uri) {
  auto answers = [&] { return h.try_run({"virsh", "-c", uri, "version"}, 30s).exit_code == 0; };
  if (answers()) return {"libvirtd", "answers on " + uri, false};
  bool systemd = h.try_run({"test", "-d", "/run/systemd/system"}).exit_code == 0;
  if (!systemd && h.dry_run) return {"libvirtd", "does not answer on " + uri + ", no systemd: to be started by hand", true};
  if (!systemd)
    fail(ErrorKind::precondition,
         "node {}: libvirtd does not answer on {} and the node has no systemd to start it: start virtlogd and "
         "libvirtd (scripts/start-host-services does, cgroup trap included), then run install-host again",
         h.node.name, uri);
  if (h.dry_run) return {"libvirtd", "would start virtlogd and libvirtd (systemctl)", true};
  h.must({"systemctl", "enable", "--now", "virtlogd", "libvirtd"}, 2min);
  if (!answers()) fail(ErrorKind::external, "node {}: libvirtd started but does not answer on {}", h.node.name, uri);
  return {"libvirtd", "started (systemctl), answers on " + uri, true};
}

InstallHostStep bridge_step(Host& h, const std::string& bridge, int prefix) {
  std::string want = h.node.address + "/" + std::to_string(prefix);
  auto r = h.try_run({"ip", "-j", "addr", "show", "dev", bridge});
  std::vector<std::string> done;
  bool exists = r.exit_code == 0, up = false, has_address = false;
  if (exists) {
    try {
      auto j = nlohmann::json::parse(r.out);
      if (!j.is_array() || j.empty()) fail(ErrorKind::external, "node {}: ip shows no {}", h.node.name, bridge);
      const auto& link = j.front();
      if (link.value("linkinfo", nlohmann::json::object()).value("info_kind", "") != "bridge" &&
          h.try_run({"test", "-d", "/sys/class/net/" + bridge + "/bridge"}).exit_code != 0)
        fail(ErrorKind::conflict, "node {}: {} exists and is not a bridge", h.node.name, bridge);
      for (const auto& f : link.value("flags", nlohmann::json::array()))
        if (f == "UP") up = true;
      for (const auto& a : link.value("addr_info", nlohmann::json::array()))
        if (a.value("family", "") == "inet" && a.value("local", "") == h.node.address &&
            a.value("prefixlen", 0) == prefix)
          has_address = true;
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::external, "node {}: ip -j addr show {}: {}", h.node.name, bridge, e.what());
    }
  }
  if (exists && up && has_address) return {"bridge", fmt::format("{} up with {}", bridge, want), false};
  if (!exists) done.push_back("created " + bridge);
  if (!has_address) done.push_back("address " + want);
  if (!up) done.push_back("up");
  std::string what = fmt::format("{}", fmt::join(done, ", "));
  if (h.dry_run) return {"bridge", "would make: " + what, true};
  if (!exists) h.must({"ip", "link", "add", bridge, "type", "bridge"});
  if (!has_address) h.must({"ip", "addr", "add", want, "dev", bridge});
  if (!up) h.must({"ip", "link", "set", bridge, "up"});
  return {"bridge", what, true};
}

InstallHostStep storage_step(Host& h) {
  std::vector<std::string> done;
  for (const auto& sc : h.node.storage) {
    std::string dir = sc.path + "/vservers";
    auto r = h.try_run({"stat", "-c", "%a %F", dir});
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (r.exit_code == 0 && out == "711 directory") continue;
    if (r.exit_code == 0 && !out.ends_with(" directory"))
      fail(ErrorKind::conflict, "node {}: {} exists and is not a folder", h.node.name, dir);
    done.push_back(sc.name + " " + dir);
    if (h.dry_run) continue;
    h.must({"mkdir", "-p", "--", dir});
    h.must({"chmod", "0711", "--", dir});
  }
  if (done.empty()) return {"storage", fmt::format("{} class(es) ready", h.node.storage.size()), false};
  return {"storage", (h.dry_run ? "would make " : "made ") + fmt::format("{}", fmt::join(done, ", ")), true};
}

}  // namespace

InstallHostResult node_install_host(const Settings& s, const std::string& cluster, const std::string& name,
                                    bool dry_run) {
  Node node = node_show(s, cluster, name);
  Cluster c = cluster_show(s, cluster);
  auto lock = core::FileLock::acquire(s.locks, "cloe.node." + cluster + "." + name);
  auto link = transport::link(s, node);
  // virsh runs on the node itself: its own libvirtd's socket.
  std::string uri = node.transport == Transport::local ? s.libvirt_uri : "lxc:///system";
  Host h{*link, node, dry_run};
  InstallHostResult r{node, {}, dry_run};
  r.steps.push_back(packages_step(h));
  r.steps.push_back(libvirtd_step(h, uri));
  r.steps.push_back(bridge_step(h, s.bridge, inventory::network_prefix(c)));
  r.steps.push_back(storage_step(h));
  for (const auto& st : r.steps)
    if (st.changed && !dry_run) core::logger("cloe")->info("node {}: {}: {}", name, st.name, st.detail);
  return r;
}

}  // namespace cloe
