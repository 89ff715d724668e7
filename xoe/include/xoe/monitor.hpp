// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Monitoring: the health and usage of each service of this host, read
// without changing anything. Per service: its supervisor state, whether it
// answers the recipe's health probe and how fast, the resident memory of its
// server and the server's descendants, its database's size, its newest
// backup, and the usage statistics the recipe's [usage] SQL gives (active
// users, last login), which contract-expiry checks use. A value that cannot
// be read is unknown (nullopt), never an error. Rendered as JSON and in the
// Prometheus text format (docs/xoe.md, "Monitoring").

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

struct MonitorRequest {
  std::vector<std::string> services;                     // empty: every service of the registry
  std::chrono::milliseconds probe_timeout{5000};          // of each HTTP probe
  friend bool operator==(const MonitorRequest&, const MonitorRequest&) = default;
};

struct ServiceHealth {
  std::string name;
  std::string software;
  std::string version;
  std::string role;
  std::string state;  // as `service list` gives it: run, down, finish, unsupervised, creating, removing
  bool up = false;    // answered the recipe's probe (HTTP 200 with the expected text)
  std::optional<double> http_ms;               // the probe's round trip, when up
  std::optional<std::uint64_t> memory_bytes;   // RSS of the server and its descendants, when it runs
  std::optional<std::uint64_t> db_bytes;       // pg_database_size, or the SQLite file's size
  std::optional<std::chrono::sys_seconds> last_backup;  // time of the newest archive
  std::optional<std::int64_t> backup_age_seconds;
  std::optional<std::int64_t> users;                   // the recipe's usage.users_sql
  std::optional<std::chrono::sys_seconds> last_login;  // the recipe's usage.last_login_sql (UTC)
  friend bool operator==(const ServiceHealth&, const ServiceHealth&) = default;
};

struct MonitorResult {
  std::chrono::sys_seconds time;  // when it was measured
  std::vector<ServiceHealth> services;
  [[nodiscard]] bool all_up() const;
  friend bool operator==(const MonitorResult&, const MonitorResult&) = default;
};

// Measures the services of `request` (all of the registry when none is
// named), in the order named or the registry's order. Reads only: the usage
// SQL runs read-only (PostgreSQL: default_transaction_read_only; SQLite:
// the file opened read-only). Throws invalid (a name that is not a label)
// or not_found (no such service) before anything is measured; a service that
// is down, or whose database cannot be read, is reported with unknown
// values and a warning in the log.
MonitorResult monitor_services(const Settings& settings, const MonitorRequest& request);

// ---------------------------------------------------------------- parts (unit-tested)

// VmRSS of a /proc/PID/status text, in bytes; nullopt when absent (a kernel
// thread, a zombie).
std::optional<std::uint64_t> rss_from_status(std::string_view status);

// The parent pid of a /proc/PID/stat text (the field after the command,
// which may itself hold spaces and parentheses).
std::optional<pid_t> ppid_from_stat(std::string_view stat);

// `root` and all its descendants in a child -> parent map, `root` first.
std::vector<pid_t> process_tree(pid_t root, const std::map<pid_t, pid_t>& parent_of);

// The last authenticated use a service's server recorded (the guard of a
// Tryton server, docs/xoe.md): the modification time of the regular file
// `name` in the folder `data`, which the service's user owns. The folder is
// opened without following a symbolic link and the file is only looked at
// (fstatat, AT_SYMLINK_NOFOLLOW), never opened: a link, a FIFO, a device or a
// folder there, or nothing, is nullopt.
std::optional<std::chrono::sys_seconds> recorded_use(const std::filesystem::path& data, const std::string& name);

// ---------------------------------------------------------------- /proc

// The parent of every process of /proc (child -> parent).
std::map<pid_t, pid_t> read_process_parents();

// The summed VmRSS of `root` and its descendants (`parent_of` from
// read_process_parents); nullopt when none of them has one (gone).
std::optional<std::uint64_t> tree_rss(pid_t root, const std::map<pid_t, pid_t>& parent_of);

// A timestamp as SQL gives it ("2024-05-01 10:11:12.345678", "...T...Z",
// "+00" or "+00:00" suffixes), read as UTC, to the second; nullopt when it is
// not one.
std::optional<std::chrono::sys_seconds> parse_sql_timestamp(std::string_view text);

// "2024-05-01T10:11:12Z".
std::string iso_utc(std::chrono::sys_seconds time);

// A label value of the Prometheus text format: \ " and newline escaped.
std::string prometheus_escape(std::string_view value);

// The Prometheus text exposition format (version 0.0.4) of `result`: a
// # HELP and # TYPE line per metric, then one sample per service with the
// labels service, software, version and role; a sample whose value is
// unknown is left out.
std::string prometheus_text(const MonitorResult& result);

}  // namespace xoe
