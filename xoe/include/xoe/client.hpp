// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// xoe::Client: xoe's operations as one interface, one request type in and
// one result type out per operation, with two implementations:
// local_client calls libxoe in this process (goe, tests); command_client
// runs `xoe --json ...` through a Runner the caller gives (cloe: xoe inside
// a vserver) and reads its answers with wire.hpp. Both throw core::Error
// with the kind of the failure: an error answer of xoe becomes the same
// core::Error it was in xoe (docs/xoe.md, "xoe::Client").

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/validate.hpp"
#include "xoe/backup.hpp"
#include "xoe/copy.hpp"
#include "xoe/database.hpp"
#include "xoe/monitor.hpp"
#include "xoe/nightly.hpp"
#include "xoe/profile.hpp"
#include "xoe/retire.hpp"
#include "xoe/self.hpp"
#include "xoe/service.hpp"
#include "xoe/service_config.hpp"
#include "xoe/settings.hpp"
#include "xoe/software.hpp"
#include "xoe/students.hpp"
#include "xoe/supervisor.hpp"
#include "xoe/update.hpp"
#include "xoe/wire.hpp"

namespace xoe {

// The requests of the operations that took loose arguments.
struct ServiceRequest {
  std::string name;
  friend bool operator==(const ServiceRequest&, const ServiceRequest&) = default;
};
struct RetireRequest {
  std::string name;
  std::filesystem::path archive_dir;  // the final backup goes there (it must exist)
};
struct BackupListRequest {
  std::optional<std::string> service;  // empty: every service, removed ones too
};
struct VerifyRequest {
  std::filesystem::path archive;
  ArchiveOrigin origin = ArchiveOrigin::this_root;
};
struct StudentsRemoveRequest {
  std::string group;
};
struct StudentsListRequest {
  std::optional<std::string> group;
};
struct UpgradeCheckRequest {
  std::string service;
  std::string to_version;
};
struct LogsRequest {
  std::string name;
  std::size_t lines = 100;
};
struct DepsRequest {
  core::SoftwareRef ref;
  bool check = false;  // only report what is missing
};
struct SelfInstallRequest {
  std::vector<core::SoftwareRef> refs;  // empty: every recipe
  bool check = false;                   // only report what is missing (no cron file either)
};
struct SelfUpdateRequest {
  std::filesystem::path package;  // the suite's .deb
};

class Client {
 public:
  virtual ~Client() = default;

  virtual std::vector<SoftwareInfo> software_list() = 0;
  virtual FetchResult software_fetch(const FetchRequest& request) = 0;
  virtual SoftwareRemoved software_remove(const core::SoftwareRef& ref) = 0;
  virtual DepsResult software_deps(const DepsRequest& request) = 0;

  virtual CreatePlan plan_create(const CreateRequest& request) = 0;  // create --dry-run
  virtual Created create(const CreateRequest& request) = 0;
  virtual std::vector<ServiceSummary> list() = 0;
  virtual ServiceInfo show(const ServiceRequest& request) = 0;
  virtual ServiceInfo start(const ServiceRequest& request) = 0;
  virtual ServiceInfo stop(const ServiceRequest& request) = 0;
  virtual ServiceInfo restart(const ServiceRequest& request) = 0;
  virtual Removed remove(const ServiceRequest& request) = 0;
  virtual Retired retire(const RetireRequest& request) = 0;  // remove --archive
  virtual UpdateResult update(const UpdateRequest& request) = 0;  // update, or upgrade with to_version
  virtual UpgradeCheck upgrade_check(const UpgradeCheckRequest& request) = 0;
  virtual LogLines logs(const LogsRequest& request) = 0;
  virtual ServiceConfig config_show(const ServiceRequest& request) = 0;
  // Set the assignments, or unset the keys: one of the two (invalid otherwise).
  virtual ServiceConfig config_change(const ConfigChange& request) = 0;

  virtual BackupResult backup(const BackupRequest& request) = 0;
  virtual std::vector<BackupListEntry> backup_list(const BackupListRequest& request) = 0;
  virtual PruneResult backup_prune(const PruneRequest& request) = 0;
  // A failed verification is a result (ok false), as in verify_backup.
  virtual VerifyResult verify(const VerifyRequest& request) = 0;
  virtual RestoreResult restore(const RestoreRequest& request) = 0;

  virtual std::vector<DatabaseInfo> db_list() = 0;
  virtual CopyResult db_copy(const CopyRequest& request) = 0;
  virtual DropResult db_drop(const DropRequest& request) = 0;
  virtual DatabaseCreated db_create(const ServiceRequest& request) = 0;
  virtual RenameResult db_rename(const RenameRequest& request) = 0;
  virtual RefreshResult training_refresh(const RefreshRequest& request) = 0;

  virtual StudentsResult students_disseminate(const DisseminateRequest& request) = 0;
  virtual StudentsResult students_copy(const StudentsCopyRequest& request) = 0;
  virtual StudentsRemoved students_remove(const StudentsRemoveRequest& request) = 0;
  virtual std::vector<StudentDatabase> students_list(const StudentsListRequest& request) = 0;

  // A service down is a result (up false), not an error. command_client:
  // MonitorRequest::probe_timeout is xoe's default.
  virtual MonitorResult monitor(const MonitorRequest& request) = 0;
  // A failed step is a result (ok false).
  virtual NightlyResult nightly() = 0;
  virtual ProfileResult profile_apply(const ProfileRequest& request) = 0;
  virtual SupervisorStatus supervisor_status() = 0;
  virtual SupervisorStatus supervisor_start() = 0;  // the status after the start
  virtual SupervisorStatus supervisor_stop() = 0;   // the status after the stop
  virtual MigrateResult supervisor_migrate() = 0;

  virtual SelfInstallResult self_install(const SelfInstallRequest& request) = 0;
  virtual SelfUpdate self_update(const SelfUpdateRequest& request) = 0;
};

// Calls libxoe with `settings` (copied) in this process.
std::unique_ptr<Client> local_client(const Settings& settings);

// What a Runner gives back of one run of xoe.
struct RunOutput {
  int exit_code = 0;
  std::string out;  // stdout: the answer, which may carry passwords
  std::string err;  // stderr: logs and the one-line error
};

// Runs xoe with `argv` (argv[0] is "xoe"; where and how it runs is the
// Runner's business), writing `stdin_text` to its stdin when given (secrets
// go there, never in argv), and returns once it exited. It captures stdout
// and never logs it. It throws core::Error only when xoe could not be run.
using Runner = std::function<RunOutput(const std::vector<std::string>& argv, const std::optional<std::string>& stdin_text)>;

// Runs `xoe [global_args...] --json COMMAND...` through `runner` for each
// operation and reads the answer (wire::read_answer). Throws the error an
// error answer carries, and external when xoe's stdout is not an answer of
// this contract version (not JSON, another version, another shape; the
// message says which, with xoe's exit status and last stderr line, never
// stdout's text).
std::unique_ptr<Client> command_client(Runner runner, std::vector<std::string> global_args = {});

// A Runner that runs `program` (default: the `xoe` beside this process's
// executable) with core::run, this process's environment inherited, no
// timeout, output captured and not logged.
Runner local_runner(std::optional<std::filesystem::path> program = std::nullopt);

}  // namespace xoe
