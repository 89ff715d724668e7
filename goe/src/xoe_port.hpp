// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Every call goe makes to xoe, behind one small interface of goe's own, in
// goe's types (no type of xoe's leaves xoe_port.cpp). Its implementation
// is a thin adapter over xoe::Client's local_client (libxoe in process):
// each method is one or two of the Client's operations. goe never runs
// `xoe` as a process and never reads xoe's files itself.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/paths.hpp"

namespace goe {

// One service as the Services page shows it: what `xoe service list` and
// `xoe monitor` tell. Unknown values are nullopt.
struct ServiceView {
  std::string name;
  std::string software;
  std::string version;
  std::string role;   // production, training, test, ...
  std::string state;  // run, down, finish, unsupervised, creating, ...
  std::int64_t seconds = 0;  // in that state for
  bool up = false;           // answered its health probe
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> db_bytes;
  std::optional<std::int64_t> users;
  std::optional<std::chrono::sys_seconds> last_login;
  std::optional<std::chrono::sys_seconds> last_backup;
  std::optional<std::int64_t> backup_age_seconds;
};

struct BackupView {
  std::filesystem::path archive;
  std::chrono::sys_seconds time;
  std::optional<std::uintmax_t> bytes;  // the archive's size
};

// One service as its detail page shows it: what `xoe service show` tells.
struct ServiceDetail {
  ServiceView view;
  std::string backend;
  std::string database;
  std::uint16_t port = 0;
  std::string url;
  std::string user;
  std::string supervisor;
  std::vector<std::string> modules;
  std::string admin_login;
};

// What `xoe backup verify` found.
struct VerifyView {
  bool ok = false;
  std::string error;
  double seconds = 0;
};

// What `xoe training refresh` did.
struct RefreshView {
  std::string training;
  std::string production;
  std::filesystem::path archive;  // the production's backup it restored
  double seconds = 0;
};

// What `xoe restore SERVICE ARCHIVE --as NEW` made.
struct RestoreView {
  std::string service;
  std::string role;
  std::string url;
  std::uint16_t port = 0;
  std::string database;
  bool neutralised = false;
  std::string admin_password;  // of the service it created, shown once
  double seconds = 0;
};

// One student database (`xoe students list`); the password only in the
// answer of the dissemination that made it.
struct StudentView {
  std::string group;
  std::string login;
  std::string kind;     // reference, production, test
  std::string service;  // the service that serves it
  std::string database;
  std::string url;
  std::string state;  // ready, creating
  std::string created;
  std::string password;
};

struct StudentsView {
  std::string group;
  std::string service;
  std::vector<StudentView> databases;  // with their passwords
  double seconds = 0;
};

enum class Action { start, stop, restart };
std::optional<Action> parse_action(std::string_view text);
const char* action_name(Action action);

class XoePort {
 public:
  virtual ~XoePort() = default;
  // Every service with its state (no probe: quick).
  virtual std::vector<ServiceView> list() = 0;
  // Every service (or the one named) with xoe monitor's measures.
  virtual std::vector<ServiceView> monitor(const std::optional<std::string>& service) = 0;
  // One service's state after the action, as xoe reads it back.
  virtual ServiceView act(const std::string& service, Action action) = 0;
  virtual BackupView backup_now(const std::string& service) = 0;
  // The archives of `service`, newest first.
  virtual std::vector<BackupView> backups(const std::string& service) = 0;
  // `xoe service show` (not_found for no such service).
  virtual ServiceDetail detail(const std::string& service) = 0;
  // The last `count` lines of its log (`xoe service logs -n COUNT`).
  virtual std::vector<std::string> log(const std::string& service, std::size_t count) = 0;
  // `xoe backup verify ARCHIVE`.
  virtual VerifyView verify(const std::filesystem::path& archive) = 0;
  // `xoe restore SERVICE ARCHIVE --as NEW`: a new service (role test).
  virtual RestoreView restore_as_new(const std::string& service, const std::filesystem::path& archive,
                                     const std::string& as) = 0;
  // `xoe restore SERVICE ARCHIVE`: over an existing service (it keeps its
  // role and its own admin password; neutralised unless production).
  virtual RestoreView restore_into(const std::string& service, const std::filesystem::path& archive) = 0;
  // `xoe training refresh TRAINING --from PRODUCTION`.
  virtual RefreshView refresh(const std::string& training, const std::string& production) = 0;
  // `xoe students disseminate SERVICE GROUP --students N`.
  virtual StudentsView disseminate(const std::string& service, const std::string& group, int students) = 0;
  // `xoe students list [GROUP]` (no password).
  virtual std::vector<StudentView> students(const std::optional<std::string>& group) = 0;
  // `xoe students remove GROUP`: the databases dropped.
  virtual std::vector<std::string> remove_students(const std::string& group) = 0;
};

// libxoe in this process, on the root of `paths` with xoe's own configuration
// (ROOT/etc/oe/xoe.toml and OE_XOE_* variables, as xoe reads them).
std::unique_ptr<XoePort> local_xoe(const core::Paths& paths);

}  // namespace goe
