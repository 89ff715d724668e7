// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/lock.hpp"

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

namespace core {
namespace {

std::shared_ptr<spdlog::logger> core_log() { return logger("core"); }

using core::Fd;

constexpr std::size_t max_resource_name = 200;

// A name as it can be shown in a one-line message, whatever bytes it holds.
std::string printable(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, max_resource_name + 20)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (name.size() > max_resource_name + 20) out += "...";
  return out;
}

// The holder's command line as the lock file records it (for whoever
// waits: "xoe service update acme" says more than "xoe"): /proc/self/cmdline
// with its NULs as spaces, control characters as '?', cut at 160 bytes; the
// command name when the line cannot be read. The suite never puts a secret
// on a command line, and the lock file is 0600 in root's lock folder.
std::string own_command_line() {
  constexpr std::size_t max_line = 160;
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string line;
  char c = 0;
  while (line.size() < max_line && in.get(c)) line += c == '\0' ? ' ' : (static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (!line.empty()) {
    if (auto slash = line.rfind('/', line.find(' ')); slash != std::string::npos) line.erase(0, slash + 1);
    return line;
  }
  std::ifstream comm_in("/proc/self/comm");
  std::string comm;
  if (!std::getline(comm_in, comm) || comm.empty()) return "unknown";
  return comm;
}

// "pid N (comm)" from the lock file's content, "another process" when the
// holder has not written it (yet) or wrote something else.
std::string describe_holder(int fd) {
  std::array<char, 256> buffer{};
  ssize_t n = ::pread(fd, buffer.data(), buffer.size() - 1, 0);
  if (n <= 0) return "another process";
  std::string_view text(buffer.data(), static_cast<std::size_t>(n));
  text = text.substr(0, text.find('\n'));
  auto space = text.find(' ');
  if (space == std::string_view::npos || space == 0) return "another process";
  long pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + space, pid);
  if (ec != std::errc() || end != text.data() + space || pid <= 0) return "another process";
  return fmt::format("pid {} ({})", pid, printable(text.substr(space + 1)));
}

// "2 s", "300 s", "250 ms": a wait as a person reads it.
std::string describe_wait(std::chrono::milliseconds wait) {
  if (wait.count() % 1000 == 0) return fmt::format("{} s", wait.count() / 1000);
  return fmt::format("{} ms", wait.count());
}

void write_holder(int fd, const std::filesystem::path& path) {
  std::string text = fmt::format("{} {}\n", ::getpid(), own_command_line());
  // Diagnostics only: a failure here must not cost the lock.
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    core_log()->warn("lock: cannot record the holder in {}: {}", path.string(), std::strerror(errno));
  }
}

}  // namespace

bool is_valid_resource_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_resource_name) return false;
  if (name.front() == '.' || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
  });
}

FileLock::FileLock(int fd, std::filesystem::path path, std::string resource) noexcept
    : fd_(fd), path_(std::move(path)), resource_(std::move(resource)) {}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      resource_(std::move(other.resource_)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    resource_ = std::move(other.resource_);
  }
  return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() noexcept {
  if (fd_ < 0) return;
  // Clear the holder line before unlocking, so it can never erase the next
  // holder's.
  if (::ftruncate(fd_, 0) != 0) {
    // Only diagnostics are lost; the lock is released below regardless.
  }
  // LOCK_UN releases the lock for a forked child sharing the descriptor too.
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
  core_log()->debug("lock: released {}", resource_);
}

std::optional<FileLock> FileLock::lock(const std::filesystem::path& dir, std::string_view resource,
                                       Wait wait, std::chrono::milliseconds timeout,
                                       std::string& holder) {
  if (!is_valid_resource_name(resource)) {
    fail(ErrorKind::invalid,
         "invalid lock name \"{}\": use 1 to {} letters, digits, '-', '_', '.' or ':', not "
         "starting with '.' and without \"..\"",
         printable(resource), max_resource_name);
  }
  std::filesystem::path path = dir / (std::string(resource) + ".lock");

  using clock = std::chrono::steady_clock;
  const bool wait_forever = wait == Wait::block && timeout == forever;
  const auto start = clock::now();
  clock::time_point deadline = start;
  if (wait == Wait::block && timeout > std::chrono::milliseconds::zero()) {
    deadline = timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(
                              clock::time_point::max() - start)
                   ? clock::time_point::max()
                   : start + timeout;
  }

  for (;;) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
    if (fd.get() < 0) fail_errno(ErrorKind::io, fmt::format("open {}", path.string()), errno);

    bool announced = false;
    auto delay = std::chrono::milliseconds(5);
    for (;;) {
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) break;
      int err = errno;
      if (err == EINTR) continue;
      if (err != EWOULDBLOCK) fail_errno(ErrorKind::io, fmt::format("flock {}", path.string()), err);
      if (wait == Wait::fail_fast) {
        holder = describe_holder(fd.get());
        return std::nullopt;
      }
      if (!wait_forever && clock::now() >= deadline) {
        holder = fmt::format("{}; gave up after {}", describe_holder(fd.get()), describe_wait(timeout));
        return std::nullopt;
      }
      if (!announced) {
        // At once and visible without -v: a command that waits must not look hung.
        if (wait_forever) {
          core_log()->warn("waiting for the lock {}, held by {}", resource, describe_holder(fd.get()));
        } else {
          core_log()->warn("waiting up to {} for the lock {}, held by {}", describe_wait(timeout), resource,
                           describe_holder(fd.get()));
        }
        announced = true;
      }
      if (wait_forever) {
        while (::flock(fd.get(), LOCK_EX) != 0) {
          if (errno != EINTR) fail_errno(ErrorKind::io, fmt::format("flock {}", path.string()), errno);
        }
        break;
      }
      auto now = clock::now();
      std::this_thread::sleep_for(std::min<clock::duration>(delay, deadline - now));
      delay = std::min(delay * 2, std::chrono::milliseconds(100));
    }

    // Someone may have removed or replaced the file between our open() and
    // flock(): then we hold a lock nobody else will look at. Start over.
    struct stat by_fd {};
    struct stat by_path {};
    if (::fstat(fd.get(), &by_fd) != 0) {
      fail_errno(ErrorKind::io, fmt::format("stat {}", path.string()), errno);
    }
    if (::lstat(path.c_str(), &by_path) != 0 || by_fd.st_dev != by_path.st_dev ||
        by_fd.st_ino != by_path.st_ino) {
      continue;
    }
    write_holder(fd.get(), path);
    core_log()->debug("lock: acquired {}", resource);
    return FileLock(fd.release(), std::move(path), std::string(resource));
  }
}

FileLock FileLock::acquire(const std::filesystem::path& dir, std::string_view resource, Wait wait,
                           std::chrono::milliseconds timeout) {
  std::string holder;
  auto held = lock(dir, resource, wait, timeout, holder);
  if (!held) fail(ErrorKind::conflict, "{} is locked by {}", resource, holder);
  return std::move(*held);
}

FileLock FileLock::acquire(const LockDir& dir, std::string_view resource) {
  if (dir.wait <= std::chrono::milliseconds::zero()) return acquire(dir.path, resource, Wait::fail_fast);
  return acquire(dir.path, resource, Wait::block, dir.wait);
}

std::optional<FileLock> FileLock::try_acquire(const std::filesystem::path& dir,
                                              std::string_view resource) {
  std::string holder;
  auto held = lock(dir, resource, Wait::fail_fast, std::chrono::milliseconds::zero(), holder);
  if (!held) core_log()->debug("lock: {} is busy, held by {}", resource, holder);
  return held;
}

}  // namespace core
