// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// xoe's JSON contract (docs/xoe.md, "JSON contract"): every result of
// libxoe's public API written to JSON and read back, the answers of
// `xoe --json` (an object {"version": contract_version, KEY: RESULT}), and
// the error answer {"version": N, "error": {"kind": K, "message": M}}. The
// xoe CLI renders only through this file and xoe::Client (client.hpp) reads
// with it; the golden answers are tests/golden/xoe/*.json.
//
// The spellings of the keys live here alone. For every type T below,
// to_json/from_json (found by nlohmann::json through ADL) are inverse:
// from_json(to_json(x)) == x. Reading throws nlohmann::json::exception on a
// missing key or a value of the wrong type; read_answer turns that, and an
// answer of another version, into core::Error.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "xoe/backup.hpp"
#include "xoe/copy.hpp"
#include "xoe/database.hpp"
#include "xoe/logs.hpp"
#include "xoe/monitor.hpp"
#include "xoe/nightly.hpp"
#include "xoe/profile.hpp"
#include "xoe/retire.hpp"
#include "xoe/self.hpp"
#include "xoe/service.hpp"
#include "xoe/service_config.hpp"
#include "xoe/software.hpp"
#include "xoe/students.hpp"
#include "xoe/supervisor.hpp"
#include "xoe/update.hpp"

namespace xoe {

// The answers' own types, where a command answers with more, less or other
// than one library result.

// `service list`: the summary of each service (show has the rest).
struct ServiceSummary {
  std::string name;
  std::string software;
  std::string version;
  std::string role;
  std::string state;
  std::string url;
  friend bool operator==(const ServiceSummary&, const ServiceSummary&) = default;
};
ServiceSummary summary(const ServiceInfo& info);

// `software remove`.
struct SoftwareRemoved {
  std::string software;
  std::string version;
  friend bool operator==(const SoftwareRemoved&, const SoftwareRemoved&) = default;
};

// `software deps [--check]`.
struct DepsResult {
  std::vector<std::string> present;
  std::vector<std::string> missing;
  bool installed = false;  // the missing ones were installed (false: --check)
  friend bool operator==(const DepsResult&, const DepsResult&) = default;
};

// `self-install [--check]`.
struct SelfInstallResult {
  std::vector<std::string> present;
  std::vector<std::string> missing;
  std::vector<std::string> installed;
  std::optional<std::filesystem::path> cron;  // the nightly cron file written (not with --check)
  friend bool operator==(const SelfInstallResult&, const SelfInstallResult&) = default;
};

// `service logs --json`: the lines with their stamps parsed.
struct LogLines {
  std::string service;
  std::filesystem::path file;
  std::vector<LogLine> lines;
  friend bool operator==(const LogLines&, const LogLines&) = default;
};
LogLines parsed(const ServiceLog& log);

// `supervisor migrate`.
struct MigrateResult {
  std::vector<SupervisorMove> moved;
  SupervisorStatus supervisor;
  friend bool operator==(const MigrateResult&, const MigrateResult&) = default;
};

// `backup list`: one archive, with its size and its service.
struct BackupListEntry {
  std::filesystem::path archive;
  std::chrono::sys_seconds time;
  std::uintmax_t bytes = 0;
  std::string service;
  bool service_exists = false;
  friend bool operator==(const BackupListEntry&, const BackupListEntry&) = default;
};
// Flattens list_service_backups' answer, reading each archive's size.
std::vector<BackupListEntry> backup_listing(const std::vector<ServiceBackups>& all);

#define XOE_WIRE_TYPE(T)                 \
  void to_json(nlohmann::json& j, const T& v); \
  void from_json(const nlohmann::json& j, T& v);
XOE_WIRE_TYPE(ServiceInfo)
XOE_WIRE_TYPE(ServiceSummary)
XOE_WIRE_TYPE(CreatePlan)
XOE_WIRE_TYPE(Created)
XOE_WIRE_TYPE(SupervisorMove)
XOE_WIRE_TYPE(Removed)
XOE_WIRE_TYPE(Retired)
XOE_WIRE_TYPE(SoftwareInfo)
XOE_WIRE_TYPE(FetchResult)
XOE_WIRE_TYPE(SoftwareRemoved)
XOE_WIRE_TYPE(DepsResult)
XOE_WIRE_TYPE(SelfInstallResult)
XOE_WIRE_TYPE(SelfUpdate)
XOE_WIRE_TYPE(BackupMeta)
XOE_WIRE_TYPE(BackupResult)
XOE_WIRE_TYPE(BackupListEntry)
XOE_WIRE_TYPE(PruneResult)
XOE_WIRE_TYPE(RestoreResult)
XOE_WIRE_TYPE(VerifyResult)
XOE_WIRE_TYPE(DatabaseInfo)
XOE_WIRE_TYPE(CopyResult)
XOE_WIRE_TYPE(RefreshResult)
XOE_WIRE_TYPE(DropResult)
XOE_WIRE_TYPE(DatabaseCreated)
XOE_WIRE_TYPE(RenameResult)
XOE_WIRE_TYPE(StudentDatabase)
XOE_WIRE_TYPE(StudentsResult)
XOE_WIRE_TYPE(StudentsRemoved)
XOE_WIRE_TYPE(ServiceHealth)
XOE_WIRE_TYPE(MonitorResult)
XOE_WIRE_TYPE(NightlyStep)
XOE_WIRE_TYPE(NightlyResult)
XOE_WIRE_TYPE(ProfileService)
XOE_WIRE_TYPE(ProfileResult)
XOE_WIRE_TYPE(PatchVerdict)
XOE_WIRE_TYPE(UpgradeCheck)
XOE_WIRE_TYPE(UpdateResult)
XOE_WIRE_TYPE(LogLine)
XOE_WIRE_TYPE(LogLines)
XOE_WIRE_TYPE(ServiceSetting)
XOE_WIRE_TYPE(ServiceConfig)
XOE_WIRE_TYPE(SupervisorStatus)
XOE_WIRE_TYPE(MigrateResult)
#undef XOE_WIRE_TYPE

namespace wire {

// The version of the contract, in every answer. 2: backup and restore nest
// under "backup"/"restore", `service remove` and `software remove` answer
// "removed" as an object, deps, self-install and profile nest, every result
// carries all its fields (docs/xoe.md lists the changes from 1).
inline constexpr int contract_version = 2;

// One answer type per result a command prints: `answer(x)` is the whole
// object `xoe --json` prints (dump(2) and a newline: render), and
// read_answer<T>(j) reads one back. The key of each is in wire.cpp.
nlohmann::json answer(const ServiceInfo& v);                         // "service": show, status, start, stop, restart
nlohmann::json answer(const std::vector<ServiceSummary>& v);         // "services": service list
nlohmann::json answer(const CreatePlan& v);                          // "plan": service create --dry-run
nlohmann::json answer(const Created& v);                             // "service": service create
nlohmann::json answer(const Removed& v);                             // "removed": service remove
nlohmann::json answer(const Retired& v);                             // "removed": service remove --archive
nlohmann::json answer(const std::vector<SoftwareInfo>& v);           // "software": software list
nlohmann::json answer(const FetchResult& v);                         // "software": software fetch
nlohmann::json answer(const SoftwareRemoved& v);                     // "removed": software remove
nlohmann::json answer(const DepsResult& v);                          // "deps": software deps
nlohmann::json answer(const SelfInstallResult& v);                   // "self": self-install
nlohmann::json answer(const SelfUpdate& v);                          // "update": self-update
nlohmann::json answer(const BackupResult& v);                        // "backup": backup
nlohmann::json answer(const std::vector<BackupListEntry>& v);        // "backups": backup list
nlohmann::json answer(const PruneResult& v);                         // "prune": backup prune
nlohmann::json answer(const VerifyResult& v);                        // "verify": backup verify
nlohmann::json answer(const RestoreResult& v);                       // "restore": restore
nlohmann::json answer(const std::vector<DatabaseInfo>& v);           // "databases": db list
nlohmann::json answer(const CopyResult& v);                          // "copy": db copy
nlohmann::json answer(const DropResult& v);                          // "drop": db drop
nlohmann::json answer(const DatabaseCreated& v);                     // "create": db create
nlohmann::json answer(const RenameResult& v);                        // "rename": db rename
nlohmann::json answer(const RefreshResult& v);                       // "refresh": training refresh
nlohmann::json answer(const StudentsResult& v);                      // "students": students disseminate, copy
nlohmann::json answer(const StudentsRemoved& v);                     // "removed": students remove
nlohmann::json answer(const std::vector<StudentDatabase>& v);        // "students": students list
nlohmann::json answer(const MonitorResult& v);                       // "services" and "time": monitor
nlohmann::json answer(const NightlyResult& v);                       // "nightly": nightly
nlohmann::json answer(const ProfileResult& v);                       // "profile": profile apply
nlohmann::json answer(const UpdateResult& v);                        // "update": service update, upgrade
nlohmann::json answer(const UpgradeCheck& v);                        // "check": service upgrade --check
nlohmann::json answer(const LogLines& v);                            // "logs": service logs
nlohmann::json answer(const ServiceConfig& v);                       // "config": service config show, set, unset
nlohmann::json answer(const SupervisorStatus& v);                    // "supervisor": supervisor start, stop, status
nlohmann::json answer(const MigrateResult& v);                       // "migrate": supervisor migrate

// The error answer of a failed command.
nlohmann::json error_answer(const core::Error& error);

// What xoe prints: the answer indented by 2, and a newline.
std::string render(const nlohmann::json& answer);

// The spelling of an error kind on the wire ("not_found", ...) and back;
// an unknown spelling reads as internal.
std::string_view kind_spelling(core::ErrorKind kind) noexcept;
core::ErrorKind kind_of_spelling(std::string_view spelling) noexcept;

// Reads an answer of type T (one of those of answer() above). Throws the
// core::Error an error answer carries (its kind and message); external
// for an answer of another contract version or one that is not T's
// ("xoe's answer to CMD: ..."; `what` names the command).
template <typename T>
T read_answer(const nlohmann::json& answer, std::string_view what);

}  // namespace wire
}  // namespace xoe
