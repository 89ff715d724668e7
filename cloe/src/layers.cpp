// SPDX-License-Identifier: GPL-3.0-or-later
#include "layers.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/jobs.hpp"
#include "core/log.hpp"
#include "core/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace cloe::layers {

using core::ErrorKind;
using core::fail;

namespace {

void write_proc(const std::string& file, const std::string& text) {
  core::Fd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    core::fail_errno(ErrorKind::external, "write " + file, errno);
}

// A user namespace with the map 0 -> host_base for `count` ids, as a
// descriptor: a child enters a new one and waits; its maps are written from
// here; the descriptor keeps the namespace after the child is gone.
core::Fd user_namespace(std::uint32_t host_base, std::uint32_t count) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) core::fail_errno(ErrorKind::failed, "pipe", errno);
  core::Fd rd(ready[0]), wr(ready[1]);
  pid_t pid = ::fork();
  if (pid < 0) core::fail_errno(ErrorKind::failed, "fork", errno);
  if (pid == 0) {
    // Only async-signal-safe calls here: unshare, write, pause, _exit.
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (::write(wr.get(), &c, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  wr.reset();
  char c = 0;
  bool ok = ::read(rd.get(), &c, 1) == 1 && c == 'y';
  core::Fd ns;
  std::string err;
  if (ok) {
    try {
      std::string map = fmt::format("0 {} {}\n", host_base, count);
      write_proc(fmt::format("/proc/{}/uid_map", pid), map);
      write_proc(fmt::format("/proc/{}/gid_map", pid), map);
      ns = core::Fd(::open(fmt::format("/proc/{}/ns/user", pid).c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns) err = std::string("open its user namespace: ") + std::strerror(errno);
    } catch (const core::Error& e) {
      err = e.what();
    }
  } else {
    err = "unshare(CLONE_NEWUSER) failed";
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  if (!ns) fail(ErrorKind::external, "id map {}+{}: {}", host_base, count, err);
  return ns;
}

void run(const std::vector<std::string>& argv) { core::run(argv, {.timeout = 120s}); }

}  // namespace

bool is_mount_point(const fs::path& p) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string want = p.string();
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT ...; octal escapes for spaces are not expected in our paths.
    std::size_t pos = 0;
    for (int field = 0; field < 4 && pos != std::string::npos; ++field) pos = line.find(' ', pos + 1);
    if (pos == std::string::npos) continue;
    auto end = line.find(' ', pos + 1);
    if (line.substr(pos + 1, end - pos - 1) == want) return true;
  }
  return false;
}

Layers of(const fs::path& storage, const std::string& name) {
  fs::path dir = storage / "vservers" / name;
  return {dir, dir / "disk.img", dir / "layer", dir / "layer/upper", dir / "layer/work", dir / "lower", dir / "root"};
}

void idmapped_bind(const fs::path& source, const fs::path& target, std::uint32_t host_base, std::uint32_t count) {
  core::Fd ns = user_namespace(host_base, count);
  core::Fd tree(static_cast<int>(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree) core::fail_errno(ErrorKind::external, "open_tree " + source.string(), errno);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = static_cast<std::uint64_t>(ns.get());
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    core::fail_errno(ErrorKind::external, "idmap the mount of " + source.string(), errno);
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    core::fail_errno(ErrorKind::external, "mount " + source.string() + " on " + target.string(), errno);
}

void mount(const Layers& l, const fs::path& template_root, std::uint32_t host_base, std::uint32_t count,
           std::uint64_t disk_bytes) {
  std::error_code ec;
  // STORAGE/vservers: entered, not listed, by others (libvirt's controller
  // runs as the vserver's root, host id host_base, when it makes its root);
  // the vserver's folder is that id's alone.
  fs::create_directories(l.dir.parent_path());
  fs::permissions(l.dir.parent_path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::create_directories(l.dir);
  fs::permissions(l.dir, fs::perms::owner_all);
  if (::lchown(l.dir.c_str(), host_base, host_base) != 0)
    core::fail_errno(ErrorKind::io, "chown " + l.dir.string(), errno);
  for (const auto& d : {l.layer, l.lower, l.root}) fs::create_directories(d);
  if (!fs::exists(l.image, ec)) {
    fs::path tmp = l.image;
    tmp += ".partial";
    run({"truncate", "-s", std::to_string(disk_bytes), tmp.string()});
    run({"mkfs.ext4", "-q", "-F", "-J", "size=8", "-E", fmt::format("root_owner={}:{}", host_base, host_base),
         tmp.string()});
    fs::rename(tmp, l.image);
  }
  if (!is_mount_point(l.layer)) run({"mount", "-o", "loop,nosuid,nodev", l.image.string(), l.layer.string()});
  for (const auto& d : {l.upper, l.work}) {
    if (!fs::exists(d, ec)) {
      fs::create_directory(d);
      if (::lchown(d.c_str(), host_base, host_base) != 0) core::fail_errno(ErrorKind::io, "chown " + d.string(), errno);
    }
  }
  fs::remove_all(l.layer / "lost+found", ec);
  if (!is_mount_point(l.lower)) idmapped_bind(template_root, l.lower, host_base, count);
  if (!is_mount_point(l.root))
    run({"mount", "-t", "overlay", "overlay", "-o",
         "lowerdir=" + l.lower.string() + ",upperdir=" + l.upper.string() + ",workdir=" + l.work.string(),
         l.root.string()});
  core::logger("cloe")->info("layers of {} mounted", l.dir.filename().string());
}

void unmount(const Layers& l) {
  for (const auto& m : {l.root, l.lower, l.layer}) {
    if (!is_mount_point(m)) continue;
    auto r = core::run({"umount", m.string()}, {.timeout = 60s, .check = false});
    if (r.exit_code != 0 && is_mount_point(m))
      fail(ErrorKind::external, "umount {}: {}", m.string(), r.err.substr(0, r.err.find('\n')));
  }
}

// Grows the unmounted image of `l` to `bytes` with its filesystem; a
// missing or large enough image is left alone.
void grow(const Layers& l, std::int64_t bytes) {
  std::error_code ec;
  auto size = fs::file_size(l.image, ec);
  if (ec) return;
  // DIR/disk.img.growing marks a growth under way: a grow killed after the
  // truncate and before resize2fs is finished by the next one, although the
  // image already has its size.
  fs::path mark = l.image;
  mark += ".growing";
  bool unfinished = fs::exists(mark, ec);
  if (static_cast<std::int64_t>(size) >= bytes && !unfinished) return;
  if (layers::is_mount_point(l.layer)) return;
  if (!unfinished && !core::Fd(::open(mark.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)))
    fail(ErrorKind::io, "cannot create {}: {}", mark.string(), std::strerror(errno));
  if (static_cast<std::int64_t>(size) < bytes)
    core::run({"truncate", "-s", std::to_string(bytes), l.image.string()}, {.timeout = 60s});
  core::crash_point("cloe.layers.grow", "resize");
  // e2fsck -p exits 1 when it fixed something: fine; more is a broken filesystem.
  auto fsck = core::run({"e2fsck", "-f", "-p", l.image.string()}, {.timeout = 300s, .check = false});
  if (fsck.exit_code > 1)
    fail(ErrorKind::external, "e2fsck of {} exited {}: {}", l.image.string(), fsck.exit_code,
         fsck.out.substr(0, fsck.out.find('\n')));
  core::run({"resize2fs", l.image.string()}, {.timeout = 300s});
  fs::remove(mark, ec);
  core::logger("cloe")->info("disk of {} grown to {} MiB", l.dir.filename().string(), bytes >> 20);
}

void remove(const Layers& l) {
  // What a killed backup or restore left beside it (backup.cpp): NAME.backup
  // (the layer bound or mounted for restic), NAME.restore (a fresh image
  // being filled), NAME.restore.img, NAME.old.img.
  std::string name = l.dir.filename().string();
  fs::path vs = l.dir.parent_path();
  std::error_code ec;
  for (const auto& m : {vs / (name + ".backup"), vs / (name + ".restore")}) {
    if (is_mount_point(m)) {
      auto r = core::run({"umount", m.string()}, {.timeout = 60s, .check = false});
      if (r.exit_code != 0 && is_mount_point(m))
        fail(ErrorKind::external, "umount {}: {}", m.string(), r.err.substr(0, r.err.find('\n')));
    }
    fs::remove(m, ec);
  }
  for (const auto& f : {vs / (name + ".restore.img"), vs / (name + ".restore.img.partial"), vs / (name + ".old.img")})
    fs::remove(f, ec);
  unmount(l);
  fs::remove_all(l.dir, ec);
  if (ec) fail(ErrorKind::io, "remove {}: {}", l.dir.string(), ec.message());
}

}  // namespace cloe::layers
