// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/supervisor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "host.hpp"
#include "service_impl.hpp"
#include "systemd.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

constexpr std::string_view runsvdir_bin = "/usr/bin/runsvdir";
// runsvdir's log argument (readproctitle style: runsv's error messages
// scroll through it, `ps` shows them). With it runsvdir also waits on the
// pipe that is its stderr, and so can be woken up (see wake_runsvdir).
constexpr std::string_view runsvdir_log =
    "log: ..........................................................................................";

fs::path pid_file(const Settings& s) { return s.run / "runsvdir.pid"; }

// The pid in `file`, when it is alive and runs runsvdir on `scan_dir` (a
// recycled pid is not taken for it).
std::optional<pid_t> runsvdir_in(const fs::path& file, const fs::path& scan_dir) {
  std::ifstream in(file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return std::nullopt;
  std::error_code ec;
  auto exe = fs::read_symlink(fmt::format("/proc/{}/exe", pid), ec);
  if (ec || exe != runsvdir_bin) return std::nullopt;
  std::ifstream cmd(fmt::format("/proc/{}/cmdline", pid));
  std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  if (args.find(scan_dir.string() + '\0') == std::string::npos) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// The runsvdir of this root that xoe started through start-stop-daemon.
std::optional<pid_t> running_pid(const Settings& s) { return runsvdir_in(pid_file(s), s.scan_dir()); }

// The mount namespace of a process ("mnt:[4026531841]"): a path means
// the same folder only to processes of the same one.
std::string mount_ns(const fs::path& proc) {
  std::error_code ec;
  return fs::read_symlink(proc / "ns" / "mnt", ec).string();
}

// The runsvdir watching `scan_dir` in this mount namespace, found in /proc.
std::optional<pid_t> runsvdir_of(const fs::path& scan_dir) {
  std::error_code ec;
  const std::string want = '\0' + scan_dir.string() + '\0';  // a whole argument
  const std::string ns = mount_ns("/proc/self");
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    if (fs::read_symlink(e.path() / "exe", ec2) != runsvdir_bin || ec2) continue;
    std::ifstream cmd(e.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    if (args.find(want) != std::string::npos && mount_ns(e.path()) == ns) return static_cast<pid_t>(std::stol(name));
  }
  return std::nullopt;
}

// The system's runit: Debian's runit-run (under sysvinit or systemd),
// runit-init's stage 2 and a vserver whose PID 1 is runsvdir all run
// `runsvdir -P /etc/service`.
constexpr std::string_view system_scan_dir = "/etc/service";

// Where systemd is not PID 1 and the system's runit runs, the root's
// runsvdir is a runit service of its own (ROOT/var/lib/oe/xoe/runsvdir,
// linked as /etc/service/xoe or xoe_HASH), so that it comes back at boot.
fs::path boot_dir(const Settings& s) { return s.state / "runsvdir"; }
fs::path boot_link(const Settings& s) { return fs::path(system_scan_dir) / systemd::root_tag(s.root); }

// True when the boot link is this root's (a link to boot_dir).
bool boot_link_ours(const Settings& s) {
  std::error_code ec;
  return fs::is_symlink(fs::symlink_status(boot_link(s), ec)) && fs::read_symlink(boot_link(s), ec) == boot_dir(s);
}

// The runsvdir of this root that the system's runit runs (its runsv's pid file).
std::optional<pid_t> boot_pid(const Settings& s) {
  if (!boot_link_ours(s)) return std::nullopt;
  return runsvdir_in(boot_dir(s) / "supervise" / "pid", s.scan_dir());
}

// runsvdir looks at its scan folder only when it wakes up: every 5 s when
// idle, so a new service waited up to 5 s for its runsv. Started with a
// log argument, it also wakes up when its log pipe (its stderr) has data:
// a NUL byte, which it reads and drops, makes it look at the folder now (at
// most once a second). Only a pipe is written to: a runsvdir started
// otherwise (stderr /dev/null) is left to its 5 s.
void wake_runsvdir(pid_t pid) {
  core::Fd fd(::open(fmt::format("/proc/{}/fd/2", pid).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  char nul = 0;
  (void)!::write(fd.get(), &nul, 1);
}

core::RunResult sv(const std::vector<std::string>& args, bool check = true) {
  std::vector<std::string> argv = {"sv"};
  argv.insert(argv.end(), args.begin(), args.end());
  return core::run(argv, {.timeout = 90s, .check = check});
}

// The runit service folder of service `name`.
fs::path runit_dir(const Settings& s, const std::string& name) { return s.services_dir() / name / "runit"; }

}  // namespace

// The xoe the boot unit and the nightly cron job run: this program when it
// is xoe (goe links libxoe too), else the xoe beside this program, else the
// xoe on PATH, else the installed one.
fs::path detail::xoe_binary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && self.filename() == "xoe") return self;
  // goe beside its xoe (a build folder's bin/, or both installed together).
  if (!ec && self.is_absolute() && fs::is_regular_file(self.parent_path() / "xoe", ec)) return self.parent_path() / "xoe";
  if (auto found = core::which("xoe", core::clean_path)) return *found;
  return XOE_INSTALLED_BIN;
}

namespace {

using detail::xoe_binary;

// The runsvdir of this root under the system's runit: its service folder,
// the link into /etc/service, started if it was stopped.
void start_under_system_runit(const Settings& s) {
  fs::path dir = boot_dir(s), link = boot_link(s);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(link, ec)) && !boot_link_ours(s))
    fail(ErrorKind::precondition, "{} is there and is not xoe's link to {}: remove it or rename it", link.string(),
         dir.string());
  host::make_dir(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  host::write_file(dir / "run",
                   "#!/bin/sh\n# Written by xoe: the runsvdir of the runit services of " + s.root.string() +
                       ", run by the system's runit (at boot too). Do not edit: xoe rewrites it.\nexec " +
                       std::string(runsvdir_bin) + " -P " + host::shell_quote(s.scan_dir().string()) + " " +
                       host::shell_quote(std::string(runsvdir_log)) + "\n",
                   fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  if (!boot_link_ours(s)) {
    fs::path tmp = link.parent_path() / ("." + link.filename().string() + ".new");
    fs::remove(tmp, ec);
    fs::create_symlink(dir, tmp);
    fs::rename(tmp, link);
  }
  runit::wait_supervised(dir, fs::path(system_scan_dir), 15s);
  runit::up(dir);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!runsvdir_of(s.scan_dir())) {
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "runsvdir did not start under {}", link.string());
    std::this_thread::sleep_for(20ms);
  }
  core::logger("xoe")->info("runsvdir on {} runs under the system's runit ({})", s.scan_dir().string(),
                            link.string());
}

// Starts runsvdir for this root unless one watches its scan folder already
// (started by xoe, by the system's runit through the boot link, or a
// vserver's PID 1). Idempotent. Where systemd is PID 1, also makes sure the
// boot unit that starts it again is there; where it is not and the
// system's runit runs, runsvdir is started as a service of it.
void start_runsvdir(const Settings& s) {
  auto mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
  host::make_dir(s.scan_dir(), mode);
  host::make_dir(s.run, mode);
  auto lock = core::FileLock::acquire(s.locks, "xoe.supervisor");
  bool systemd = systemd_booted();
  if (systemd) systemd::write_runit_boot(s, xoe_binary());
  if (running_pid(s) || boot_pid(s) || runsvdir_of(s.scan_dir())) return;
  if (!core::which("runsvdir", core::clean_path))
    fail(ErrorKind::precondition, "runsvdir not found: install Debian's runit package");
  if (!systemd && runsvdir_of(fs::path(system_scan_dir))) return start_under_system_runit(s);
  core::run({"start-stop-daemon", "--start", "--background", "--make-pidfile", "--pidfile", pid_file(s).string(),
             "--exec", std::string(runsvdir_bin), "--", "-P", s.scan_dir().string(), std::string(runsvdir_log)},
            {.timeout = 30s});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!running_pid(s)) {
    if (std::chrono::steady_clock::now() > deadline) fail(ErrorKind::external, "runsvdir did not start");
    std::this_thread::sleep_for(20ms);
  }
  core::logger("xoe")->info("started runsvdir on {}", s.scan_dir().string());
}

// The last runit entry gone: nothing to start at boot. The link goes
// first, so that the system's runsvdir does not start the runsv again;
// the folder goes even when a killed run removed the link already.
void remove_runsvdir_boot(const Settings& s) {
  if (systemd_booted()) return systemd::remove_runit_boot(s);
  std::error_code ec;
  if (boot_link_ours(s)) fs::remove(boot_link(s), ec);
  if (!fs::exists(boot_dir(s), ec)) return;
  runit::release(boot_dir(s));
  fs::remove_all(boot_dir(s), ec);
}

}  // namespace

std::string_view kind_name(SupervisorKind kind) { return kind == SupervisorKind::systemd ? "systemd" : "runit"; }

bool systemd_booted() {
  std::error_code ec;
  if (!fs::is_directory("/run/systemd/system", ec)) return false;
  // A folder left behind (a package's files, a container's) is not enough:
  // PID 1 must be systemd itself.
  std::ifstream comm("/proc/1/comm");
  std::string name;
  return (comm >> name) && name == "systemd";
}

SupervisorKind supervisor_kind(const Settings& s) {
  if (s.supervisor == "runit") return SupervisorKind::runit;
  bool booted = systemd_booted();
  if (s.supervisor == "systemd" && !booted)
    fail(ErrorKind::precondition, "supervisor.kind is systemd, but systemd is not PID 1 on this host");
  return booted ? SupervisorKind::systemd : SupervisorKind::runit;
}

namespace {

// The runit entries of this root: the links in the scan folder.
std::vector<std::string> runit_entries(const Settings& s) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(s.scan_dir(), ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The supervisor a service's entry was written for, whatever supervisor.kind
// says now: the unit file, or the runit folder (its link may be missing when
// a define was killed half-way).
std::optional<SupervisorKind> entry_of(const Settings& s, const std::string& name) {
  std::error_code ec;
  if (fs::exists(systemd::unit_file(s, name), ec)) return SupervisorKind::systemd;
  if (fs::is_directory(runit_dir(s, name), ec) || fs::is_symlink(fs::symlink_status(s.scan_dir() / name, ec)))
    return SupervisorKind::runit;
  return std::nullopt;
}

// The supervisor that runs `name`: its entry's, or this root's for a
// service without an entry.
SupervisorKind kind_of(const Settings& s, const std::string& name) {
  if (auto kind = entry_of(s, name)) return *kind;
  return supervisor_kind(s);
}

// A unit can be told only by a running systemd.
void need_systemd(const std::string& name) {
  if (!systemd_booted())
    fail(ErrorKind::precondition,
         "service {} is a systemd unit, but systemd is not PID 1 on this host: run `xoe supervisor migrate`", name);
}

// True when the entry is marked to run (runit: no `down` file; systemd: enabled).
bool marked_up(const Settings& s, const std::string& name, SupervisorKind kind) {
  std::error_code ec;
  if (kind == SupervisorKind::systemd) return fs::is_symlink(fs::symlink_status(systemd::wants_link(s, name), ec));
  return !fs::exists(runit_dir(s, name) / "down", ec);
}

void define_runit(const Settings& s, const ServiceProgram& p) {
  fs::path dir = runit_dir(s, p.name), link = s.scan_dir() / p.name;
  auto xmode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
               fs::perms::others_exec;
  std::error_code ec;
  bool is_new = !fs::is_symlink(fs::symlink_status(link, ec));
  host::make_dir(dir / "log", xmode);
  std::string run = "#!/bin/sh\n# Written by xoe for service " + p.name +
                    "; runsv runs it. Do not edit: xoe rewrites it.\nexec 2>&1\nexec chpst -u " +
                    host::shell_quote(p.user + ":" + p.user + ":" + p.group) +
                    " /usr/bin/env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8";
  for (const auto& [k, val] : p.env) run += " " + host::shell_quote(k + "=" + val);
  for (const auto& a : p.argv) run += " " + host::shell_quote(a);
  run += "\n";
  host::write_file(dir / "run", run, xmode);
  // runsv runs control/t instead of sending TERM when it exits 0.
  if (p.stop_signal.empty()) {
    fs::remove(dir / "control" / "t", ec);
  } else {
    host::make_dir(dir / "control", xmode);
    host::write_file(dir / "control" / "t",
                     "#!/bin/sh\n# Written by xoe: stop the server with SIG" + p.stop_signal +
                         " instead of TERM.\nread pid < supervise/pid && exec kill -s " + p.stop_signal +
                         " \"$pid\"\n",
                     xmode);
  }
  host::write_file(dir / "log" / "run",
                   "#!/bin/sh\n# Written by xoe: the service's log, rotated by svlogd.\nexec svlogd -tt " +
                       host::shell_quote(p.logs.string()) + "\n",
                   xmode);
  if (!is_new) return;
  // Taken up by runsv now, started later: the `down` file keeps it down.
  host::write_file(dir / "down", "", fs::perms::owner_read | fs::perms::owner_write);
  start_runsvdir(s);
  fs::create_symlink(dir, link);
}

// Present while an entry that ran is moved to the other supervisor.
// (Beside the service's folder, not in it: its mode is the service's.)
fs::path move_marker(const Settings& s, const std::string& name) {
  return s.services_dir() / ("." + name + ".supervisor-move");
}

void up_as(const Settings& s, const std::string& name, SupervisorKind kind) {
  if (kind == SupervisorKind::systemd) {
    need_systemd(name);
    return systemd::start(s, name);
  }
  start_runsvdir(s);
  runit::wait_supervised(runit_dir(s, name), s.scan_dir(), 15s);
  runit::up(runit_dir(s, name));
}

void release_as(const Settings& s, const std::string& name, SupervisorKind kind) {
  if (kind == SupervisorKind::systemd) return systemd::remove(s, name);
  std::error_code ec;
  fs::remove(s.scan_dir() / name, ec);
  runit::release(runit_dir(s, name));
  if (runit_entries(s).empty()) remove_runsvdir_boot(s);
}

}  // namespace

SupervisorStatus supervisor_status(const Settings& s) {
  SupervisorStatus st;
  st.kind = supervisor_kind(s);
  st.runit = runit_entries(s);
  st.systemd = systemd::units(s);
  if (st.kind == SupervisorKind::systemd) {
    st.running = true;
    st.pid = 1;
    st.scan_dir = systemd::unit_dir;
  } else {
    st.pid = running_pid(s);
    if (!st.pid) st.pid = boot_pid(s);
    if (!st.pid) st.pid = runsvdir_of(s.scan_dir());
    st.running = st.pid.has_value();
    st.scan_dir = s.scan_dir();
  }
  std::error_code ec;
  if (systemd_booted()) {
    fs::path unit = systemd::unit_dir / systemd::runit_boot_unit(s.root);
    if (fs::exists(unit, ec)) st.boot = unit;
  } else if (boot_link_ours(s)) {
    st.boot = boot_link(s);
  }
  return st;
}

void supervisor_start(const Settings& s) {
  auto kind = supervisor_kind(s);
  if (kind == SupervisorKind::runit || !runit_entries(s).empty()) start_runsvdir(s);
  if (kind == SupervisorKind::systemd) systemd::start_enabled(s);
}

void supervisor_stop(const Settings& s) {
  auto own = running_pid(s), under_system = boot_pid(s);
  if (auto other = runsvdir_of(s.scan_dir()); other && other != own && other != under_system)
    fail(ErrorKind::precondition, "runsvdir (pid {}) watches {} and xoe did not start it: stop that runsvdir first",
         *other, s.scan_dir().string());
  if (systemd_booted()) systemd::stop_all(s);
  auto lock = core::FileLock::acquire(s.locks, "xoe.supervisor");
  std::vector<fs::path> services;
  for (const auto& name : runit_entries(s)) services.push_back(s.scan_dir() / name);
  // Stop runsvdir first, so that it does not start a runsv again.
  if (own) {
    core::run({"start-stop-daemon", "--stop", "--quiet", "--pidfile", pid_file(s).string(), "--exec",
               std::string(runsvdir_bin), "--retry", "TERM/10/KILL/5"},
              {.timeout = 30s, .check = false});
  }
  if (under_system) runit::stop(boot_dir(s));  // down until supervisor start, or the next boot
  std::error_code ec;
  fs::remove(pid_file(s), ec);
  for (const auto& dir : services) runit::release(dir);
}

namespace supervisor {

std::optional<SupervisorKind> entry_kind(const Settings& s, const std::string& name) { return entry_of(s, name); }

std::optional<PendingMove> pending_move(const Settings& s, const std::string& name) {
  auto have = entry_of(s, name);
  if (!have) return std::nullopt;
  std::error_code ec;
  bool unfinished = fs::exists(move_marker(s, name), ec);
  if (*have == supervisor_kind(s) && !unfinished) return std::nullopt;
  return PendingMove{*have, unfinished || status(s, name).state == "run"};
}

void define(const Settings& s, const ServiceProgram& p) {
  auto want = supervisor_kind(s);
  auto have = entry_of(s, p.name);
  fs::path marker = move_marker(s, p.name);
  std::error_code ec;
  if (have && *have != want) {
    // Written for the other supervisor (supervisor.kind changed since):
    // moved, and started again when it was marked to run. The marker keeps
    // that through a kill: the next define starts it.
    if (marked_up(s, p.name, *have)) host::write_file(marker, "", fs::perms::owner_read | fs::perms::owner_write);
    release_as(s, p.name, *have);
    if (*have == SupervisorKind::runit) fs::remove_all(runit_dir(s, p.name), ec);
    core::logger("xoe")->info("service {}: moved from {} to {}", p.name, kind_name(*have), kind_name(want));
  }
  if (want == SupervisorKind::systemd) systemd::write_unit(s, p); else define_runit(s, p);
  if (fs::exists(marker, ec)) {
    up_as(s, p.name, want);
    fs::remove(marker, ec);
  }
}

void up(const Settings& s, const std::string& name) {
  auto kind = kind_of(s, name);
  core::logger("xoe")->debug("starting {} ({})", name, kind_name(kind));
  up_as(s, name, kind);
}

void down(const Settings& s, const std::string& name) {
  auto kind = entry_of(s, name);
  if (!kind) return;
  if (*kind == SupervisorKind::systemd) {
    need_systemd(name);
    return systemd::stop(s, name);
  }
  runit::down(runit_dir(s, name));
}

ProcessState status(const Settings& s, const std::string& name) {
  auto kind = entry_of(s, name);
  if (kind == SupervisorKind::systemd) {
    if (!systemd_booted()) return {"unsupervised", std::nullopt, 0};
    return systemd::status(s, name);
  }
  return runit::status(runit_dir(s, name));
}

void release(const Settings& s, const std::string& name) {
  if (auto kind = entry_of(s, name)) release_as(s, name, *kind);
  std::error_code ec;
  fs::remove(move_marker(s, name), ec);
}

}  // namespace supervisor

namespace runit {

bool supervised(const fs::path& dir) {
  int fd = ::open((dir / "supervise/ok").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

void wait_supervised(const fs::path& dir, const fs::path& scan_dir, std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  auto next_touch = start + 1100ms;
  auto next_wake = start;
  std::optional<pid_t> runsvdir;
  while (!supervised(dir)) {
    if (std::chrono::steady_clock::now() > next_touch) {
      ::utimensat(AT_FDCWD, scan_dir.c_str(), nullptr, 0);  // now: a second after the link was made
      next_touch += 2s;
    }
    if (std::chrono::steady_clock::now() >= next_wake) {
      if (!runsvdir) runsvdir = runsvdir_of(scan_dir);
      if (runsvdir) wake_runsvdir(*runsvdir);
      next_wake += 250ms;
    }
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "runsv did not take up {} within {} s", dir.string(), timeout.count() / 1000);
    std::this_thread::sleep_for(50ms);
  }
}

ProcessState status(const fs::path& dir) {
  ProcessState st{"unsupervised", std::nullopt, 0};
  if (!supervised(dir)) return st;
  auto r = sv({"status", dir.string()}, false);
  // "run: DIR: (pid 123) 5s; run: log: (pid 122) 5s" or "down: DIR: 3s, normally up; ..."
  std::string line = r.out.substr(0, r.out.find(';'));
  auto colon = line.find(':');
  if (colon == std::string::npos) return st;
  st.state = line.substr(0, colon);
  auto rest = line.substr(colon + 1 + dir.string().size() + 1);
  auto p = rest.find("(pid ");
  if (p != std::string::npos) st.pid = static_cast<pid_t>(std::atol(rest.c_str() + p + 5));
  auto close = rest.find(')');
  std::istringstream in(close == std::string::npos ? rest : rest.substr(close + 1));
  std::string secs;
  in >> secs;
  if (!secs.empty()) st.seconds = std::atoll(secs.c_str());
  return st;
}

namespace {

// What runsv last wrote into supervise/status (20 bytes): byte 17 the
// state it wants ('u' or 'd'), byte 19 the state (0 down, 1 run, 2 finish).
struct RunsvStatus {
  char want = 0;
  int state = -1;
};
RunsvStatus status_of(const fs::path& dir) {
  std::ifstream in(dir / "supervise" / "status", std::ios::binary);
  char b[20];
  if (!in.read(b, sizeof b)) return {};
  return {b[17], static_cast<unsigned char>(b[19])};
}

// Sends runsv one command through supervise/control. Not `sv up` or `sv
// down`: sv sends nothing when supervise/status already shows the wanted
// state, and runsv updates it only when it reads the command. Between two
// starts of a server that keeps dying runsv sleeps a second, so a `sv down`
// then a `sv up` within it lost the up (the service stayed down: an
// update's rollback failed so).
void command(const fs::path& dir, char c) {
  core::Fd fd(::open((dir / "supervise/control").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) fail(ErrorKind::external, "runsv does not supervise {}: {}", dir.string(), std::strerror(errno));
  if (::write(fd.get(), &c, 1) != 1)
    fail(ErrorKind::external, "cannot command runsv of {}: {}", dir.string(), std::strerror(errno));
}

// Waits until runsv has taken the command `want` and the service is in
// `state`, looking every 20 ms (`sv -w` looks every 420 ms, which made each
// start and stop last half a second).
bool wait_status(const fs::path& dir, char want, int state, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto st = status_of(dir); st.want != want || st.state != state; st = status_of(dir)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// `sv force-stop`: down, then KILL after 7 s.
bool force_stop(const fs::path& dir) {
  command(dir, 'd');
  if (wait_status(dir, 'd', 0, 7s)) return true;
  command(dir, 'k');
  return wait_status(dir, 'd', 0, 5s);
}

}  // namespace

void up(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir / "down", ec);
  command(dir, 'u');
  if (!wait_status(dir, 'u', 1, 30s)) fail(ErrorKind::external, "runsv did not start {} within 30 s", dir.string());
}

void down(const fs::path& dir) {
  host::write_file(dir / "down", "", fs::perms::owner_read | fs::perms::owner_write);
  if (supervised(dir) && !force_stop(dir)) fail(ErrorKind::external, "runsv did not stop {}", dir.string());
}

void stop(const fs::path& dir) {
  if (supervised(dir) && !force_stop(dir)) fail(ErrorKind::external, "runsv did not stop {}", dir.string());
}

void release(const fs::path& dir) {
  if (!supervised(dir)) return;
  force_stop(dir);
  sv({"exit", dir.string()}, false);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (supervised(dir) || (fs::exists(dir / "log") && supervised(dir / "log"))) {
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "runsv of {} did not exit", dir.string());
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace runit

}  // namespace xoe
