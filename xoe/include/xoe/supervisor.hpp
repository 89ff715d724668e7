// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The supervisor of this root's services: runit or systemd (the key
// supervisor.kind; auto is systemd when systemd is PID 1). The rest of xoe
// uses only the functions of namespace `supervisor` below, which take the
// service's name and work the same under both; docs/xoe.md, Supervisor.
//
// runit: xoe starts one `runsvdir -P ROOT/var/lib/oe/xoe/sv 'log: ...'` per
// root when none watches that folder: as a runit service of the system's
// runit (`runsvdir -P /etc/service`: Debian's runit-run, runit-init, a
// vserver's PID 1) where systemd is not PID 1, so that it comes back at
// boot; else through start-stop-daemon, which detaches it (systemd then
// starts it at boot through a oneshot unit, systemd.hpp); each service is a runit service folder linked into that scan
// folder, whose `run` script xoe writes. runsv restarts a service that dies;
// `sv` starts, stops and reads its state.
//
// systemd: each service is a unit whose file xoe writes (see systemd.hpp
// for its name and place); systemd restarts a service that fails; systemctl
// starts, stops and reads its state.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

enum class SupervisorKind { runit, systemd };

std::string_view kind_name(SupervisorKind kind);

// True when systemd is this host's PID 1: /run/systemd/system is a folder
// (the test of sd_booted(3)) and /proc/1/comm is "systemd".
bool systemd_booted();

// The supervisor of this root: supervisor.kind, auto resolved with
// systemd_booted(). Throws precondition when it is systemd and systemd is
// not PID 1.
SupervisorKind supervisor_kind(const Settings& settings);

struct SupervisorStatus {
  SupervisorKind kind = SupervisorKind::runit;  // the root's: what new entries are written for
  bool running = false;
  std::optional<pid_t> pid;        // runsvdir's, or 1 (systemd)
  std::filesystem::path scan_dir;  // runsvdir's scan folder, or the folder of the unit files
  // The entries of this root under each supervisor: runit's service names
  // (the links in the scan folder), systemd's unit file names. After a
  // change of supervisor.kind, `xoe supervisor migrate` moves them.
  std::vector<std::string> runit;
  std::vector<std::string> systemd;
  // What starts this root's runsvdir at boot: the boot unit (systemd as
  // PID 1), the link in /etc/service (the system's runit), or nothing (then
  // `xoe supervisor start` has to run at boot). systemd's own entries are
  // enabled units, which come back by themselves.
  std::optional<std::filesystem::path> boot;
  friend bool operator==(const SupervisorStatus&, const SupervisorStatus&) = default;
};

SupervisorStatus supervisor_status(const Settings& settings);

// runit (or any runit entry left): starts runsvdir for this root unless it
// runs. systemd as PID 1: starts the units of this root that are enabled
// (not stopped by xoe). Idempotent.
void supervisor_start(const Settings& settings);

// Stops every service of this root and, under runit, runsvdir, and waits
// until none of them is left. What was started stays so: supervisor start
// (or the next boot) starts it again. Refuses (precondition), before it
// stops anything, when a runsvdir xoe did not start watches the scan
// folder (a vserver's PID 1): that one would start the services again.
void supervisor_stop(const Settings& settings);

// The state of one service as the supervisor reports it.
struct ProcessState {
  std::string state;  // "run", "down", "finish", or "unsupervised" (no supervisor entry watched)
  std::optional<pid_t> pid;
  std::int64_t seconds = 0;  // in that state for
  friend bool operator==(const ProcessState&, const ProcessState&) = default;
};

// What the supervisor runs for a service: the server's argv (no shell), as
// `user` with its own group and the supplementary group `group`, in an
// environment of PATH=/usr/bin:/bin, LC_ALL and LANG C.UTF-8, then `env`;
// stdout and stderr appended to `logs`/current.
struct ServiceProgram {
  std::string name;
  std::string user;
  std::string group;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::filesystem::path dir;   // the service's folder: the server's working folder under systemd
  std::filesystem::path logs;  // the log folder
  // The signal that stops the server ("INT", ...); empty: TERM. PostgreSQL
  // takes TERM as a smart shutdown, which waits for every session to end.
  std::string stop_signal;
};

// Each service's entry stays with the supervisor it was written for: the
// functions below find it (its unit file, or its runit folder) and act
// through that supervisor, whatever supervisor.kind says now; only define()
// moves it to the root's supervisor. A systemd entry on a host whose PID 1
// is not systemd is `unsupervised`, and up() and down() refuse it
// (precondition).
namespace supervisor {

// The supervisor the entry of `name` was written for; none without entry.
std::optional<SupervisorKind> entry_kind(const Settings& settings, const std::string& name);

// Writes the supervisor entry of program.name for the root's supervisor:
// runit's service folder and its link into the scan folder (starting
// runsvdir), or the unit file and a daemon-reload. A new entry stays down
// until up(); an existing one is rewritten and keeps its state (a running
// server runs on with the old argv until it is restarted). An entry of the
// other supervisor is moved: released (its server stopped, its files
// removed), written anew, and started when it was marked to run (a marker
// in the service's folder keeps that through a kill, and the next define
// starts it).
void define(const Settings& settings, const ServiceProgram& program);

// An entry define() would move: written for another supervisor than the
// root's, or one whose move was killed before its server was started
// again. `running`: it runs now, or ran before that killed move (define
// starts it again either way).
struct PendingMove {
  SupervisorKind from;
  bool running = false;
};
std::optional<PendingMove> pending_move(const Settings& settings, const std::string& name);

// Starts the service and marks it to be started again with the supervisor
// (runit: no `down` file; systemd: enabled); returns once the supervisor
// runs it (not once it answers). Throws external when the supervisor fails.
void up(const Settings& settings, const std::string& name);

// Stops the service and marks it to stay down; a service without an entry
// is left alone.
void down(const Settings& settings, const std::string& name);

ProcessState status(const Settings& settings, const std::string& name);

// Stops the service and removes its supervisor entry (runit: the link, the
// runsv; the folder goes with the service's folder. systemd: the unit
// file). A service without an entry is left alone.
void release(const Settings& settings, const std::string& name);

}  // namespace supervisor

// The runit side, for the implementation and its tests.
namespace runit {

ProcessState status(const std::filesystem::path& service_dir);
// True while a runsv supervises the folder (its supervise/ok pipe has a reader).
bool supervised(const std::filesystem::path& service_dir);
// Waits until a runsv supervises the folder; throws external after `timeout`.
// runsvdir notices a new service when the scan folder's mtime changes, in
// whole seconds: a link made in the second of its last scan would be missed,
// so the folder's mtime is moved on while waiting. runsvdir looks only when
// it wakes up (every 5 s when idle): it is woken through its log pipe every
// 250 ms while waiting, so a new service is taken up within about a second.
void wait_supervised(const std::filesystem::path& service_dir, const std::filesystem::path& scan_dir,
                     std::chrono::milliseconds timeout);
void up(const std::filesystem::path& service_dir);
void down(const std::filesystem::path& service_dir);
// Stops the service now and leaves its `down` file as it is (it starts
// again with its runsv, as marked).
void stop(const std::filesystem::path& service_dir);
// Stops the service and tells its runsv to exit; waits for both.
void release(const std::filesystem::path& service_dir);

}  // namespace runit

}  // namespace xoe
