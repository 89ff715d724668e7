// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/doctor.hpp"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "core/log.hpp"
#include "core/process.hpp"

namespace fs = std::filesystem;

namespace cloe {
namespace {

struct ConnectDeleter {
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
using Connection = std::unique_ptr<virConnect, ConnectDeleter>;

// libvirt prints its errors on stderr by default; route them to the log.
void log_libvirt_error(void*, virErrorPtr error) {
  if (error && error->message) core::logger("cloe")->debug("libvirt: {}", error->message);
}

Check found_program(const std::string& name, const std::string& program, const std::string& package,
                    CheckStatus missing = CheckStatus::fail) {
  if (auto path = core::which(program)) return {name, CheckStatus::ok, path->string(), {}};
  return {name, missing, program + " not found", "apt-get install " + package};
}

Check check_root() {
  if (::geteuid() == 0) return {"root", CheckStatus::ok, "running as root", {}};
  return {"root", CheckStatus::warn, "not running as root", "run cloe as root to create vservers"};
}

Check check_lxc_driver() {
  for (const char* dir : {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"}) {
    fs::path driver = fs::path(dir) / "libvirt/connection-driver/libvirt_driver_lxc.so";
    std::error_code ec;
    if (fs::exists(driver, ec)) return {"libvirt LXC driver", CheckStatus::ok, driver.string(), {}};
  }
  return {"libvirt LXC driver", CheckStatus::fail, "libvirt's LXC driver is not installed",
          "apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-lxc"};
}

Check check_libvirtd(const std::string& uri) {
  virSetErrorFunc(nullptr, log_libvirt_error);
  Connection conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    const char* msg = virGetLastErrorMessage();
    return {"libvirtd", CheckStatus::fail, uri + ": " + (msg ? msg : "cannot connect"),
            "start libvirtd (and virtlogd); on a hybrid cgroup host without systemd, in its own mount "
            "namespace without /sys/fs/cgroup/unified (docs/operations.md)"};
  }
  unsigned long version = 0;
  virConnectGetLibVersion(conn.get(), &version);
  int domains = virConnectNumOfDomains(conn.get());
  return {"libvirtd", CheckStatus::ok,
          fmt::format("{} answers (libvirt {}.{}.{}, {} running domains)", uri, version / 1000000,
                      version / 1000 % 1000, version % 1000, domains),
          {}};
}

// The pid of the running libvirtd, from its pid file.
std::optional<long> libvirtd_pid() {
  std::ifstream in("/var/run/libvirtd.pid");
  long pid = 0;
  if (in >> pid && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0) return pid;
  return std::nullopt;
}

bool has_unified_mount(const std::string& mountinfo) {
  std::ifstream in(mountinfo);
  std::string line;
  while (std::getline(in, line))
    if (line.find(" /sys/fs/cgroup/unified ") != std::string::npos) return true;
  return false;
}

struct DomainDeleter {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};

// Starts and destroys a transient container sharing the host's root: the
// only check that proves the cgroup set-up, the driver and virtlogd work.
Check check_lxc_start(const std::string& uri) {
  virSetErrorFunc(nullptr, log_libvirt_error);
  Connection conn(virConnectOpen(uri.c_str()));
  if (!conn) return {"LXC container start", CheckStatus::fail, "libvirtd does not answer", "see libvirtd above"};
  std::string name = fmt::format("oe-doctor-{}", ::getpid());
  std::string xml = fmt::format(
      "<domain type='lxc'><name>{}</name><memory unit='MiB'>32</memory>"
      "<os><type>exe</type><init>/bin/sleep</init><initarg>30</initarg></os>"
      "<devices><console type='pty'/></devices></domain>",
      name);
  std::unique_ptr<virDomain, DomainDeleter> dom(virDomainCreateXML(conn.get(), xml.c_str(), 0));
  if (!dom) {
    const char* msg = virGetLastErrorMessage();
    return {"LXC container start", CheckStatus::fail, msg ? msg : "cannot start a container",
            "see the cgroups line; docs/operations.md"};
  }
  virDomainDestroy(dom.get());
  return {"LXC container start", CheckStatus::ok, "a transient container started and was destroyed", {}};
}

Check check_cgroups() {
  std::ifstream mounts("/proc/self/mountinfo");
  std::set<std::string> v1;
  bool unified_root = false, unified_sub = false;
  std::string line;
  while (std::getline(mounts, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, mountpoint, fstype, source, options;
    pre >> id >> parent >> devno >> root >> mountpoint;
    post >> fstype >> source >> options;
    if (fstype == "cgroup2") (mountpoint == "/sys/fs/cgroup" ? unified_root : unified_sub) = true;
    if (fstype == "cgroup") {
      std::istringstream opts(options);
      std::string opt;
      while (std::getline(opts, opt, ','))
        if (opt == "cpu" || opt == "memory" || opt == "cpuacct" || opt == "devices" || opt == "freezer") v1.insert(opt);
    }
  }
  if (unified_root) return {"cgroups", CheckStatus::ok, "cgroup v2 (unified)", {}};
  if (v1.count("cpu") && v1.count("memory")) {
    auto pid = libvirtd_pid();
    if (unified_sub && pid && !has_unified_mount(fmt::format("/proc/{}/mountinfo", *pid)))
      return {"cgroups", CheckStatus::ok,
              "hybrid (v1 controllers plus a v2 mount); libvirtd runs in a mount namespace without the v2 mount", {}};
    if (unified_sub)
      return {"cgroups", CheckStatus::warn, "hybrid: cgroup v1 controllers plus a v2 mount",
              "libvirtd must run in a mount namespace without /sys/fs/cgroup/unified, or LXC domains "
              "fail to start (docs/operations.md)"};
    return {"cgroups", CheckStatus::ok, "cgroup v1 with cpu and memory controllers", {}};
  }
  return {"cgroups", CheckStatus::fail, "no usable cgroup hierarchy (cpu and memory controllers)",
          "mount the cgroup controllers (cgroup v2, or v1 cpu and memory)"};
}

Check check_bridge(const std::string& bridge) {
  std::error_code ec;
  if (fs::exists(fs::path("/sys/class/net") / bridge / "bridge", ec))
    return {"bridge", CheckStatus::ok, bridge + " exists", {}};
  if (!fs::exists("/sys/module/bridge", ec) && !core::which("ip"))
    return {"bridge", CheckStatus::fail, "no bridge support", "apt-get install iproute2"};
  return {"bridge", CheckStatus::warn, bridge + " does not exist yet",
          "cloe creates it when the first vserver starts; or: ip link add " + bridge + " type bridge"};
}

Check check_postgresql() {
  for (const auto& dir : {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"}) {
    std::error_code ec;
    if (fs::exists(fs::path(dir) / "pg_ctl", ec)) {
      auto version = core::run({(fs::path(dir) / "postgres").string(), "--version"}, {.check = false});
      std::string text = version.out;
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      return {"PostgreSQL", CheckStatus::ok, text.empty() ? dir : text, {}};
    }
  }
  return {"PostgreSQL", CheckStatus::fail, "no PostgreSQL server binaries", "apt-get install postgresql"};
}

Check check_overlay() {
  std::ifstream fss("/proc/filesystems");
  std::string text((std::istreambuf_iterator<char>(fss)), std::istreambuf_iterator<char>());
  if (text.find("overlay") != std::string::npos) return {"overlayfs", CheckStatus::ok, "available", {}};
  return {"overlayfs", CheckStatus::warn, "not listed in /proc/filesystems", "modprobe overlay"};
}

}  // namespace

bool DoctorReport::ok() const {
  return std::none_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == CheckStatus::fail; });
}

const char* status_name(CheckStatus status) noexcept {
  switch (status) {
    case CheckStatus::ok: return "ok";
    case CheckStatus::warn: return "warn";
    case CheckStatus::fail: return "fail";
  }
  return "fail";
}

DoctorReport doctor(const DoctorRequest& request) {
  auto log = core::logger("cloe");
  DoctorReport report;
  report.checks.push_back(check_root());
  report.checks.push_back(check_lxc_driver());
  Check libvirtd = check_libvirtd(request.libvirt_uri);
  bool libvirtd_answers = libvirtd.status == CheckStatus::ok;
  report.checks.push_back(std::move(libvirtd));
  report.checks.push_back(check_cgroups());
  if (libvirtd_answers) report.checks.push_back(check_lxc_start(request.libvirt_uri));
  report.checks.push_back(check_overlay());
  report.checks.push_back(check_bridge(request.bridge));
  report.checks.push_back(found_program("iproute2", "ip", "iproute2"));
  report.checks.push_back(found_program("nftables", "nft", "nftables"));
  report.checks.push_back(found_program("iptables", "iptables", "iptables"));
  report.checks.push_back(found_program("nginx", "nginx", "nginx-light"));
  report.checks.push_back(check_postgresql());
  report.checks.push_back(found_program("runit", "runsvdir", "runit"));
  report.checks.push_back(found_program("ssh client", "ssh", "openssh-client"));
  report.checks.push_back(found_program("sshd", "sshd", "openssh-server"));
  report.checks.push_back(found_program("rsync", "rsync", "rsync", CheckStatus::warn));
  report.checks.push_back(found_program("zstd", "zstd", "zstd", CheckStatus::warn));
  report.checks.push_back(found_program("debootstrap", "debootstrap", "debootstrap", CheckStatus::warn));
  for (const auto& c : report.checks) log->info("doctor: {}: {}: {}", c.name, status_name(c.status), c.detail);
  return report;
}

}  // namespace cloe
