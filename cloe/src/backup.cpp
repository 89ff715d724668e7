// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/backup.hpp"

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "backup_ids.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/tree.hpp"
#include "core/validate.hpp"
#include "inventory_db.hpp"
#include "layers.hpp"
#include "lxc.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace cloe {

constexpr std::int64_t id_count = 65536;  // as vserver.cpp: one range per vserver

namespace backup_ids {

using core::ErrorKind;

void shift(const fs::path& top, std::int64_t from, std::int64_t to) {
  if (from == to) return;
  auto shifted = [&](std::int64_t id) -> std::int64_t {
    return id >= from && id < from + id_count ? id - from + to : id;
  };
  auto fix = [&](int parent, const char* name, const struct stat& st) {
    if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && st.st_rdev != 0) {
      core::logger("cloe")->warn("restore: device node {} left as it is", core::escape_for_display(name));
      return;
    }
    auto uid = shifted(st.st_uid), gid = shifted(st.st_gid);
    if (uid == st.st_uid && gid == st.st_gid) return;
    if (::fchownat(parent, name, static_cast<uid_t>(uid), static_cast<gid_t>(gid), AT_SYMLINK_NOFOLLOW) != 0)
      core::fail_errno(ErrorKind::io, fmt::format("chown {}", core::escape_for_display(name)), errno);
    if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0 &&
        ::fchmodat(parent, name, st.st_mode & 07777, 0) != 0)
      core::fail_errno(ErrorKind::io, fmt::format("chmod {}", core::escape_for_display(name)), errno);
  };
  core::Fd parent = core::open_directory(top.parent_path());
  struct stat st {};
  std::string name = top.filename().string();
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    core::fail_errno(ErrorKind::io, "stat " + top.string(), errno);
  fix(parent.get(), name.c_str(), st);
  core::Fd dir = core::open_directory(top);
  core::walk_tree(dir.get(), [&](const core::TreeEntry& e) {
    std::string n(e.name);
    fix(e.parent, n.c_str(), e.st);
    return core::Descend::yes;
  });
}

}  // namespace backup_ids

namespace {

using core::ErrorKind;
using core::fail;
using nlohmann::json;

const char* kind_text(BackupKind k) { return k == BackupKind::save ? "save" : "backup"; }

// ---------------------------------------------------------------- libvirt: freeze and thaw

struct ConnClose {
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
struct DomFree {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using Conn = std::unique_ptr<std::remove_pointer_t<virConnectPtr>, ConnClose>;
using Dom = std::unique_ptr<std::remove_pointer_t<virDomainPtr>, DomFree>;

void quiet(void*, virErrorPtr) {}
std::string virt_error() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "unknown libvirt error";
}

enum class Run { absent, off, running, paused };

struct Domain {
  Conn conn;
  Dom dom;
};

Domain domain(const std::string& uri, const std::string& name) {
  virSetErrorFunc(nullptr, quiet);
  Domain d;
  d.conn.reset(virConnectOpen(uri.c_str()));
  if (!d.conn) fail(ErrorKind::external, "libvirt {}: {}", uri, virt_error());
  d.dom.reset(virDomainLookupByName(d.conn.get(), name.c_str()));
  return d;
}

Run run_state(const std::string& uri, const std::string& name) {
  auto d = domain(uri, name);
  if (!d.dom) return Run::absent;
  int st = 0, reason = 0;
  if (virDomainGetState(d.dom.get(), &st, &reason, 0) != 0)
    fail(ErrorKind::external, "state of vserver {}: {}", name, virt_error());
  if (st == VIR_DOMAIN_PAUSED) return Run::paused;
  if (st == VIR_DOMAIN_RUNNING) return Run::running;
  return Run::off;
}

// Freezes a running vserver (its cgroup freezer); a paused one stays so.
void freeze(const std::string& uri, const std::string& name) {
  auto d = domain(uri, name);
  if (!d.dom) return;
  int st = 0, reason = 0;
  if (virDomainGetState(d.dom.get(), &st, &reason, 0) == 0 && st == VIR_DOMAIN_RUNNING) {
    if (virDomainSuspend(d.dom.get()) != 0) fail(ErrorKind::external, "freeze vserver {}: {}", name, virt_error());
    core::logger("cloe")->info("vserver {} frozen", name);
  }
}

// Thaws a frozen vserver; one that is not frozen is left alone.
void thaw(const std::string& uri, const std::string& name) {
  auto d = domain(uri, name);
  if (!d.dom) return;
  int st = 0, reason = 0;
  if (virDomainGetState(d.dom.get(), &st, &reason, 0) == 0 && st == VIR_DOMAIN_PAUSED) {
    if (virDomainResume(d.dom.get()) != 0) fail(ErrorKind::external, "thaw vserver {}: {}", name, virt_error());
    core::logger("cloe")->info("vserver {} thawed", name);
  }
}

// ---------------------------------------------------------------- where things are

std::string first_line(const std::string& text) {
  // restic's last error line says most ("Fatal: ..."); skip its progress lines.
  std::string best;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!line.empty() && (best.empty() || line.starts_with("Fatal") || line.find("error") != std::string::npos))
      best = line;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return core::escape_for_display(best, 200);
}

Node local_node(core::sqlite::Database& db, const std::string& cluster, const std::string& name) {
  auto nodes = inventory::nodes(db, cluster, name);
  if (nodes.empty()) fail(ErrorKind::not_found, "no node {} in cluster {} (see cloe node list)", name, cluster);
  if (nodes.front().transport != Transport::local)
    fail(ErrorKind::precondition,
         "node {} is reached over SSH: backups on remote nodes are not built yet (only the referee's own node)", name);
  return nodes.front();
}

fs::path storage_path(const Node& n, const std::string& cls) {
  for (const auto& c : n.storage)
    if (c.name == cls) return c.path;
  if (n.storage.empty()) fail(ErrorKind::internal, "node {} has no storage class", n.name);
  return n.storage.front().path;
}

struct Where {
  Node node;
  std::string uri;
  layers::Layers layers;
  fs::path snap;  // STORAGE/vservers/NAME.backup: the layer's root seen by restic
};

Where where_of(const Settings& s, core::sqlite::Database& db, const Vserver& v) {
  Where w;
  w.node = local_node(db, v.cluster, v.node);
  w.uri = s.libvirt_uri;
  fs::path storage = storage_path(w.node, v.storage);
  w.layers = layers::of(storage, v.name);
  w.snap = storage / "vservers" / (v.name + ".backup");
  return w;
}

// ---------------------------------------------------------------- restic

struct Repo {
  fs::path path;      // on the node
  fs::path password;  // under cloe's root
  fs::path cache;
};

Repo repo_of(const Settings& s, const Node& node, const std::string& storage_class, const std::string& cluster) {
  return {storage_path(node, storage_class) / "backups" / cluster, s.state / "backup" / (cluster + ".key"),
          s.state / "backup" / "cache"};
}

// The cluster's repository key: made once, 32 random bytes as hex, 0600.
void ensure_password(const Repo& r) {
  fs::create_directories(r.password.parent_path());
  fs::permissions(r.password.parent_path(), fs::perms::owner_all);
  std::error_code ec;
  if (fs::exists(r.password, ec)) return;
  unsigned char raw[32];
  if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
    core::fail_errno(ErrorKind::failed, "getrandom", errno);
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  fs::path tmp = r.password;
  tmp += ".partial";
  fs::remove(tmp, ec);
  core::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) core::fail_errno(ErrorKind::io, "create " + tmp.string(), errno);
  hex += "\n";
  if (::write(fd.get(), hex.data(), hex.size()) != static_cast<ssize_t>(hex.size()) || ::fsync(fd.get()) != 0)
    core::fail_errno(ErrorKind::io, "write " + tmp.string(), errno);
  fs::rename(tmp, r.password);
}

core::RunResult restic(const Repo& r, std::vector<std::string> args, bool check = true,
                       std::chrono::seconds timeout = 3600s) {
  std::vector<std::string> argv = {
      "restic",      "--repo",         r.path.string(), "--password-file", r.password.string(),
      "--cache-dir", r.cache.string(), "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto res = core::run(argv, {.timeout = timeout, .check = false});
  if (check && res.exit_code != 0)
    fail(ErrorKind::external, "restic {} failed (exit {}): {}", args.front(), res.exit_code, first_line(res.err));
  return res;
}

void ensure_repository(const Repo& r) {
  ensure_password(r);
  std::error_code ec;
  if (fs::exists(r.path / "config", ec)) return;
  // A repository without its config is one whose init was killed: it holds nothing.
  core::remove_tree(r.path);
  fs::create_directories(r.path.parent_path());
  fs::permissions(r.path.parent_path(), fs::perms::owner_all);
  restic(r, {"init"});
  core::logger("cloe")->info("restic repository {} made", r.path.string());
}

struct Snapshot {
  std::string id, short_id;
  std::vector<std::string> tags;
};

std::vector<Snapshot> snapshots(const Repo& r, const std::vector<std::string>& filter) {
  std::vector<std::string> args = {"snapshots", "--json"};
  args.insert(args.end(), filter.begin(), filter.end());
  auto res = restic(r, args);
  std::vector<Snapshot> out;
  json j = json::parse(res.out, nullptr, false);
  if (!j.is_array()) fail(ErrorKind::external, "restic snapshots of {}: not a list", r.path.string());
  for (const auto& x : j) {
    Snapshot sn;
    sn.id = x.value("id", "");
    sn.short_id = x.value("short_id", "");
    if (x.contains("tags") && x["tags"].is_array())
      for (const auto& t : x["tags"]) sn.tags.push_back(t.get<std::string>());
    out.push_back(std::move(sn));
  }
  return out;
}

// ---------------------------------------------------------------- the catalogue

Backup backup_row(core::sqlite::Statement& q) {
  Backup b;
  b.id = q.column_int64(0);
  b.cluster = q.column_text(1);
  b.vserver = q.column_text(2);
  b.node = q.column_text(3);
  b.location = q.column_text(4);
  b.tool = q.column_text(5);
  b.snapshot = q.column_text(6);
  b.bytes = q.column_int64(7);
  b.contents = q.column_text(8);
  b.created = q.column_text(9);
  b.verified = q.column_optional_text(10);
  b.restore_seconds = q.column_optional_double(11);
  return b;
}

constexpr std::string_view columns =
    "id, cluster, vserver, node, location, tool, snapshot, bytes, contents, created, verified, restore_seconds";

std::optional<Backup> backup_by_id(core::sqlite::Database& db, const std::string& cluster, std::int64_t id) {
  auto q = db.query(fmt::format("SELECT {} FROM backups WHERE cluster = ?1 AND id = ?2", columns), cluster, id);
  if (!q.step()) return std::nullopt;
  return backup_row(q);
}

std::optional<Vserver> find_vserver(const Settings& s, const std::string& cluster, const std::string& name) {
  try {
    return vserver_show(s, cluster, name);
  } catch (const core::Error& e) {
    if (e.kind() == ErrorKind::not_found) return std::nullopt;
    throw;
  }
}

// What the vserver holds, learnt without running anything of it: the
// version of oe-xoe in its dpkg status (its own layer's, else its
// template's), read through descriptors.
std::string xoe_version(const std::vector<fs::path>& roots) {
  for (const auto& root : roots) {
    core::Fd top;
    try {
      top = core::open_directory(root);
    } catch (const core::Error&) {
      continue;
    }
    core::Fd f = core::open_beneath(top.get(), "var/lib/dpkg/status", O_RDONLY | O_NOFOLLOW);
    if (!f) continue;
    struct stat st {};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) continue;
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    ssize_t n = ::read(f.get(), text.data(), text.size());
    if (n < 0) continue;
    text.resize(static_cast<std::size_t>(n));
    auto at = text.find("Package: oe-xoe\n");
    if (at == std::string::npos) return "";
    auto end = text.find("\n\n", at);
    std::string stanza = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    auto v = stanza.find("\nVersion: ");
    if (v == std::string::npos) return "";
    std::string version = stanza.substr(v + 10, stanza.find('\n', v + 10) - v - 10);
    return core::escape_for_display(version, 60);
  }
  return "";
}

std::string job_key(const std::string& cluster, const std::string& name) { return cluster + "." + name; }

// An unknown cluster is refused before anything is opened for writing (no
// database is made for it).
void must_cluster(const Settings& s, const std::string& cluster) {
  auto db = inventory::open_existing(s);
  if (!db) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", cluster);
  inventory::cluster(*db, cluster);
}

// ---------------------------------------------------------------- restore helpers

void umount_if(const fs::path& p) {
  if (!layers::is_mount_point(p)) return;
  auto r = core::run({"umount", p.string()}, {.timeout = 60s, .check = false});
  if (r.exit_code != 0 && layers::is_mount_point(p))
    fail(ErrorKind::external, "umount {}: {}", p.string(), first_line(r.err));
}

struct Fill {
  fs::path image, mnt, old;
};
Fill fill_of(const layers::Layers& l) {
  fs::path vs = l.dir.parent_path();
  std::string name = l.dir.filename().string();
  return {vs / (name + ".restore.img"), vs / (name + ".restore"), vs / (name + ".old.img")};
}

void drop_fill(const Fill& f) {
  umount_if(f.mnt);
  std::error_code ec;
  fs::remove(f.mnt, ec);
  fs::remove(f.image, ec);
}

}  // namespace

// ================================================================= backup

Backup backup_create(const Settings& s, const BackupRequest& rq) {
  core::validate_label(rq.cluster, "cluster name");
  core::validate_label(rq.vserver, "vserver name");
  if (rq.to) core::validate_label(*rq.to, "node name");
  if (rq.keep < 1 || rq.keep > 1000) fail(ErrorKind::invalid, "--retention {}: keep 1 to 1000 of them", rq.keep);
  Vserver v = vserver_show(s, rq.cluster, rq.vserver);
  if (v.state == VserverState::creating || v.state == VserverState::destroying)
    fail(ErrorKind::conflict, "vserver {} is {}: finish that first", v.name, vserver_state_name(v.state));
  auto db = inventory::open(s);
  Node target = rq.to ? local_node(db, rq.cluster, *rq.to) : local_node(db, rq.cluster, v.node);
  Where w = where_of(s, db, v);
  Repo repo = repo_of(s, target, v.storage, rq.cluster);
  std::string kind = kind_text(rq.kind);

  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + v.name);
  core::JobRunner jobs(db);
  core::Job job{"cloe.backup", job_key(rq.cluster, v.name), {}};
  fs::path pending = s.state / "backup" / "pending";
  auto token = [&] {
    auto j = jobs.find("cloe.backup", job.key);
    if (!j) fail(ErrorKind::internal, "backup of {}: its job is not in the journal", v.name);
    return std::to_string(j->id);
  };
  // Files of the job's own: its restic summary, and markers saying that a
  // step started before (then a resumed run looks at the repository; else it
  // spares restic's key derivation, about 0.5 s a call).
  auto pending_file = [&](const char* what = "json") { return pending / (token() + "." + what); };
  auto mark = [&](const char* what) {
    fs::create_directories(pending);
    std::ofstream(pending_file(what)) << "1\n";
  };
  auto marked = [&](const char* what) {
    std::error_code ec;
    return fs::exists(pending_file(what), ec);
  };
  // The snapshot of this job (restic's short id), found by its tag.
  auto job_snapshots = [&] {
    std::vector<std::string> ids;
    for (const auto& sn : snapshots(repo, {"--tag", "job=" + token()})) ids.push_back(sn.short_id);
    return ids;
  };

  // The layer's root where restic reads it: the mounted layer bound there,
  // or the stopped vserver's image mounted read-only.
  auto mount_snap = [&] {
    if (layers::is_mount_point(w.snap)) return;
    fs::create_directories(w.snap);
    fs::permissions(w.snap, fs::perms::owner_all);
    if (layers::is_mount_point(w.layers.layer))
      core::run({"mount", "--bind", w.layers.layer.string(), w.snap.string()}, {.timeout = 60s});
    else
      core::run({"mount", "-o", "loop,ro,nosuid,nodev,noexec", w.layers.image.string(), w.snap.string()},
                {.timeout = 60s});
  };
  job.steps.push_back({"repository", [&] { ensure_repository(repo); }, {}});
  job.steps.push_back({"mount", mount_snap, [&] {
                         umount_if(w.snap);
                         std::error_code ec;
                         fs::remove(w.snap, ec);
                         for (const char* what : {"json", "snapshot", "retention"}) fs::remove(pending_file(what), ec);
                       }});
  job.steps.push_back({"freeze", [&] { freeze(w.uri, v.name); }, [&] { thaw(w.uri, v.name); }});
  job.steps.push_back(
      {"snapshot",
       [&] {
         std::string tag = "job=" + token();
         if (marked("snapshot") && !job_snapshots().empty()) return;  // made by a run that was killed after it
         mark("snapshot");
         try {
           mount_snap();           // a resumed job: still mounted, or (the vserver made anew) mounted again
           freeze(w.uri, v.name);  // still frozen, or frozen again
           auto res = restic(repo, {"backup", "--json", "--one-file-system", "--host", v.name, "--tag",
                                    "kind=" + kind + "," + tag, (w.snap / "upper").string()});
           json summary;
           std::size_t pos = 0;
           while (pos < res.out.size()) {
             auto end = res.out.find('\n', pos);
             json line = json::parse(res.out.substr(pos, end == std::string::npos ? std::string::npos : end - pos),
                                     nullptr, false);
             if (line.is_object() && line.value("message_type", "") == "summary") summary = line;
             if (end == std::string::npos) break;
             pos = end + 1;
           }
           if (!summary.is_object()) fail(ErrorKind::external, "restic backup of {} gave no summary", v.name);
           fs::create_directories(pending);
           std::ofstream(pending_file()) << summary.dump();
         } catch (...) {
           try {
             thaw(w.uri, v.name);
           } catch (const core::Error& e) {
             core::logger("cloe")->error("{}", e.what());
           }
           throw;
         }
       },
       [&] {
         try {
           for (const auto& id : job_snapshots()) restic(repo, {"forget", id});
         } catch (const core::Error& e) {
           core::logger("cloe")->warn("rollback of the backup of {}: {}", v.name, e.what());
         }
       }});
  job.steps.push_back({"thaw", [&] { thaw(w.uri, v.name); }, {}});
  job.steps.push_back({"record",
                       [&] {
                         json summary = json::object();
                         std::ifstream in(pending_file());
                         if (in) summary = json::parse(in, nullptr, false);
                         if (!summary.is_object()) summary = json::object();
                         // The summary names the snapshot; without it (killed right after restic) the tag does,
                         // and what it added is not known (0).
                         std::string snapshot = summary.value("snapshot_id", "");
                         if (snapshot.empty()) {
                           auto found = job_snapshots();
                           if (found.empty()) fail(ErrorKind::internal, "backup of {}: its snapshot is gone", v.name);
                           snapshot = found.front();
                         }
                         json contents = {{"kind", kind},
                                          {"template", v.template_name},
                                          {"storage", v.storage},
                                          {"disk", v.disk},
                                          {"memory", v.memory},
                                          {"cpu_shares", v.cpu_shares},
                                          {"cpu_max", v.cpu_max},
                                          {"id_base", v.id_base},
                                          {"path", (w.snap / "upper").string()},
                                          {"files", summary.value("total_files_processed", 0)},
                                          {"bytes_read", summary.value("total_bytes_processed", 0)},
                                          {"seconds", summary.value("total_duration", 0.0)},
                                          {"software", json::object()},
                                          {"databases", json::array()}};
                         std::string xoe = xoe_version({w.snap / "upper", s.templates / v.template_name / "rootfs"});
                         if (!xoe.empty()) contents["software"]["oe-xoe"] = xoe;
                         db.execute(
                             "INSERT OR IGNORE INTO backups (cluster, vserver, node, location, tool, snapshot, bytes, "
                             "contents, created) VALUES (?1, ?2, ?3, ?4, 'restic', ?5, ?6, ?7, ?8)",
                             rq.cluster, v.name, target.name, repo.path.string(), snapshot,
                             summary.value("data_added", std::int64_t{0}), contents.dump(), inventory::now());
                       },
                       [&] {
                         for (const auto& id : job_snapshots())
                           db.execute("DELETE FROM backups WHERE cluster = ?1 AND snapshot = ?2", rq.cluster, id);
                       }});
  job.steps.push_back(
      {"retention",
       [&] {
         bool again = marked("retention");  // a run killed in this step: the catalogue is checked whole
         if (!again) {
           // The catalogue follows the repository: as many as KEEP or fewer, nothing to forget
           // (a restic call spared: its key derivation and index load take most of a second).
           auto n = db.query(
               "SELECT count(*) FROM backups WHERE cluster = ?1 AND vserver = ?2 AND location = ?3 "
               "AND json_extract(contents, '$.kind') = ?4",
               rq.cluster, v.name, repo.path.string(), kind);
           if (n.step() && n.column_int64(0) <= rq.keep) return;
         }
         mark("retention");
         auto res = restic(repo, {"forget", "--json", "--host", v.name, "--tag", "kind=" + kind, "--group-by", "host",
                                  "--keep-last", std::to_string(rq.keep)});
         json groups = json::parse(res.out, nullptr, false);
         std::vector<std::string> removed;
         if (groups.is_array())
           for (const auto& g : groups)
             if (g.is_object() && g.contains("remove") && g["remove"].is_array())
               for (const auto& sn : g["remove"]) removed.push_back(sn.value("short_id", ""));
         std::vector<std::int64_t> gone;
         auto q = db.query("SELECT id, snapshot FROM backups WHERE cluster = ?1 AND vserver = ?2 AND location = ?3",
                           rq.cluster, v.name, repo.path.string());
         std::vector<std::string> kept;
         if (again)
           for (const auto& sn : snapshots(repo, {"--host", v.name})) kept.push_back(sn.short_id);
         while (q.step()) {
           std::string sn = q.column_text(1);
           if (std::ranges::find(removed, sn) != removed.end() || (again && std::ranges::find(kept, sn) == kept.end()))
             gone.push_back(q.column_int64(0));
         }
         for (auto id : gone) db.execute("DELETE FROM backups WHERE id = ?1", id);
         if (!removed.empty() || again) restic(repo, {"prune"});
       },
       {}});
  job.steps.push_back({"release",
                       [&] {
                         umount_if(w.snap);
                         std::error_code ec;
                         fs::remove(w.snap, ec);
                         for (const char* what : {"json", "snapshot", "retention"}) fs::remove(pending_file(what), ec);
                       },
                       {}});
  // A vserver left frozen by a killed run without a journal entry to finish it: thawed.
  auto unfinished = jobs.find("cloe.backup", job.key);
  if (!(unfinished && unfinished->unfinished())) thaw(w.uri, v.name);
  auto t0 = std::chrono::steady_clock::now();
  jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  auto q = db.query(fmt::format("SELECT {} FROM backups WHERE cluster = ?1 AND vserver = ?2 AND location = ?3 "
                                "ORDER BY id DESC LIMIT 1",
                                columns),
                    rq.cluster, v.name, repo.path.string());
  if (!q.step()) fail(ErrorKind::internal, "backup of {}: no catalogue row after the job", v.name);
  Backup b = backup_row(q);
  core::logger("cloe")->info("{} {} of vserver {}: snapshot {}, {} added, {:.1f} s", kind, b.id, v.name,
                             b.snapshot.substr(0, 8), format_size(std::max<std::int64_t>(b.bytes, 1)),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return b;
}

std::vector<Backup> backup_list(const Settings& s, const std::string& cluster,
                                const std::optional<std::string>& vserver) {
  core::validate_label(cluster, "cluster name");
  if (vserver) core::validate_label(*vserver, "vserver name");
  auto db = inventory::open_existing(s);
  if (!db) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", cluster);
  inventory::cluster(*db, cluster);
  std::vector<Backup> out;
  auto q = db->query(
      fmt::format("SELECT {} FROM backups WHERE cluster = ?1 AND (?2 IS NULL OR vserver = ?2) ORDER BY id DESC",
                  columns),
      cluster, vserver);
  while (q.step()) out.push_back(backup_row(q));
  return out;
}

// ================================================================= restore

RestoreResult backup_restore(const Settings& s, const RestoreRequest& rq) {
  core::validate_label(rq.cluster, "cluster name");
  core::validate_label(rq.vserver, "vserver name");
  if (rq.as) core::validate_label(*rq.as, "vserver name (--as)");
  if (rq.node) core::validate_label(*rq.node, "node name");
  if (rq.node && !rq.as) fail(ErrorKind::invalid, "--node: only with --as (a vserver is restored on its own node)");
  if (rq.backup && *rq.backup < 1)
    fail(ErrorKind::invalid, "--backup {}: a backup's id (cloe backup list)", *rq.backup);
  must_cluster(s, rq.cluster);
  auto db = inventory::open(s);
  inventory::cluster(db, rq.cluster);
  Backup b;
  if (rq.backup) {
    auto found = backup_by_id(db, rq.cluster, *rq.backup);
    if (!found || found->vserver != rq.vserver)
      fail(ErrorKind::not_found, "no backup {} of vserver {} in cluster {} (see cloe backup list)", *rq.backup,
           rq.vserver, rq.cluster);
    b = *found;
  } else {
    auto q = db.query(fmt::format("SELECT {} FROM backups WHERE cluster = ?1 AND vserver = ?2 ORDER BY id DESC LIMIT 1",
                                  columns),
                      rq.cluster, rq.vserver);
    if (!q.step())
      fail(ErrorKind::not_found, "no backup of vserver {} in cluster {} (see cloe backup list)", rq.vserver,
           rq.cluster);
    b = backup_row(q);
  }
  json contents = json::parse(b.contents, nullptr, false);
  if (!contents.is_object() || !contents.contains("path") || !contents.contains("id_base"))
    fail(ErrorKind::invalid, "backup {}: its catalogue entry lacks what a restore needs", b.id);
  std::string target = rq.as.value_or(rq.vserver);
  bool in_place = !rq.as;
  Node store = local_node(db, rq.cluster, b.node);
  Repo repo{b.location, s.state / "backup" / (rq.cluster + ".key"), s.state / "backup" / "cache"};
  std::error_code ec;
  if (!fs::exists(repo.path / "config", ec))
    fail(ErrorKind::external, "backup {}: its repository {} on node {} is gone", b.id, b.location, store.name);

  core::JobRunner jobs(db);
  core::Job job{"cloe.restore", job_key(rq.cluster, target), {}};
  auto unfinished = jobs.find(job.kind, job.key);
  bool resuming = unfinished && unfinished->unfinished();
  auto existing = find_vserver(s, rq.cluster, target);
  if (in_place) {
    if (!existing)
      fail(ErrorKind::not_found, "no vserver {} in cluster {}: restore it --as a new one", target, rq.cluster);
    if (!rq.force && !resuming && existing->domain_state == "running")
      fail(ErrorKind::conflict, "vserver {} runs: restore replaces its files; stop it first, or give --force", target);
    // A killed backup still holds its layer (a mount, perhaps the freezer): finished first.
    auto killed = jobs.find("cloe.backup", job_key(rq.cluster, target));
    if (killed && killed->unfinished())
      fail(ErrorKind::conflict, "a backup of vserver {} was interrupted: run cloe backup {} to finish it first", target,
           target);
  } else if (existing && !resuming) {
    fail(ErrorKind::conflict, "vserver {} exists already in cluster {}", target, rq.cluster);
  }
  auto lock = core::FileLock::acquire(s.locks, "cloe.restore." + target);
  if (resuming && !in_place && !existing) {
    // A restore --as whose new vserver is gone (destroyed after a kill): its
    // journal entry is closed (nothing is left to undo) and it starts anew.
    core::Job closing = job;
    for (const char* name : {"create", "fill", "swap", "start", "clean"}) closing.steps.push_back({name, [] {}, {}});
    jobs.rollback(closing);
  }

  // The target's place, known once it exists (--as: after its create step).
  auto place = [&] {
    Vserver v = vserver_show(s, rq.cluster, target);
    return std::make_pair(v, where_of(s, db, v));
  };
  auto t0 = std::chrono::steady_clock::now();

  auto fill = [&] {
    auto [v, w] = place();
    Fill f = fill_of(w.layers);
    drop_fill(f);  // what a killed run left
    fs::path tmp = f.image;
    tmp += ".partial";
    fs::remove(tmp, ec);
    core::run({"truncate", "-s", std::to_string(v.disk), tmp.string()}, {.timeout = 60s});
    core::run({"mkfs.ext4", "-q", "-F", "-J", "size=8", "-E", fmt::format("root_owner={}:{}", v.id_base, v.id_base),
               tmp.string()},
              {.timeout = 120s});
    fs::rename(tmp, f.image);
    fs::create_directories(f.mnt);
    fs::permissions(f.mnt, fs::perms::owner_all);
    core::run({"mount", "-o", "loop,nosuid,nodev,noexec", f.image.string(), f.mnt.string()}, {.timeout = 60s});
    try {
      fs::remove_all(f.mnt / "lost+found", ec);
      fs::path scratch = f.mnt / ".restic";
      auto res = restic(repo, {"restore", b.snapshot, "--target", scratch.string()}, false);
      if (res.exit_code != 0)
        fail(ErrorKind::external, "restic restore of backup {} failed (exit {}): {}", b.id, res.exit_code,
             first_line(res.err));
      fs::path from = scratch / fs::path(contents["path"].get<std::string>()).relative_path();
      struct stat st {};
      if (::lstat(from.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        fail(ErrorKind::external, "backup {}: its snapshot holds no layer", b.id);
      fs::rename(from, f.mnt / "upper");
      core::remove_tree(scratch);
      fs::create_directory(f.mnt / "work");
      if (::lchown((f.mnt / "work").c_str(), static_cast<uid_t>(v.id_base), static_cast<gid_t>(v.id_base)) != 0)
        core::fail_errno(ErrorKind::io, "chown " + (f.mnt / "work").string(), errno);
      backup_ids::shift(f.mnt / "upper", contents["id_base"].get<std::int64_t>(), v.id_base);
      umount_if(f.mnt);
      fs::remove(f.mnt, ec);
    } catch (...) {
      try {
        drop_fill(f);
      } catch (const core::Error& e) {
        core::logger("cloe")->error("{}", e.what());
      }
      throw;
    }
  };
  auto unfill = [&] {
    if (!find_vserver(s, rq.cluster, target)) return;
    auto [v, w] = place();
    drop_fill(fill_of(w.layers));
  };

  if (!in_place) {
    job.steps.push_back({"create",
                         [&] {
                           VserverCreateRequest c;
                           c.cluster = rq.cluster;
                           c.name = target;
                           c.node = rq.node;
                           c.template_name = contents.value("template", std::string("base"));
                           c.cpu_shares = contents.value("cpu_shares", std::int64_t{1024});
                           c.cpu_max = contents.value("cpu_max", std::int64_t{0});
                           c.memory = std::to_string(contents.value("memory", std::int64_t{1} << 30));
                           c.disk = std::to_string(contents.value("disk", std::int64_t{4} << 30));
                           c.storage = contents.value("storage", std::string("ssd"));
                           c.start = false;
                           vserver_create(s, c);
                         },
                         [&] {
                           if (!find_vserver(s, rq.cluster, target)) {
                             // A create killed before its record: nothing to destroy.
                             return;
                           }
                           vserver_destroy(s, {rq.cluster, target, true});
                         }});
    job.steps.push_back({"fill", fill, unfill});
  } else {
    job.steps.push_back({"fill", fill, unfill});
    job.steps.push_back({"stop",
                         [&] {
                           thaw(s.libvirt_uri, target);  // one a killed backup left frozen stops too
                           vserver_stop(s, rq.cluster, target);
                         },
                         [&] {
                           try {
                             vserver_start(s, rq.cluster, target);
                           } catch (const core::Error& e) {
                             core::logger("cloe")->warn("rollback: start of {}: {}", target, e.what());
                           }
                         }});
  }
  job.steps.push_back({"swap",
                       [&] {
                         auto [v, w] = place();
                         if (run_state(w.uri, target) != Run::off && run_state(w.uri, target) != Run::absent)
                           fail(ErrorKind::conflict, "vserver {} runs: its layer cannot be replaced", target);
                         layers::unmount(w.layers);
                         Fill f = fill_of(w.layers);
                         if (!fs::exists(f.image, ec)) return;  // swapped by a run that was killed after it
                         if (fs::exists(w.layers.image, ec) && !fs::exists(f.old, ec))
                           fs::rename(w.layers.image, f.old);
                         fs::rename(f.image, w.layers.image);
                       },
                       [&] {
                         if (!find_vserver(s, rq.cluster, target)) return;
                         auto [v, w] = place();
                         Fill f = fill_of(w.layers);
                         if (!fs::exists(f.old, ec)) return;
                         layers::unmount(w.layers);
                         fs::rename(f.old, w.layers.image);
                       }});
  job.steps.push_back({"start", [&] { vserver_start(s, rq.cluster, target); }, {}});
  job.steps.push_back({"clean",
                       [&] {
                         auto [v, w] = place();
                         Fill f = fill_of(w.layers);
                         fs::remove(f.old, ec);
                         fs::remove(f.mnt, ec);
                       },
                       {}});
  jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  RestoreResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.backup = b;
  r.vserver = vserver_show(s, rq.cluster, target);
  core::logger("cloe")->info("backup {} of {} restored into {} in {:.1f} s", b.id, b.vserver, target, r.seconds);
  return r;
}

// ================================================================= verify

VerifyResult backup_verify(const Settings& s, const std::string& cluster, std::int64_t id) {
  core::validate_label(cluster, "cluster name");
  if (id < 1) fail(ErrorKind::invalid, "backup id {}: a backup's id (cloe backup list)", id);
  must_cluster(s, cluster);
  Backup b;
  {
    auto db = inventory::open(s);
    inventory::cluster(db, cluster);
    auto found = backup_by_id(db, cluster, id);
    if (!found) fail(ErrorKind::not_found, "no backup {} in cluster {} (see cloe backup list)", id, cluster);
    b = *found;
  }
  VerifyResult r;
  r.scratch = fmt::format("verify-{}", id);
  // What a killed verify left: destroyed (a restore killed half-way is rolled back by the next restore).
  auto scrap = [&] {
    if (find_vserver(s, cluster, r.scratch)) vserver_destroy(s, {cluster, r.scratch, true});
  };
  scrap();
  try {
    RestoreRequest rq;
    rq.cluster = cluster;
    rq.vserver = b.vserver;
    rq.backup = id;
    rq.as = r.scratch;
    auto restored = backup_restore(s, rq);
    r.restore_seconds = restored.seconds;
    auto argv = vserver_enter_argv(s, restored.vserver, {"true"});
    auto probe = core::run(argv, {.timeout = 60s, .check = false});
    if (probe.exit_code != 0)
      fail(ErrorKind::external, "backup {}: the probe `true` inside {} exited {}", id, r.scratch, probe.exit_code);
    r.probe = "true";
  } catch (...) {
    try {
      scrap();
    } catch (const core::Error& e) {
      core::logger("cloe")->error("{}", e.what());
    }
    throw;
  }
  scrap();
  auto db = inventory::open(s);
  db.execute("UPDATE backups SET verified = ?1, restore_seconds = ?2 WHERE id = ?3", inventory::now(),
             r.restore_seconds, id);
  r.backup = *backup_by_id(db, cluster, id);
  core::logger("cloe")->info("backup {} verified: restored in {:.1f} s, probe {}", id, r.restore_seconds, r.probe);
  return r;
}

}  // namespace cloe
