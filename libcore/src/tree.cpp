// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "core/validate.hpp"

namespace fs = std::filesystem;

namespace core {

namespace {

constexpr int max_depth = 512;

// A name as it may appear in an error message (a newline in a file name
// must not make the message two lines).
std::string shown(std::string_view path) { return escape_for_display(path, 200); }

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

// The names in folder `dirfd`, without "." and "..", read from a duplicate
// of the descriptor (readdir owns its own).
std::vector<std::string> names_in(int dirfd, std::string_view path) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) fail_errno(ErrorKind::io, "dup " + shown(path), errno);
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dup));
  if (!dir) {
    int err = errno;
    ::close(dup);
    fail_errno(ErrorKind::io, "opendir " + shown(path), err);
  }
  ::rewinddir(dir.get());
  std::vector<std::string> out;
  errno = 0;
  while (dirent* e = ::readdir(dir.get())) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") out.emplace_back(n);
    errno = 0;
  }
  if (errno != 0) fail_errno(ErrorKind::io, "readdir " + shown(path), errno);
  return out;
}

std::string join(std::string_view path, std::string_view name) {
  return path.empty() ? std::string(name) : std::string(path) + "/" + std::string(name);
}

void walk(int dirfd, std::string_view path, int depth, const std::function<Descend(const TreeEntry&)>& visit) {
  if (depth > max_depth) fail(ErrorKind::io, "{}: deeper than {} levels", shown(path), max_depth);
  for (const auto& name : names_in(dirfd, path)) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      fail_errno(ErrorKind::io, "stat " + shown(join(path, name)), errno);
    }
    std::string sub = join(path, name);
    Descend d = visit(TreeEntry{dirfd, name, sub, st});
    if (!S_ISDIR(st.st_mode) || d != Descend::yes) continue;
    Fd child(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child) {
      // Replaced by a symbolic link or a file since the stat, or gone: not entered.
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;
      fail_errno(ErrorKind::io, "open " + shown(sub), errno);
    }
    walk(child.get(), sub, depth + 1, visit);
  }
}

// The descriptor (O_PATH, not followed) of `top` and its lstat.
Fd open_top(const fs::path& top, struct stat& st) {
  Fd fd(::open(top.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) fail(ErrorKind::not_found, "no {}", shown(top.string()));
    fail_errno(ErrorKind::io, "open " + shown(top.string()), errno);
  }
  if (::fstat(fd.get(), &st) != 0) fail_errno(ErrorKind::io, "stat " + shown(top.string()), errno);
  return fd;
}

// Changes the owner of the inode behind the O_PATH descriptor `fd`, which
// was checked with `st`; `path` names it in messages.
void chown_one(int fd, const struct stat& st, uid_t uid, gid_t gid, std::string_view path) {
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    fail(ErrorKind::precondition, "device node {} in a tree handed to uid {}: refused", shown(path), uid);
  if (S_ISREG(st.st_mode) && st.st_nlink > 1 && st.st_uid != uid)
    fail(ErrorKind::precondition, "{} has {} hard links and is not uid {}'s: refused", shown(path), st.st_nlink, uid);
  if (st.st_uid == uid && st.st_gid == gid) return;
  if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
    fail_errno(ErrorKind::io, "chown " + shown(path), errno);
}

// Removes everything in folder `dirfd`.
void empty_dir(int dirfd, std::string_view path, int depth) {
  if (depth > max_depth) fail(ErrorKind::io, "{}: deeper than {} levels", shown(path), max_depth);
  // A second pass catches what a writer added during the first.
  for (int pass = 0; pass < 3; ++pass) {
    auto names = names_in(dirfd, path);
    if (names.empty()) return;
    for (const auto& name : names) {
      std::string sub = join(path, name);
      for (int attempt = 0;; ++attempt) {
        if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) break;
        if ((errno != EISDIR && errno != EPERM) || attempt > 3) fail_errno(ErrorKind::io, "remove " + shown(sub), errno);
        Fd child(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!child) {
          if (errno == ENOENT) break;
          if (errno == ELOOP || errno == ENOTDIR) continue;  // swapped for a link or file: unlink it
          fail_errno(ErrorKind::io, "open " + shown(sub), errno);
        }
        empty_dir(child.get(), sub, depth + 1);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) break;
        if (errno != ENOTDIR && errno != ENOTEMPTY && errno != EEXIST) fail_errno(ErrorKind::io, "remove " + shown(sub), errno);
      }
    }
  }
  if (!names_in(dirfd, path).empty()) fail(ErrorKind::io, "cannot remove {}: something keeps writing into it", shown(path));
}

void copy_regular(int src_dir, int dst_dir, const std::string& name, std::string_view path, uid_t uid, gid_t gid) {
  struct stat st {};
  Fd in = open_regular(src_dir, name, st);
  if (!in) return;  // replaced by something else since the walk saw it
  Fd out(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) fail_errno(ErrorKind::io, "create " + shown(path), errno);
  if (::fchown(out.get(), uid, gid) != 0) fail_errno(ErrorKind::io, "chown " + shown(path), errno);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(ErrorKind::io, "read " + shown(path), errno);
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail_errno(ErrorKind::io, "write " + shown(path), errno);
      done += w;
    }
  }
  if (::fchmod(out.get(), st.st_mode & 0777) != 0) fail_errno(ErrorKind::io, "chmod " + shown(path), errno);
}

void copy_dir(int src, int dst, std::string_view path, int depth, uid_t uid, gid_t gid) {
  if (depth > max_depth) fail(ErrorKind::io, "{}: deeper than {} levels", shown(path), max_depth);
  for (const auto& name : names_in(src, path)) {
    struct stat st {};
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      fail_errno(ErrorKind::io, "stat " + shown(join(path, name)), errno);
    }
    std::string sub = join(path, name);
    if (S_ISREG(st.st_mode)) {
      copy_regular(src, dst, name, sub, uid, gid);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 256, '\0');
      ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
      if (n < 0) continue;
      target.resize(static_cast<std::size_t>(n));
      if (::symlinkat(target.c_str(), dst, name.c_str()) != 0) fail_errno(ErrorKind::io, "symlink " + shown(sub), errno);
      if (::fchownat(dst, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) fail_errno(ErrorKind::io, "chown " + shown(sub), errno);
    } else if (S_ISDIR(st.st_mode)) {
      Fd from(::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from) continue;  // swapped for a link since the stat: not entered
      if (::mkdirat(dst, name.c_str(), 0700) != 0) fail_errno(ErrorKind::io, "mkdir " + shown(sub), errno);
      Fd to(::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!to) fail_errno(ErrorKind::io, "open " + shown(sub), errno);
      copy_dir(from.get(), to.get(), sub, depth + 1, uid, gid);
      if (::fchown(to.get(), uid, gid) != 0 || ::fchmod(to.get(), st.st_mode & 0777) != 0)
        fail_errno(ErrorKind::io, "chown " + shown(sub), errno);
    }
    // FIFOs, sockets, devices: not copied
  }
}

}  // namespace

void copy_tree(const fs::path& from, const fs::path& to, uid_t uid, gid_t gid) {
  Fd src = open_directory(from);
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) fail_errno(ErrorKind::io, "stat " + shown(from.string()), errno);
  if (::mkdir(to.c_str(), 0700) != 0) fail_errno(ErrorKind::io, "mkdir " + shown(to.string()), errno);
  Fd dst = open_directory(to);
  copy_dir(src.get(), dst.get(), to.string(), 0, uid, gid);
  if (::fchown(dst.get(), uid, gid) != 0 || ::fchmod(dst.get(), st.st_mode & 0777) != 0)
    fail_errno(ErrorKind::io, "chown " + shown(to.string()), errno);
}

Fd open_directory(const fs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) fail(ErrorKind::not_found, "no folder {}", shown(path.string()));
    fail_errno(ErrorKind::io, "open folder " + shown(path.string()), errno);
  }
  return fd;
}

Fd open_beneath(int dirfd, const fs::path& relative, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dirfd, relative.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return Fd(static_cast<int>(fd));
}

void walk_tree(int top, const std::function<Descend(const TreeEntry&)>& visit) { walk(top, "", 0, visit); }

Fd open_regular(int parent, const std::string& name, struct stat& st) {
  Fd path(::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!path || ::fstat(path.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Fd();
  // The magic link reopens the very inode checked above, not whatever the name holds now.
  std::string self = "/proc/self/fd/" + std::to_string(path.get());
  Fd fd(::open(self.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return Fd();
  struct stat again {};
  if (::fstat(fd.get(), &again) != 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev) return Fd();
  return fd;
}

void chown_tree(const fs::path& top, uid_t uid, gid_t gid) {
  struct stat st {};
  Fd fd = open_top(top, st);
  chown_one(fd.get(), st, uid, gid, top.string());
  if (!S_ISDIR(st.st_mode)) return;
  Fd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) fail_errno(ErrorKind::io, "open folder " + shown(top.string()), errno);
  walk_tree(dir.get(), [&](const TreeEntry& e) {
    // Through an O_PATH descriptor: what is checked is what is changed, even
    // when the name is swapped right after the stat of the walk.
    Fd one(::openat(e.parent, std::string(e.name).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!one) {
      if (errno == ENOENT) return Descend::no;
      fail_errno(ErrorKind::io, "open " + shown((top / e.path).string()), errno);
    }
    struct stat now {};
    if (::fstat(one.get(), &now) != 0) fail_errno(ErrorKind::io, "stat " + shown((top / e.path).string()), errno);
    chown_one(one.get(), now, uid, gid, (top / e.path).string());
    return Descend::yes;
  });
}

void remove_tree(const fs::path& top) {
  struct stat st {};
  Fd fd(::open(top.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return;
    fail_errno(ErrorKind::io, "cannot remove " + shown(top.string()), errno);
  }
  if (::fstat(fd.get(), &st) != 0) fail_errno(ErrorKind::io, "stat " + shown(top.string()), errno);
  if (S_ISDIR(st.st_mode)) {
    Fd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) fail_errno(ErrorKind::io, "open folder " + shown(top.string()), errno);
    empty_dir(dir.get(), top.string(), 0);
    if (::rmdir(top.c_str()) != 0 && errno != ENOENT) fail_errno(ErrorKind::io, "cannot remove " + shown(top.string()), errno);
    return;
  }
  // unlink(2) does not follow a symbolic link in the last component.
  if (::unlink(top.c_str()) != 0 && errno != ENOENT) fail_errno(ErrorKind::io, "cannot remove " + shown(top.string()), errno);
}

}  // namespace core
