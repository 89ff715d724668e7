// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Per-resource file locks: a cron run and an administrator's command on the
// same resource serialise, and a lock whose holder died is free again.
//
// A lock is flock(LOCK_EX) on "<dir>/<resource>.lock". The kernel drops it
// when the holder's last descriptor of that open file closes, which includes
// the holder's death (even by SIGKILL), so no lock is ever stale. The file is
// opened O_CLOEXEC, so programs the holder executes do not inherit the lock;
// a child made by fork() without exec shares it until release(). Lock files
// are never deleted (deleting one would let two processes lock two different
// files of the same name); while held they contain "<pid> <command name>\n"
// for the diagnostics of whoever waits.
//
// Locks are advisory and per open file: two FileLocks on the same resource
// exclude each other even inside one process.
//
// A tool's commands take their locks through a LockDir, which carries the
// configured wait (`locks.wait`, `--wait`, `--no-wait`): a command that has
// to wait says so at once (a warning naming the holder), and gives up with
// ErrorKind::conflict when the wait is over.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace core {

struct LockDir;

class FileLock {
 public:
  enum class Wait {
    block,      // wait for the holder to release, up to the timeout
    fail_fast,  // report the conflict at once
  };
  static constexpr std::chrono::milliseconds forever = std::chrono::milliseconds::max();
  // How long a command waits for a lock unless configured otherwise.
  static constexpr std::chrono::seconds default_wait{300};

  // Locks `resource` exclusively through "<dir>/<resource>.lock", creating
  // the file with mode 0600 if needed (`dir` must exist). Throws
  // ErrorKind::invalid for a bad resource name (see is_valid_resource_name),
  // ErrorKind::io when the file cannot be opened or locked, and
  // ErrorKind::conflict "<resource> is locked by pid N (<comm>)" when another
  // holder keeps it: at once with Wait::fail_fast, after `timeout` with
  // Wait::block (a zero timeout behaves as fail_fast). A wait is announced
  // at once, as a warning naming the holder.
  [[nodiscard]] static FileLock acquire(const std::filesystem::path& dir, std::string_view resource,
                                        Wait wait = Wait::block,
                                        std::chrono::milliseconds timeout = forever);

  // acquire() in `dir.path` with `dir.wait`: zero fails at once, forever
  // waits without limit, anything else waits that long. The way a command
  // takes a lock; the conflict then reads "<resource> is locked by pid N
  // (<command>); gave up after S s".
  [[nodiscard]] static FileLock acquire(const LockDir& dir, std::string_view resource);

  // Like acquire(dir, resource, Wait::fail_fast) but reports a held lock as
  // nullopt instead of an error (for "skip if busy" callers such as cron).
  [[nodiscard]] static std::optional<FileLock> try_acquire(const std::filesystem::path& dir,
                                                           std::string_view resource);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Releases the lock now (also for forked children sharing the descriptor);
  // the destructor does the same. Idempotent.
  void release() noexcept;

  [[nodiscard]] bool held() const noexcept { return fd_ >= 0; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& resource() const noexcept { return resource_; }

 private:
  FileLock(int fd, std::filesystem::path path, std::string resource) noexcept;
  // The lock, or nullopt with `holder` describing who keeps it.
  static std::optional<FileLock> lock(const std::filesystem::path& dir, std::string_view resource,
                                      Wait wait, std::chrono::milliseconds timeout,
                                      std::string& holder);

  int fd_ = -1;
  std::filesystem::path path_;
  std::string resource_;
};

// A folder of lock files and how long a command waits for one of them (the
// configured wait; see FileLock::acquire(const LockDir&, ...)).
struct LockDir {
  std::filesystem::path path;
  std::chrono::milliseconds wait = FileLock::default_wait;
};

// True when `name` can name a lock: 1 to 200 characters from letters, digits,
// '-', '_', '.' and ':', not starting with '.' and without "..". So it can
// never leave the lock directory nor name a hidden file.
[[nodiscard]] bool is_valid_resource_name(std::string_view name) noexcept;

}  // namespace core
