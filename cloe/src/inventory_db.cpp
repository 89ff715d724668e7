// SPDX-License-Identifier: GPL-3.0-or-later
#include "inventory_db.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <filesystem>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/jobs.hpp"

namespace fs = std::filesystem;

namespace cloe::inventory {
namespace {

// Append-only: never edit a released step. Sizes are bytes, CPU caps percent
// of one CPU; the CHECKs repeat the library's rules so that no writer (hoe
// included) can store what cloe would refuse.
constexpr std::array<std::string_view, 1> steps = {
    R"(CREATE TABLE clusters (
         name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'
                                      AND name NOT GLOB '-*' AND name NOT GLOB '*-'),
         network TEXT NOT NULL, gateway TEXT NOT NULL,
         pool_first TEXT NOT NULL, pool_last TEXT NOT NULL,   -- the IP pool of its vservers
         created TEXT NOT NULL);
       CREATE TABLE nodes (
         cluster TEXT NOT NULL REFERENCES clusters (name),
         name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'
                                   AND name NOT GLOB '-*' AND name NOT GLOB '*-'),
         address TEXT NOT NULL,
         ssh_port INTEGER NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
         transport TEXT NOT NULL CHECK (transport IN ('ssh', 'local')),
         host_key TEXT NOT NULL DEFAULT '', fingerprint TEXT NOT NULL DEFAULT '',
         cpus INTEGER NOT NULL CHECK (cpus > 0),
         memory INTEGER NOT NULL CHECK (memory > 0),
         drained INTEGER NOT NULL DEFAULT 0 CHECK (drained IN (0, 1)),
         created TEXT NOT NULL,
         PRIMARY KEY (cluster, name), UNIQUE (cluster, address),
         CHECK (transport = 'local' OR (host_key <> '' AND fingerprint GLOB 'SHA256:*')));
       CREATE UNIQUE INDEX one_local_node ON nodes (cluster) WHERE transport = 'local';
       CREATE TABLE node_storage (
         cluster TEXT NOT NULL, node TEXT NOT NULL,
         class TEXT NOT NULL CHECK (length(class) BETWEEN 1 AND 63 AND class NOT GLOB '*[^a-z0-9-]*'),
         path TEXT NOT NULL CHECK (path GLOB '/*'),
         disk INTEGER NOT NULL CHECK (disk > 0),
         PRIMARY KEY (cluster, node, class),
         FOREIGN KEY (cluster, node) REFERENCES nodes (cluster, name) ON DELETE CASCADE);
       CREATE TABLE templates (
         name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'),
         suite TEXT NOT NULL, packages TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
         created TEXT NOT NULL);
       CREATE TABLE template_copies (
         template TEXT NOT NULL REFERENCES templates (name),
         cluster TEXT NOT NULL, node TEXT NOT NULL, path TEXT NOT NULL, copied TEXT NOT NULL,
         PRIMARY KEY (template, cluster, node),
         FOREIGN KEY (cluster, node) REFERENCES nodes (cluster, name) ON DELETE CASCADE);
       CREATE TABLE vservers (
         name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63 AND name NOT GLOB '*[^a-z0-9-]*'
                                      AND name NOT GLOB '-*' AND name NOT GLOB '*-'),
         cluster TEXT NOT NULL, node TEXT NOT NULL,
         ip TEXT NOT NULL, mac TEXT NOT NULL UNIQUE,
         template TEXT NOT NULL REFERENCES templates (name),
         storage TEXT NOT NULL,
         cpu_shares INTEGER NOT NULL DEFAULT 1024 CHECK (cpu_shares BETWEEN 2 AND 262144),
         cpu_max INTEGER NOT NULL DEFAULT 0 CHECK (cpu_max >= 0),   -- percent of one CPU; 0: no cap
         memory INTEGER NOT NULL CHECK (memory > 0),
         disk INTEGER NOT NULL CHECK (disk > 0),
         id_base INTEGER NOT NULL UNIQUE CHECK (id_base > 0 AND id_base % 65536 = 0),  -- its user namespace
         state TEXT NOT NULL CHECK (state IN ('creating', 'stopped', 'running', 'destroying')),
         created TEXT NOT NULL,
         UNIQUE (cluster, ip),
         -- a node with vservers cannot be removed (no ON DELETE: the delete fails)
         FOREIGN KEY (cluster, node) REFERENCES nodes (cluster, name),
         FOREIGN KEY (cluster, node, storage) REFERENCES node_storage (cluster, node, class));
       CREATE TABLE vserver_groups (
         vserver TEXT NOT NULL REFERENCES vservers (name) ON DELETE CASCADE,
         group_name TEXT NOT NULL CHECK (length(group_name) BETWEEN 1 AND 63 AND group_name NOT GLOB '*[^a-z0-9_-]*'),
         PRIMARY KEY (vserver, group_name));
       CREATE TABLE backups (
         id INTEGER PRIMARY KEY,
         cluster TEXT NOT NULL REFERENCES clusters (name),
         vserver TEXT NOT NULL,              -- kept after the vserver goes: a final backup outlives it
         node TEXT NOT NULL, location TEXT NOT NULL, tool TEXT NOT NULL, snapshot TEXT NOT NULL,
         bytes INTEGER NOT NULL CHECK (bytes >= 0),
         contents TEXT NOT NULL DEFAULT '{}',  -- JSON: software versions and databases inside
         created TEXT NOT NULL,
         verified TEXT, restore_seconds REAL,
         UNIQUE (cluster, vserver, snapshot));)",
};

}  // namespace

std::span<const std::string_view> migrations() { return steps; }

core::sqlite::Database open(const Settings& settings) {
  std::error_code ec;
  fs::create_directories(settings.data, ec);
  if (ec) core::fail(core::ErrorKind::io, "create {}: {}", settings.data.string(), ec.message());
  // Root's alone: it names every node, address and host key. SQLite gives
  // the -wal and -shm files the mode of the database file.
  int fd = ::open(settings.database().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_CREAT, 0600);
  if (fd < 0) core::fail_errno(core::ErrorKind::io, "open " + settings.database().string(), errno);
  core::Fd owner(fd);
  auto db = core::sqlite::Database::open(settings.database());
  core::sqlite::migrate(db, "cloe", steps);
  core::JobRunner journal(db);  // brings the job tables (tier core.jobs) up to date
  return db;
}

std::optional<core::sqlite::Database> open_existing(const Settings& settings) {
  std::error_code ec;
  if (!fs::exists(settings.database(), ec)) return std::nullopt;
  auto db = core::sqlite::Database::open(settings.database(), core::sqlite::OpenMode::read_only);
  std::int64_t version = core::sqlite::schema_version(db, "cloe");
  if (version == 0) return std::nullopt;
  if (version > static_cast<std::int64_t>(steps.size()))
    core::fail(core::ErrorKind::conflict,
               "{}: database schema of tier cloe is version {}, newer than this program ({}); upgrade the program",
               settings.database().string(), version, steps.size());
  return db;
}

}  // namespace cloe::inventory
