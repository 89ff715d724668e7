// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/lock.hpp"

#include "core/error.hpp"
#include "tempdir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using core::ErrorKind;
using test::TempDir;
using core::FileLock;
using namespace std::chrono_literals;

using test::error_of;

using test::read_file;

std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// This program's command line as a lock file records it: the program's file
// name and its arguments, separated by spaces.
std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(line.begin(), line.end(), '\0', ' ');
  while (!line.empty() && line.back() == ' ') line.pop_back();
  auto slash = line.rfind('/', line.find(' '));
  return slash == std::string::npos ? line : line.substr(slash + 1);
}

// A child process holding the lock until it is killed. Returns its pid once
// the lock is held.
pid_t child_holding(const fs::path& dir, const std::string& resource) {
  int ready[2];
  if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(ready[0]);
    try {
      auto lock = FileLock::acquire(dir, resource, FileLock::Wait::fail_fast);
      char byte = 'x';
      if (::write(ready[1], &byte, 1) != 1) ::_exit(3);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(ready[1]);
  char byte = 0;
  ssize_t n = ::read(ready[0], &byte, 1);
  ::close(ready[0]);
  if (n != 1) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("child could not take the lock");
  }
  return pid;
}

int kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

// What the "core" logger writes at warning level and above while the object
// lives (what a command shows on stderr without -v).
class WarningCapture {
 public:
  WarningCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
    logger_ = spdlog::get("core");
    if (!logger_) {
      logger_ = std::make_shared<spdlog::logger>("core");
      spdlog::register_logger(logger_);
      registered_ = true;
    }
    sink_->set_level(spdlog::level::warn);
    sink_->set_pattern("%l: %v");
    logger_->sinks().push_back(sink_);
  }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;
  ~WarningCapture() {
    std::erase(logger_->sinks(), sink_);
    if (registered_) spdlog::drop("core");
  }
  std::string text() {
    logger_->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  bool registered_ = false;
};

class LockTest : public ::testing::Test {
 protected:
  TempDir dir;
};

TEST_F(LockTest, AcquireCreatesPrivateLockFileNamingTheHolder) {
  auto lock = FileLock::acquire(dir.path(), "service:acme");
  EXPECT_TRUE(lock.held());
  EXPECT_EQ(lock.resource(), "service:acme");
  EXPECT_EQ(lock.path(), dir.path() / "service:acme.lock");
  struct stat info {};
  ASSERT_EQ(::stat(lock.path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600U);
  // "<pid> <command line>\n": the program's name first, its arguments after.
  EXPECT_EQ(read_file(lock.path()), std::to_string(::getpid()) + " " + own_command_line() + "\n");
}

TEST_F(LockTest, SecondLockInTheSameProcessConflicts) {
  auto first = FileLock::acquire(dir.path(), "vm-1", FileLock::Wait::fail_fast);
  auto e = error_of([&] { (void)FileLock::acquire(dir.path(), "vm-1", FileLock::Wait::fail_fast); });
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_EQ(std::string(e.what()),
            "vm-1 is locked by pid " + std::to_string(::getpid()) + " (" + own_command_line() + ")");
  EXPECT_EQ(FileLock::try_acquire(dir.path(), "vm-1"), std::nullopt);
  // Other resources are independent.
  auto other = FileLock::acquire(dir.path(), "vm-2", FileLock::Wait::fail_fast);
  EXPECT_TRUE(other.held());
}

TEST_F(LockTest, ReleaseFreesTheLockAndKeepsTheFile) {
  {
    auto lock = FileLock::acquire(dir.path(), "db.main");
  }
  EXPECT_TRUE(fs::exists(dir.path() / "db.main.lock"));
  EXPECT_EQ(read_file(dir.path() / "db.main.lock"), "");  // no stale holder line
  auto again = FileLock::try_acquire(dir.path(), "db.main");
  ASSERT_TRUE(again.has_value());
  again->release();
  EXPECT_FALSE(again->held());
  again->release();  // idempotent
  auto third = FileLock::acquire(dir.path(), "db.main", FileLock::Wait::fail_fast);
  EXPECT_TRUE(third.held());
}

TEST_F(LockTest, MovedLockStaysHeld) {
  auto lock = FileLock::acquire(dir.path(), "moved");
  FileLock moved = std::move(lock);
  EXPECT_TRUE(moved.held());
  EXPECT_EQ(FileLock::try_acquire(dir.path(), "moved"), std::nullopt);
  auto other = FileLock::acquire(dir.path(), "other");
  moved = std::move(other);  // releases "moved"
  EXPECT_TRUE(FileLock::try_acquire(dir.path(), "moved").has_value());
  EXPECT_EQ(FileLock::try_acquire(dir.path(), "other"), std::nullopt);
}

TEST_F(LockTest, LockOfAKilledProcessIsFree) {
  pid_t child = child_holding(dir.path(), "service:acme");
  auto e = error_of(
      [&] { (void)FileLock::acquire(dir.path(), "service:acme", FileLock::Wait::fail_fast); });
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(e.what()).find("locked by pid " + std::to_string(child) + " ("),
            std::string::npos)
      << e.what();

  int status = kill_and_reap(child);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  auto lock = FileLock::acquire(dir.path(), "service:acme", FileLock::Wait::fail_fast);
  EXPECT_TRUE(lock.held());
  // "<pid> <command line>\n": the program's name first, its arguments after.
  EXPECT_EQ(read_file(lock.path()), std::to_string(::getpid()) + " " + own_command_line() + "\n");
}

TEST_F(LockTest, BlockingWaitGivesUpAfterTheTimeout) {
  pid_t child = child_holding(dir.path(), "slow");
  auto start = std::chrono::steady_clock::now();
  auto e = error_of(
      [&] { (void)FileLock::acquire(dir.path(), "slow", FileLock::Wait::block, 300ms); });
  auto waited = std::chrono::steady_clock::now() - start;
  kill_and_reap(child);
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(e.what()).find("slow is locked by pid " + std::to_string(child)),
            std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("gave up after"), std::string::npos) << e.what();
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(LockTest, FailFastDoesNotWait) {
  pid_t child = child_holding(dir.path(), "busy");
  auto start = std::chrono::steady_clock::now();
  auto e = error_of(
      [&] { (void)FileLock::acquire(dir.path(), "busy", FileLock::Wait::fail_fast, 10s); });
  auto waited = std::chrono::steady_clock::now() - start;
  kill_and_reap(child);
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_LT(waited, 1s);
}

TEST_F(LockTest, LockDirWaitsItsConfiguredTimeAnnouncingTheHolderAtOnce) {
  pid_t child = child_holding(dir.path(), "xoe.service.acme");
  WarningCapture warnings;
  std::string seen_during_wait;
  std::thread watcher([&] {
    std::this_thread::sleep_for(150ms);
    seen_during_wait = warnings.text();
  });
  auto start = std::chrono::steady_clock::now();
  auto e = error_of([&] { (void)FileLock::acquire(core::LockDir{dir.path(), 600ms}, "xoe.service.acme"); });
  auto waited = std::chrono::steady_clock::now() - start;
  watcher.join();
  kill_and_reap(child);
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  // The holder's command line (this test program's, inherited by the fork).
  const std::string what = e.what();
  EXPECT_EQ(what.rfind("xoe.service.acme is locked by pid " + std::to_string(child) + " (" + own_comm(), 0), 0U)
      << what;
  EXPECT_TRUE(what.ends_with("); gave up after 600 ms")) << what;
  EXPECT_GE(waited, 600ms);
  EXPECT_LT(waited, 3s);
  // Said at once, at warning level (shown without -v), naming the holder.
  EXPECT_NE(seen_during_wait.find("warning: waiting up to 600 ms for the lock xoe.service.acme, held by pid " +
                                  std::to_string(child)),
            std::string::npos)
      << seen_during_wait;
}

TEST_F(LockTest, LockDirWithoutWaitFailsAtOnceAndSaysNothingElse) {
  pid_t child = child_holding(dir.path(), "busy");
  WarningCapture warnings;
  auto start = std::chrono::steady_clock::now();
  auto e = error_of([&] { (void)FileLock::acquire(core::LockDir{dir.path(), 0ms}, "busy"); });
  auto waited = std::chrono::steady_clock::now() - start;
  kill_and_reap(child);
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  const std::string what = e.what();
  EXPECT_EQ(what.rfind("busy is locked by pid " + std::to_string(child) + " (" + own_comm(), 0), 0U) << what;
  EXPECT_TRUE(what.ends_with(")")) << what;
  EXPECT_LT(waited, 500ms);
  EXPECT_EQ(warnings.text(), "");
}

TEST_F(LockTest, LockDirGetsAFreeLockAtOnceAndAHeldOneWhenReleased) {
  {
    WarningCapture warnings;
    auto lock = FileLock::acquire(core::LockDir{dir.path(), 0ms}, "free");
    EXPECT_TRUE(lock.held());
    EXPECT_EQ(warnings.text(), "");
  }
  pid_t child = child_holding(dir.path(), "handed");
  std::thread killer([child] {
    std::this_thread::sleep_for(200ms);
    ::kill(child, SIGKILL);
  });
  auto lock = FileLock::acquire(core::LockDir{dir.path(), 10s}, "handed");
  killer.join();
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(lock.held());
  EXPECT_EQ(core::LockDir{}.wait, std::chrono::milliseconds(FileLock::default_wait));
}

TEST_F(LockTest, BlockingWaitGetsTheLockWhenTheHolderDies) {
  pid_t child = child_holding(dir.path(), "handover");
  std::thread killer([child] {
    std::this_thread::sleep_for(300ms);
    ::kill(child, SIGKILL);
  });
  auto start = std::chrono::steady_clock::now();
  auto lock = FileLock::acquire(dir.path(), "handover", FileLock::Wait::block, 10s);
  auto waited = std::chrono::steady_clock::now() - start;
  killer.join();
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(lock.held());
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);
}

TEST_F(LockTest, BlockingWaitWithoutTimeoutGetsTheLockOnRelease) {
  auto holder = std::make_unique<FileLock>(FileLock::acquire(dir.path(), "forever"));
  std::thread releaser([&holder] {
    std::this_thread::sleep_for(200ms);
    holder->release();
  });
  auto start = std::chrono::steady_clock::now();
  auto lock = FileLock::acquire(dir.path(), "forever");  // Wait::block, no timeout
  auto waited = std::chrono::steady_clock::now() - start;
  releaser.join();
  EXPECT_TRUE(lock.held());
  EXPECT_GE(waited, 100ms);
}

TEST_F(LockTest, LockDescriptorIsCloseOnExec) {
  auto lock = FileLock::acquire(dir.path(), "cloexec");
  int found = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(entry.path(), ec);
    if (ec || target != lock.path()) continue;
    int fd = std::stoi(entry.path().filename().string());
    int flags = ::fcntl(fd, F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_TRUE((flags & FD_CLOEXEC) != 0);
    ++found;
  }
  EXPECT_EQ(found, 1);
}

TEST_F(LockTest, ExecutedProgramDoesNotInheritTheLock) {
  auto lock = FileLock::acquire(dir.path(), "exec");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const fs::path proc = fs::path("/proc") / std::to_string(pid);
  for (int i = 0; i < 200 && read_file(proc / "comm") != "sleep\n"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(read_file(proc / "comm"), "sleep\n");
  int inherited = 0;
  for (const auto& entry : fs::directory_iterator(proc / "fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) == lock.path()) ++inherited;
  }
  kill_and_reap(pid);
  EXPECT_EQ(inherited, 0);
}

TEST_F(LockTest, InvalidResourceNamesAreRejected) {
  for (std::string_view name : std::vector<std::string_view>{
           "", "a/b", "/etc/passwd", "..", "../x", "a..b", ".hidden", "with space", "tab\t",
        "new\nline", "semi;colon", "star*", "ü", std::string_view("nul\0x", 5)}) {
    auto e = error_of([&] { (void)FileLock::acquire(dir.path(), name); });
    EXPECT_EQ(e.kind(), ErrorKind::invalid) << name;
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_FALSE(core::is_valid_resource_name(name)) << name;
  }
  EXPECT_FALSE(core::is_valid_resource_name(std::string(201, 'a')));
  EXPECT_TRUE(core::is_valid_resource_name(std::string(200, 'a')));
  for (std::string_view name : {"service:acme", "vm-01_b.x", "A.b:C-d_9", "x"}) {
    EXPECT_TRUE(core::is_valid_resource_name(name)) << name;
  }
  // Nothing was created outside (or inside) the directory.
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(LockTest, MissingDirectoryIsAnIoError) {
  auto e = error_of([&] { (void)FileLock::acquire(dir.path() / "missing", "x"); });
  EXPECT_EQ(e.kind(), ErrorKind::io);
  EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
}

TEST_F(LockTest, SymlinkedLockFileIsRefused) {
  fs::create_symlink(dir.path() / "target", dir.path() / "evil.lock");
  auto e = error_of([&] { (void)FileLock::acquire(dir.path(), "evil"); });
  EXPECT_EQ(e.kind(), ErrorKind::io);
  EXPECT_FALSE(fs::exists(dir.path() / "target"));
}

}  // namespace
