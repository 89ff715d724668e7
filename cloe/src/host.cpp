// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/host.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
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

// A Linux link name (IFNAMSIZ: 15 bytes) that is one word of an ip -batch line.
bool valid_link_name(std::string_view n) {
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  return std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
}

nlohmann::json ip_json(Host& h, const std::vector<std::string>& argv) {
  auto r = h.try_run(argv);
  if (r.exit_code != 0) return nlohmann::json::array();
  try {
    auto j = nlohmann::json::parse(r.out);
    if (j.is_array()) return j;
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::external, "node {}: {}: {}", h.node.name, fmt::format("{}", fmt::join(argv, " ")), e.what());
  }
  fail(ErrorKind::external, "node {}: {} printed no list", h.node.name, fmt::format("{}", fmt::join(argv, " ")));
}

bool has_flag(const nlohmann::json& link, std::string_view flag) {
  for (const auto& f : link.value("flags", nlohmann::json::array()))
    if (f == flag) return true;
  return false;
}

// The bridge of the vserver network on the node, with the node's address.
// With an uplink (the node's link into the network that spans the nodes):
// the uplink enslaved to the bridge, the node's address and the routes
// through it moved onto the bridge, all in one `ip -batch` run, so that the
// SSH session that carries it (over that very address) goes on.
InstallHostStep bridge_step(Host& h, const std::string& bridge, int prefix, const std::string& uplink) {
  std::string want = h.node.address + "/" + std::to_string(prefix);
  auto links = ip_json(h, {"ip", "-j", "addr", "show"});
  const nlohmann::json* br = nullptr;
  const nlohmann::json* up_link = nullptr;
  for (const auto& l : links) {
    if (l.value("ifname", "") == bridge) br = &l;
    if (!uplink.empty() && l.value("ifname", "") == uplink) up_link = &l;
  }
  bool exists = br != nullptr, up = false, has_address = false;
  if (exists) {
    if (h.try_run({"test", "-d", "/sys/class/net/" + bridge + "/bridge"}).exit_code != 0)
      fail(ErrorKind::conflict, "node {}: {} exists and is not a bridge", h.node.name, bridge);
    up = has_flag(*br, "UP");
    for (const auto& a : br->value("addr_info", nlohmann::json::array()))
      if (a.value("family", "") == "inet" && a.value("local", "") == h.node.address && a.value("prefixlen", 0) == prefix)
        has_address = true;
  }
  std::vector<std::string> done, batch;
  if (!exists) {
    done.push_back("created " + bridge);
    batch.push_back("link add " + bridge + " type bridge");
  }
  if (!uplink.empty()) {
    if (uplink == bridge) fail(ErrorKind::invalid, "--uplink {}: that is the bridge itself", uplink);
    if (!up_link) fail(ErrorKind::not_found, "node {}: no link {} (--uplink)", h.node.name, uplink);
    std::string master = up_link->value("master", "");
    if (!master.empty() && master != bridge)
      fail(ErrorKind::conflict, "node {}: {} is already a port of {}", h.node.name, uplink, master);
    // The node's address leaves the uplink, with the routes through it.
    for (const auto& a : up_link->value("addr_info", nlohmann::json::array()))
      if (a.value("family", "") == "inet" && a.value("local", "") == h.node.address) {
        done.push_back(fmt::format("{}/{} moved from {}", h.node.address, a.value("prefixlen", 0), uplink));
        batch.push_back(fmt::format("addr del {}/{} dev {}", h.node.address, a.value("prefixlen", 0), uplink));
      }
    if (master != bridge) {
      done.push_back(uplink + " enslaved");
      batch.push_back("link set " + uplink + " master " + bridge);
    }
    if (!has_flag(*up_link, "UP")) batch.push_back("link set " + uplink + " up");
    if (!batch.empty())
      for (const auto& rt : ip_json(h, {"ip", "-j", "route", "show", "dev", uplink}))
        if (rt.contains("gateway")) {
          done.push_back(fmt::format("route {} via {}", rt.value("dst", "default"), rt.value("gateway", "")));
          batch.push_back(fmt::format("route replace {} via {} dev {}", rt.value("dst", "default"),
                                      rt.value("gateway", ""), bridge));
        }
  }
  if (!has_address) done.push_back("address " + want);
  if (!up) done.push_back("up");
  if (done.empty()) {
    return {"bridge",
            uplink.empty() ? fmt::format("{} up with {}", bridge, want)
                           : fmt::format("{} up with {}, {} its port", bridge, want, uplink),
            false};
  }
  std::string what = fmt::format("{}", fmt::join(done, ", "));
  if (h.dry_run) return {"bridge", "would make: " + what, true};
  // The address and the bridge's state after the uplink's: the routes moved
  // need the bridge up with the address.
  std::vector<std::string> tail;
  if (!has_address) tail.push_back("addr add " + want + " dev " + bridge);
  if (!up) tail.push_back("link set " + bridge + " up");
  auto routes = std::stable_partition(batch.begin(), batch.end(), [](const auto& l) { return !l.starts_with("route "); });
  batch.insert(routes, tail.begin(), tail.end());
  std::string script;
  for (const auto& l : batch) script += l + "\n";
  auto r = h.link.run({"ip", "-batch", "-"}, {.timeout = 60s, .stdin_data = script, .check = false});
  if (r.exit_code != 0) {
    std::string err = r.err.substr(0, r.err.find('\n'));
    fail(ErrorKind::external, "node {}: ip -batch failed (exit {}){}", h.node.name, r.exit_code,
         err.empty() ? "" : ": " + err);
  }
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
                                    bool dry_run, const std::string& uplink) {
  if (!uplink.empty() && !valid_link_name(uplink)) fail(ErrorKind::invalid, "--uplink {}: not a link name", uplink);
  if (!valid_link_name(s.bridge)) fail(ErrorKind::invalid, "network.bridge {}: not a link name", s.bridge);
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
  r.steps.push_back(bridge_step(h, s.bridge, inventory::network_prefix(c), uplink));
  r.steps.push_back(storage_step(h));
  for (const auto& st : r.steps)
    if (st.changed && !dry_run) core::logger("cloe")->info("node {}: {}: {}", name, st.name, st.detail);
  return r;
}

}  // namespace cloe
