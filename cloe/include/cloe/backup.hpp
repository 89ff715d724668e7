// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Saves, backups and restores of a vserver's writable layer (issue 16, items
// 9 and 11; docs/cloe.md, Backups).
//
// The tool is restic: one repository per cluster and node,
// STORAGE/backups/CLUSTER on the node's storage class (the vserver's class
// when the node has it, else its first), its password a random key in
// ROOT/var/lib/oe/cloe/backup/CLUSTER.key (0600, in a 0700 folder), given
// to restic as --password-file only: never on a command line, in a log or an
// error. Every snapshot is of the vserver's upper tree (its own files: what
// differs from its template) and carries --host VSERVER and the tags
// kind=backup|save and job=JOB.
//
// Consistency: a running vserver is frozen (libvirt's suspend of an LXC
// domain: the cgroup freezer) while restic reads its layer, and thawed after,
// also when restic fails; a stopped one has its image mounted read-only for
// the copy. Restic reads the tree without following a symbolic link and runs
// nothing from it; a restore goes into a fresh, empty layer image (restic
// recreates links as links), whose owners are shifted by descriptor walks
// (core::walk_tree, lchown) from the backed-up vserver's id range to the
// target's.
//
// backup_create, backup_restore and backup_verify run as journaled jobs
// (kinds cloe.backup, cloe.restore): killed at any step, the next run of the
// same command resumes it (a frozen vserver is thawed, the catalogue row
// written once), and a step that fails rolls back what the job made.
// Errors are core::Error:
//   invalid    a name that is not a label, a retention out of range
//   not_found  an unknown cluster, node, vserver or backup
//   conflict   restore in place of a running vserver without force, --as a
//              name that is taken, a lock held
//   precondition  a vserver or target node reached over SSH (not built yet)
//   external   restic, libvirt or a mount failed: a corrupt or truncated
//              repository is external ("restic restore of backup ID failed:
//              ...", one line)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"
#include "cloe/vserver.hpp"

namespace cloe {

enum class BackupKind { backup, save };

struct BackupRequest {
  std::string cluster;
  std::string vserver;
  BackupKind kind = BackupKind::backup;
  std::optional<std::string> to;  // the node whose repository gets it; default: the vserver's own
  std::int64_t keep = 7;          // retention: the last KEEP of this vserver and kind (1..1000)
};

// One row of the catalogue (the inventory's table backups).
struct Backup {
  std::int64_t id = 0;
  std::string cluster;
  std::string vserver;
  std::string node;
  std::string location;    // the repository's path on the node
  std::string tool;        // "restic"
  std::string snapshot;    // restic's snapshot id
  std::int64_t bytes = 0;  // what it added to the repository
  std::string contents;    // JSON: kind, template, quotas, files, software versions
  std::string created;
  std::optional<std::string> verified;
  std::optional<double> restore_seconds;
};

// Backs up (or saves) the vserver, records it, then applies the retention.
Backup backup_create(const Settings& settings, const BackupRequest& request);

// The catalogue, newest first; only the vserver's when given.
std::vector<Backup> backup_list(const Settings& settings, const std::string& cluster,
                                const std::optional<std::string>& vserver);

struct RestoreRequest {
  std::string cluster;
  std::string vserver;                 // the vserver the backup is of
  std::optional<std::int64_t> backup;  // default: its newest
  std::optional<std::string> as;       // a new vserver made from it (the recorded template and quotas)
  std::optional<std::string> node;     // with --as: its node (default: placement)
  bool force = false;                  // in place of a running vserver: it is stopped first
};

struct RestoreResult {
  Backup backup;
  Vserver vserver;  // the restored one, running
  double seconds = 0;
};

// Restores the backup into the vserver itself (stopped, its layer replaced
// by a fresh one filled from the backup, started) or into a new vserver
// `as`. Nothing of the target changes until the backup has been read whole.
RestoreResult backup_restore(const Settings& settings, const RestoreRequest& request);

struct VerifyResult {
  Backup backup;  // with verified and restore_seconds recorded
  std::string scratch;
  double restore_seconds = 0;
  std::string probe;  // what was checked inside
};

// Restores backup ID into a scratch vserver (--as verify-ID), starts it, runs
// the probe inside (for now `true`: xoe is not in the template yet, its
// services' probes come with it), records the restore time, destroys the
// scratch vserver (also when a step fails).
VerifyResult backup_verify(const Settings& settings, const std::string& cluster, std::int64_t id);

}  // namespace cloe
