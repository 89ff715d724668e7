// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Backups of services: one archive (tar + zstd) per backup holding the
// database dump (pg_dump -Fc, or SQLite's online backup), the attachments
// (the data folder without the live database file), the server's config and
// metadata.json, and the code's poe series when the service has one; a sidecar ARCHIVE.sha256 (sha256sum format). Restores
// into the existing service or into a new one, a verification that restores
// into a scratch service and logs in, and the daily/weekly/monthly
// retention. Archive layout and JSON in docs/xoe.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

// What metadata.json of an archive says (format 1).
struct BackupMeta {
  int format = 1;
  std::string service;
  std::string software;
  std::string version;
  std::string role;
  std::string backend;   // "postgresql" or "sqlite"
  std::string database;  // the database's name in the service
  std::vector<std::string> modules;
  std::string created;  // UTC, ISO 8601
  // The service's own settings (xoe service config set), but its port: given
  // to the new service of `restore --as`. Absent in older archives.
  std::map<std::string, std::string> settings;
  // The archive holds the service's poe series (series/): true or false;
  // nullopt in archives made before xoe kept it (a restore leaves the code).
  std::optional<bool> series;
  friend bool operator==(const BackupMeta&, const BackupMeta&) = default;
};

struct Retention {
  std::int64_t daily = 7;
  std::int64_t weekly = 4;
  std::int64_t monthly = 3;
  friend bool operator==(const Retention&, const Retention&) = default;
};

struct BackupRequest {
  std::string service;
  std::optional<Retention> retention;  // empty: backup.keep_* of the configuration
  friend bool operator==(const BackupRequest&, const BackupRequest&) = default;
};

struct BackupResult {
  std::filesystem::path archive;
  std::string sha256;
  std::uintmax_t bytes = 0;
  BackupMeta meta;
  std::vector<std::filesystem::path> pruned;  // archives removed by the retention
  bool resumed = false;  // an interrupted backup of the service was finished
  friend bool operator==(const BackupResult&, const BackupResult&) = default;
};

// Backs `service` up as a journaled job ("service.backup": stage, archive,
// clean, prune) into Settings::backups/SERVICE/SERVICE-YYYYMMDDTHHMMSSZ.tar.zst,
// then applies the retention. The service keeps running (the dumps are
// consistent snapshots). A killed backup is finished by the next one.
// Throws not_found (no service), conflict (it is not ready), external
// (pg_dump, tar, zstd).
BackupResult backup_service(const Settings& settings, const BackupRequest& request);

// One archive of a service's backup folder.
struct BackupEntry {
  std::filesystem::path archive;
  std::chrono::sys_seconds time;  // from its name
  friend bool operator==(const BackupEntry&, const BackupEntry&) = default;
};

// The archives of `service`, newest first. Reads only.
std::vector<BackupEntry> list_backups(const Settings& settings, const std::string& service);

// The archives of one folder of Settings::backups: of a service, or of one
// removed since (service remove leaves its archives, and no backup job
// prunes them any more).
struct ServiceBackups {
  std::string service;
  bool service_exists = false;
  std::vector<BackupEntry> backups;  // newest first
  friend bool operator==(const ServiceBackups&, const ServiceBackups&) = default;
};

// The archives of `service` (exists or not), or with nullopt of every
// folder of Settings::backups whose name is a service name, those of
// removed services too, by service name. Reads only; invalid for a name
// that is not a label.
std::vector<ServiceBackups> list_service_backups(const Settings& settings, const std::optional<std::string>& service);

// What `backup prune` removes: the archives the retention does not keep
// (the newest always kept), or every archive (of a removed service only).
enum class PruneScope { retention, all };

struct PruneRequest {
  std::string service;
  std::optional<Retention> retention;  // empty: backup.keep_* of the configuration
  PruneScope scope = PruneScope::retention;
  friend bool operator==(const PruneRequest&, const PruneRequest&) = default;
};

struct PruneResult {
  std::string service;
  bool service_exists = false;
  std::vector<std::filesystem::path> pruned;  // removed, each with its .sha256 and .mac
  std::vector<std::filesystem::path> kept;    // newest first
  friend bool operator==(const PruneResult&, const PruneResult&) = default;
};

// Applies the retention to the archives of `service` as a backup does
// (select_kept), or with PruneScope::all removes every one of a removed
// service and its folder when nothing else is in it. Each archive goes with
// its .sha256 and .mac. Under the service's lock. Throws invalid (a name
// that is not a label), not_found (no such service and no archive of it),
// conflict (PruneScope::all of a service that exists: the retention keeps
// its newest archive).
PruneResult prune_backups(const Settings& settings, const PruneRequest& request);

// The archives to keep, newest first: the newest of each of the last
// `daily` days, `weekly` ISO weeks and `monthly` months that have one (the
// rules add up, as in borg prune); the newest archive is always kept.
// Pure: `entries` in any order.
std::vector<BackupEntry> select_kept(std::vector<BackupEntry> entries, const Retention& retention);

// The time in an archive name SERVICE-YYYYMMDDTHHMMSSZ[-N].tar.zst; nullopt
// when the name is not one.
std::optional<std::chrono::sys_seconds> archive_time(const std::string& file_name);

// Which archives a restore or a verify accepts: those this root's backup
// key authenticates (ARCHIVE.mac, written by backup_service), or, when an
// admin says so (--trust), an archive from elsewhere too. Either way a
// restore runs the archive's database as the service's own role, never as
// root or the superuser.
enum class ArchiveOrigin { this_root, trusted };

// Checks an archive without changing anything: it exists (not_found), its
// sidecar sha256 exists and matches, zstd and tar read it to the end, it
// holds metadata.json and a database (invalid: "corrupt archive ..."); with
// ArchiveOrigin::this_root, its MAC (ARCHIVE.mac) matches this root's key
// (invalid: "archive ... is not authenticated: ..."). Returns its metadata.
BackupMeta check_archive(const Settings& settings, const std::filesystem::path& archive,
                         ArchiveOrigin origin = ArchiveOrigin::this_root);

struct RestoreRequest {
  std::string service;  // restored into this service; created from the archive when it does not exist
  std::filesystem::path archive;
  std::optional<std::string> as;    // restore into this new service instead
  // Role of a service created by the restore. Default: "test" (neutralised)
  // for a service named otherwise than the archive's (`as`, or `service`
  // not the archive's), else the archive's. An existing target keeps its own.
  std::optional<std::string> role;
  ArchiveOrigin origin = ArchiveOrigin::this_root;
  friend bool operator==(const RestoreRequest&, const RestoreRequest&) = default;
};

struct RestoreResult {
  std::string service;
  std::string role;          // the target's
  std::string url;           // where the target answers (as service show)
  std::uint16_t port = 0;
  std::string database;      // the target's database
  bool created = false;      // the service was created from the archive
  bool neutralised = false;  // the target is not production
  bool code_restored = false;  // the existing target's code was rebuilt with the archive's series
  std::optional<std::string> admin_password;  // of a created service, shown once
  BackupMeta meta;
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const RestoreResult&, const RestoreResult&) = default;
};

// Restores an archive, checked first (check_archive) with nothing touched
// when it fails. Into an existing service (same software, version and
// backend, else conflict): stop, replace database and data, set the
// service's own admin password, neutralise unless production, start. Into a
// new service (`as`, or `service` when it does not exist): created like
// `service create` with the archive's software, version, backend and
// modules (role: see RestoreRequest::role), but neither started nor given
// its password, then the same (so started once). A journaled job ("service.restore": prepare,
// stop, swap, password, neutralise, start, finish): a failure puts the old
// database and data back and starts the service again; a killed restore is
// finished by the next restore of the same target and archive.
RestoreResult restore_service(const Settings& settings, const RestoreRequest& request);

struct VerifyResult {
  std::filesystem::path archive;
  std::string sha256;
  BackupMeta meta;
  std::string scratch;  // the scratch service used and removed
  bool ok = false;
  double restore_seconds = 0;  // check, restore into the scratch service, start
  double login_ms = 0;         // the JSON-RPC login
  double seconds = 0;          // all of it, removal included
  std::string verified;        // when, UTC
  std::string error;           // why it failed (ok false)
  friend bool operator==(const VerifyResult&, const VerifyResult&) = default;
};

// Restores `archive` into a scratch service (role test), starts it, logs in
// as the admin through the recipe's [login] call, removes the scratch
// service, and records the result in the registry. A failure to restore or
// log in is reported in the result (ok false), not thrown; a corrupt archive
// is thrown (invalid) before anything is done.
VerifyResult verify_backup(const Settings& settings, const std::filesystem::path& archive,
                           ArchiveOrigin origin = ArchiveOrigin::this_root);

}  // namespace xoe
