// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The ERP services inside vservers, through xoe (docs/cloe.md, "xoe inside").
//
// cloe reaches xoe only through libxoe's typed client over a runner that
// runs `xoe --json ...` inside the vserver as its root, in its cgroups
// (vserver_enter_argv); xoe's answers may carry passwords, so they are
// read, never logged. These types are cloe's own: nothing of libxoe shows
// here. Errors are core::Error: those of xoe come back with their kind
// (xoe's exit code); the vserver's own:
//   not_found     an unknown cluster or vserver
//   precondition  the vserver does not run, or has no xoe (its template was
//                 built without a repository: template build --repository)
//   external      the vserver could not be entered, or xoe's answer is not
//                 one of its contract

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"

namespace cloe {

// A service as cloe reports it: where it is and how it is reached.
struct ServiceEntry {
  std::string cluster;
  std::string node;
  std::string vserver;
  std::string ip;  // the vserver's
  std::string name;
  std::string software;
  std::string version;
  std::string role;
  std::string state;  // xoe's: run, down, finish, unsupervised, creating
  std::uint16_t port = 0;
  std::string url;  // at the vserver's address
};

// What a vserver could not answer (a list over many goes on past it).
struct VserverProblem {
  std::string vserver;
  std::string kind;  // core::ErrorKind's name
  std::string message;
};

struct ServiceListRequest {
  std::string cluster;
  std::optional<std::string> vserver;  // one vserver; else every vserver (of the group)
  std::optional<std::string> group;
};
struct ServiceListResult {
  std::vector<ServiceEntry> services;   // by vserver, then name
  std::vector<VserverProblem> problems;  // vservers that do not run, have no xoe, failed
};
// One vserver: its errors are thrown. Many: each failure is a problem.
ServiceListResult service_list(const Settings& settings, const ServiceListRequest& request);

// What one run of xoe inside a vserver gave (cloe xoe VSERVER -- ARGS).
struct XoeRun {
  int exit_code = 0;
  std::string out;  // may carry passwords: the caller shows it, never logs it
  std::string err;
};
// Runs `xoe ARGS...` inside the running vserver. Throws not_found,
// precondition (it does not run; no xoe inside), external (not entered).
XoeRun xoe_run(const Settings& settings, const std::string& cluster, const std::string& vserver,
               const std::vector<std::string>& args, const std::optional<std::string>& stdin_text = std::nullopt);

struct ServiceCreateRequest {
  std::string cluster;
  std::string vserver;
  std::string name;
  std::string software;
  std::string version;
  std::string role = "production";
  std::vector<std::string> modules;
  std::optional<std::uint16_t> port;
};
struct ServiceCreated {
  ServiceEntry service;
  std::string admin_login;
  std::string admin_password;  // shown once
  bool resumed = false;
};
ServiceCreated service_create(const Settings& settings, const ServiceCreateRequest& request);

// vds: NAME-production, -training, -test of one version (xoe profile apply).
struct ProfileApplyRequest {
  std::string cluster;
  std::string vserver;
  std::string profile = "vds";
  std::string name;
  std::string software;  // acs
  std::string version;   // vds
};
struct ProfileApplied {
  std::vector<ServiceCreated> services;  // admin_password empty for one that existed
};
ProfileApplied profile_apply(const Settings& settings, const ProfileApplyRequest& request);

ServiceEntry service_show(const Settings& settings, const std::string& cluster, const std::string& vserver,
                          const std::string& name);
ServiceEntry service_start(const Settings& settings, const std::string& cluster, const std::string& vserver,
                           const std::string& name);
ServiceEntry service_stop(const Settings& settings, const std::string& cluster, const std::string& vserver,
                          const std::string& name);

// What xoe monitor measures of a service, for hoe's usage reports and for
// people: times are ISO 8601 UTC, unknown values are empty.
struct ServiceUsage {
  ServiceEntry service;
  bool up = false;  // answered its recipe's HTTP probe
  std::optional<double> http_ms;
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> db_bytes;
  std::optional<std::int64_t> users;
  std::optional<std::string> last_login;
  std::optional<std::string> last_backup;
};
// Every service of the vserver, or those named (xoe monitor).
std::vector<ServiceUsage> service_monitor(const Settings& settings, const std::string& cluster,
                                          const std::string& vserver, const std::vector<std::string>& names = {});

// A backup of one service made by xoe inside (a .tar.zst in the vserver's
// own backup folder, kept by xoe's retention).
struct ServiceBackup {
  std::string vserver;
  std::string service;
  std::string archive;  // its path inside the vserver
  std::string sha256;
  std::uint64_t bytes = 0;
};
ServiceBackup service_backup(const Settings& settings, const std::string& cluster, const std::string& vserver,
                             const std::string& name);

// A service removed for good with its final archive: stopped, backed up by
// xoe inside, the archive copied out to the referee into
// archive_dir/CLUSTER/VSERVER/ (read inside the vserver by its root and
// streamed out: no path of the customer's is followed on the referee) and
// checked against xoe's SHA-256; only then does xoe remove the service.
// When the copy fails or does not match, nothing is removed (external).
struct ServiceRetired {
  std::string vserver;
  std::string service;
  std::filesystem::path archive;  // on the referee
  std::string sha256;
  std::uint64_t bytes = 0;
};
// archive_dir empty: ROOT/var/lib/oe/cloe/archives.
ServiceRetired service_remove(const Settings& settings, const std::string& cluster, const std::string& vserver,
                              const std::string& name, const std::filesystem::path& archive_dir = {});

// cloe locate NAME: a vserver of the inventory, else the services of that
// name in the cluster's running vservers (asked through xoe, never guessed).
struct Location {
  std::string kind;  // "vserver" or "service"
  std::string cluster;
  std::string node;
  std::string vserver;
  std::string ip;
  std::string service;  // kind service
  std::uint16_t port = 0;
  std::string url;
};
struct LocateResult {
  std::vector<Location> found;
  std::vector<VserverProblem> problems;  // vservers that could not be asked
};
// Throws not_found when nothing has that name (and no vserver failed to answer).
LocateResult locate(const Settings& settings, const std::string& cluster, const std::string& name);

}  // namespace cloe
