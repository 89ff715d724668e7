// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/process.hpp"

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace core {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kill_grace{2000};
constexpr std::size_t chunk_size = 64 * 1024;

std::shared_ptr<spdlog::logger> core_logger() { return logger("core"); }

using core::Fd;

// Moves a descriptor above 0, 1 and 2 (they are all taken unless our own
// stdio is closed), so that the child's dup2() onto 0-2 never clobbers one of
// its other descriptors.
Fd above_stdio(Fd fd) {
  if (fd.get() > 2) return fd;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) fail_errno(ErrorKind::failed, "fcntl F_DUPFD_CLOEXEC", errno);
  return Fd(moved);
}

struct Pipe {
  Fd read;
  Fd write;
};

// Both ends close-on-exec, so a process another thread starts meanwhile
// does not keep them open.
Pipe make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) fail_errno(ErrorKind::failed, "pipe2", errno);
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  pipe.read = above_stdio(std::move(pipe.read));
  pipe.write = above_stdio(std::move(pipe.write));
  return pipe;
}

void set_nonblocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
    fail_errno(ErrorKind::failed, "fcntl O_NONBLOCK", errno);
}

Fd open_file(const std::filesystem::path& path, int flags, mode_t mode, std::string_view purpose) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail_errno(ErrorKind::io, fmt::format("open {} {}", purpose, path.native()), errno);
  return above_stdio(Fd(fd));
}

// A sealed anonymous file holding `data`, at offset 0, for a child's stdin.
Fd memory_file(std::string_view data) {
  Fd fd(::memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) fail_errno(ErrorKind::failed, "memfd_create", errno);
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(ErrorKind::failed, "write to a memfd", errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    fail_errno(ErrorKind::failed, "sealing a memfd", errno);
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) fail_errno(ErrorKind::failed, "lseek in a memfd", errno);
  return above_stdio(std::move(fd));
}

// Blocks SIGPIPE in this thread for the lifetime of the object, so writing to
// a child that has exited yields EPIPE instead of killing the process. A
// SIGPIPE raised meanwhile is thread-directed and stays pending; it is taken
// off again before the old mask comes back. Other threads are not affected.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe_only;
    ::sigemptyset(&pipe_only);
    ::sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() {
    const int saved_errno = errno;
    if (raised_ && !was_pending_) {
      sigset_t pipe_only;
      ::sigemptyset(&pipe_only);
      ::sigaddset(&pipe_only, SIGPIPE);
      const timespec no_wait{};
      while (::sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    errno = saved_errno;
  }
  void note_epipe() noexcept { raised_ = true; }

 private:
  sigset_t old_mask_{};
  bool was_pending_ = false;
  bool raised_ = false;
};

// The started child; its pid is also its process group id. Until reap() the
// child is at least a zombie, which keeps that id from being reused, so
// signalling the group is safe. Kills and reaps it if run() leaves early
// through an exception.
class Child {
 public:
  explicit Child(pid_t pid) noexcept : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (reaped_) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  void signal_group(int sig) const noexcept { ::kill(-pid_, sig); }

  // Has it exited? Does not reap it (WNOWAIT).
  bool has_exited() {
    siginfo_t info{};
    int rc = 0;
    do {
      rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) lost(errno);
    return info.si_pid == pid_;
  }

  // Waits for the exit and returns the wait status.
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0)
      if (errno != EINTR) lost(errno);
    reaped_ = true;
    return status;
  }

 private:
  [[noreturn]] void lost(int err) {
    reaped_ = true;  // reaped by someone else: never signal that id again
    fail(ErrorKind::internal, "cannot wait for child process {}: {} (SIGCHLD ignored or reaped elsewhere)", pid_,
         std::strerror(err));
  }

  pid_t pid_;
  bool reaped_ = false;
};

// What the child reports through the error pipe when it cannot exec.
enum class Stage : int { setup = 1, chdir, credentials, exec };
struct ChildFailure {
  Stage stage;
  int err;
};

// Everything the child needs, computed before fork(): between fork() and
// exec the child of a multi-threaded process may only call
// async-signal-safe functions, so no allocation happens there.
struct ChildPlan {
  std::vector<const char*> argv;
  std::vector<const char*> envp;
  std::vector<const char*> candidates;  // executables to try in order
  const char* cwd = nullptr;
  bool set_groups = false;
  std::vector<gid_t> groups;
  bool set_gid = false;
  gid_t gid = 0;
  bool set_uid = false;
  uid_t uid = 0;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int error_fd = -1;
  pid_t parent = 0;  // the process that forks, to tell its death before PR_SET_PDEATHSIG
  int max_fd = 0;  // for the fallback when close_range() is missing
};

[[noreturn]] void child_fail(const ChildPlan& plan, Stage stage, int err) noexcept {
  const ChildFailure failure{stage, err};
  while (::write(plan.error_fd, &failure, sizeof failure) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

[[noreturn]] void child_exec(const ChildPlan& plan) noexcept {
  // Own process group: a timeout then reaches every descendant.
  ::setpgid(0, 0);

  // exec keeps ignored signals ignored and the signal mask as is; the child
  // starts with neither (SIGPIPE is blocked in this thread, for instance).
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  ::sigemptyset(&default_action.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // dup2() clears close-on-exec on 0, 1 and 2; every other descriptor is
  // made close-on-exec (the error pipe must stay open until exec).
  if (::dup2(plan.stdin_fd, 0) < 0 || ::dup2(plan.stdout_fd, 1) < 0 || ::dup2(plan.stderr_fd, 2) < 0)
    child_fail(plan, Stage::setup, errno);
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < plan.max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }

  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) child_fail(plan, Stage::chdir, errno);
  if (plan.set_groups && ::setgroups(plan.groups.size(), plan.groups.data()) != 0)
    child_fail(plan, Stage::credentials, errno);
  if (plan.set_gid && ::setgid(plan.gid) != 0) child_fail(plan, Stage::credentials, errno);
  if (plan.set_uid && ::setuid(plan.uid) != 0) child_fail(plan, Stage::credentials, errno);

  // Die with the parent, even when it is killed outright. After the
  // credentials change, which clears this setting; a parent that died
  // before it was set left us to init already.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(plan, Stage::setup, errno);
  if (::getppid() != plan.parent) ::_exit(127);

  // The PATH search of execvp, but over the child's PATH and without the
  // /bin/sh fallback for files without "#!".
  bool denied = false;
  for (const char* candidate : plan.candidates) {
    ::execve(candidate, const_cast<char* const*>(plan.argv.data()),  // NOLINT: execve's C signature
             const_cast<char* const*>(plan.envp.data()));
    switch (errno) {
      case ENOENT:
      case ENOTDIR:
      case ESTALE:
      case ENODEV:
      case ETIMEDOUT:
        continue;
      case EACCES:
        denied = true;
        continue;
      default:
        child_fail(plan, Stage::exec, errno);
    }
  }
  child_fail(plan, Stage::exec, denied ? EACCES : ENOENT);
}

struct Account {
  std::string name;
  std::string home;
  gid_t gid = 0;
};

std::optional<Account> lookup_account(uid_t uid) {
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  for (;;) {
    passwd entry{};
    passwd* found = nullptr;
    const int rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return Account{found->pw_name, found->pw_dir, found->pw_gid};
  }
}

std::vector<gid_t> group_list(const std::string& user, gid_t gid) {
  std::vector<gid_t> groups(32);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(user.c_str(), gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return groups;
    }
    groups.resize(static_cast<std::size_t>(std::max(count, static_cast<int>(groups.size()) * 2)));
  }
}

std::string default_home(const RunOptions& options) {
  if (options.uid) {
    if (auto account = lookup_account(*options.uid)) return account->home;
    return "/";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  if (auto account = lookup_account(::geteuid())) return account->home;
  return "/";
}

std::map<std::string, std::string> build_environment(const RunOptions& options) {
  std::map<std::string, std::string> vars;
  if (options.env == RunOptions::Env::inherit) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      const auto eq = text.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      vars.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));  // first wins, as getenv
    }
    if (options.uid) vars["HOME"] = default_home(options);
  } else {
    vars["PATH"] = std::string(clean_path);
    vars["HOME"] = default_home(options);
    vars["LANG"] = "C";
  }
  vars["LC_ALL"] = "C";
  for (const auto& [key, value] : options.env_extra) {
    if (key.empty() || key.find_first_of(std::string_view("=\0", 2)) != std::string::npos)
      fail(ErrorKind::invalid, "environment variable name '{}' for a child process is not valid",
           escape_for_display(key));
    if (value.find('\0') != std::string::npos)
      fail(ErrorKind::invalid, "environment variable {} for a child process contains a NUL byte",
           escape_for_display(key));
    vars[key] = value;
  }
  return vars;
}

std::vector<std::string> path_candidates(const std::string& name, std::string_view search_path) {
  if (name.find('/') != std::string::npos) return {name};
  std::vector<std::string> candidates;
  while (true) {
    const auto colon = search_path.find(':');
    const auto dir = search_path.substr(0, colon);
    if (!dir.empty()) {
      std::string candidate(dir);
      if (candidate.back() != '/') candidate += '/';
      candidates.push_back(candidate + name);
    }
    if (colon == std::string_view::npos) break;
    search_path.remove_prefix(colon + 1);
  }
  return candidates;
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string format_seconds(milliseconds duration) {
  return fmt::format("{:g}s", static_cast<double>(duration.count()) / 1000.0);
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// The last non-empty line of a child's stderr, for an error message.
std::string last_line(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n\v\f";
  while (!text.empty()) {
    const auto end = text.find_last_not_of(blanks);
    if (end == std::string_view::npos) return {};
    text = text.substr(0, end + 1);
    const auto newline = text.find_last_of('\n');
    auto line = newline == std::string_view::npos ? text : text.substr(newline + 1);
    const auto begin = line.find_first_not_of(blanks);
    if (begin != std::string_view::npos) return escape_for_display(line.substr(begin), 200);
    text = text.substr(0, newline == std::string_view::npos ? 0 : newline);
  }
  return {};
}

// One captured stream of the child.
struct Capture {
  Fd fd;
  std::string* sink = nullptr;
  std::size_t limit = 0;
  bool truncated = false;

  enum class Read { data, nothing, closed };

  // Reads once; closes the descriptor at end of file or on error.
  Read read_some(std::vector<char>& buffer) {
    ssize_t n = 0;
    do {
      n = ::read(fd.get(), buffer.data(), buffer.size());
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      const std::size_t room = limit > sink->size() ? limit - sink->size() : 0;
      const std::size_t take = std::min(room, got);
      sink->append(buffer.data(), take);
      if (take < got) truncated = true;
      return Read::data;
    }
    if (n < 0 && errno == EAGAIN) return Read::nothing;
    fd.reset();
    return Read::closed;
  }

  // Reads what is there now without waiting; bounded, in case a descendant
  // that escaped the process group keeps writing.
  void drain(std::vector<char>& buffer) {
    for (int round = 0; fd && round < 1024; ++round)
      if (read_some(buffer) != Read::data) break;
  }
};

int wait_ms_until(Clock::time_point now, Clock::time_point then) {
  if (then <= now) return 0;
  const auto ms = std::chrono::ceil<milliseconds>(then - now).count();
  return static_cast<int>(std::min<long long>(ms, 60'000));
}


// The parent's end of the child's stdin and what is left to write.
struct Feed {
  Fd fd;
  std::string_view pending;

  // Writes what the pipe takes now; closes it when everything is written or
  // the child stopped reading.
  void write_some(SigpipeBlock& sigpipe, spdlog::logger& logger, std::string_view name) {
    const ssize_t n = ::write(fd.get(), pending.data(), std::min(pending.size(), chunk_size));
    if (n >= 0) {
      pending.remove_prefix(static_cast<std::size_t>(n));
      if (pending.empty()) fd.reset();
      return;
    }
    if (errno == EINTR || errno == EAGAIN) return;
    if (errno == EPIPE) {
      sigpipe.note_epipe();
      logger.debug("{} closed its stdin with {} bytes unread", name, pending.size());
    } else {
      logger.debug("writing to the stdin of {}: {}", name, std::strerror(errno));
    }
    fd.reset();
  }
};

// The parent's ends of the child's standard streams.
struct Streams {
  Feed in;
  Capture out;
  Capture err;

  bool open() const noexcept { return in.fd || out.fd || err.fd; }
};

// Feeds stdin and collects stdout and stderr until the child has exited and
// both streams reached end of file, enforcing the timeout on the way: at
// the deadline SIGTERM to the group, after the grace period SIGKILL.
void exchange(Child& child, Streams& streams, const RunOptions& options, Clock::time_point start,
              SigpipeBlock& sigpipe, spdlog::logger& logger, std::string_view name, bool& timed_out) {
  // Plain values and flags rather than std::optional: GCC 12 reports
  // optional time points as maybe-uninitialized here.
  const bool has_deadline = options.timeout > milliseconds::zero();
  const Clock::time_point deadline = start + options.timeout;
  bool kill_pending = false;  // SIGKILL due at kill_at
  Clock::time_point kill_at{};
  bool killed = false;
  bool exited = false;
  int idle_ms = 1;  // growing nap while only the child's exit is awaited
  std::vector<char> buffer(chunk_size);

  for (;;) {
    const auto now = Clock::now();
    if (has_deadline && !timed_out && now >= deadline) {
      timed_out = true;
      logger.debug("{} timed out after {}, sending SIGTERM to its process group", name,
                   format_seconds(options.timeout));
      child.signal_group(SIGTERM);
      kill_at = now + kill_grace;
      kill_pending = true;
    }
    if (kill_pending && now >= kill_at) {
      logger.debug("{} still running {} after SIGTERM, sending SIGKILL", name, format_seconds(kill_grace));
      child.signal_group(SIGKILL);
      kill_pending = false;
      killed = true;
    }
    if (!exited) exited = child.has_exited();
    // Output may still sit in the pipes when the child exits: wait for end
    // of file. Once the group is killed, a descendant that escaped it and
    // holds a pipe must not keep us waiting.
    if (exited && (!streams.open() || killed)) break;

    int wait_ms = -1;
    if (has_deadline && !timed_out) wait_ms = wait_ms_until(now, deadline);
    if (kill_pending) {
      const int until_kill = wait_ms_until(now, kill_at);
      wait_ms = wait_ms < 0 ? until_kill : std::min(wait_ms, until_kill);
    }
    if (!exited && (!streams.open() || timed_out)) {
      wait_ms = wait_ms < 0 ? idle_ms : std::min(wait_ms, idle_ms);
      idle_ms = std::min(idle_ms * 2, 50);
    }

    std::array<pollfd, 3> fds{};
    nfds_t count = 0;
    if (streams.in.fd) fds[count++] = pollfd{streams.in.fd.get(), POLLOUT, 0};
    if (streams.out.fd) fds[count++] = pollfd{streams.out.fd.get(), POLLIN, 0};
    if (streams.err.fd) fds[count++] = pollfd{streams.err.fd.get(), POLLIN, 0};
    if (::poll(count > 0 ? fds.data() : nullptr, count, wait_ms) < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::internal, "poll", errno);
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (streams.in.fd && fds[i].fd == streams.in.fd.get())
        streams.in.write_some(sigpipe, logger, name);
      else if (streams.out.fd && fds[i].fd == streams.out.fd.get())
        streams.out.read_some(buffer);
      else if (streams.err.fd && fds[i].fd == streams.err.fd.get())
        streams.err.read_some(buffer);
    }
  }

  // Whatever is left of a timed-out group goes now.
  if (timed_out) child.signal_group(SIGKILL);
  streams.out.drain(buffer);
  streams.err.drain(buffer);
}

// What a child that could not exec reported, if anything: the error pipe
// reaches end of file at a successful exec.
std::optional<ChildFailure> read_child_failure(const Fd& error_pipe) {
  ChildFailure failure{};
  std::size_t got = 0;
  while (got < sizeof failure) {
    const ssize_t n = ::read(error_pipe.get(), reinterpret_cast<char*>(&failure) + got, sizeof failure - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != sizeof failure) return std::nullopt;
  return failure;
}

// Everything prepared for the child, owning the strings the plan points
// into; filled in place because the pointers must not move.
struct Launch {
  std::vector<std::string> env_strings;
  std::vector<std::string> candidates;
  std::string cwd;
  ChildPlan plan;

  Launch(const std::vector<std::string>& argv, const RunOptions& options, std::string_view name) {
    const auto vars = build_environment(options);
    for (const auto& [key, value] : vars) env_strings.push_back(key + "=" + value);
    const auto path = vars.find("PATH");
    candidates = path_candidates(argv.front(), path != vars.end() ? std::string_view(path->second) : clean_path);
    if (options.cwd) cwd = options.cwd->native();
    else if (options.uid) cwd = "/";

    for (const auto& arg : argv) plan.argv.push_back(arg.c_str());
    plan.argv.push_back(nullptr);
    for (const auto& entry : env_strings) plan.envp.push_back(entry.c_str());
    plan.envp.push_back(nullptr);
    for (const auto& candidate : candidates) plan.candidates.push_back(candidate.c_str());
    if (!cwd.empty()) plan.cwd = cwd.c_str();

    if (options.uid || options.gid) {
      const auto account = options.uid ? lookup_account(*options.uid) : std::nullopt;
      if (options.uid && !options.gid && !account)
        fail(ErrorKind::invalid, "cannot run {} as uid {}: no such user; give a gid as well", name, *options.uid);
      plan.set_gid = true;
      plan.gid = options.gid ? *options.gid : account->gid;
      plan.set_uid = options.uid.has_value();
      plan.uid = options.uid.value_or(0);
      // Only root may set supplementary groups; anyone else keeps theirs,
      // and setgid()/setuid() fail unless they change nothing.
      plan.set_groups = ::geteuid() == 0;
      plan.groups = account ? group_list(account->name, plan.gid) : std::vector<gid_t>{plan.gid};
    }

    rlimit files{};
    plan.max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                      ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1U << 20))
                      : 1 << 20;
  }
  Launch(const Launch&) = delete;
  Launch& operator=(const Launch&) = delete;

  std::string describe(const ChildFailure& failure, std::string_view name) const {
    std::string detail;
    switch (failure.stage) {
      case Stage::chdir: detail = fmt::format("cannot change directory to {}: ", cwd); break;
      case Stage::credentials:
        detail = fmt::format("cannot switch to uid {} gid {}: ", plan.set_uid ? fmt::to_string(plan.uid) : "-",
                             plan.gid);
        break;
      case Stage::setup: detail = "cannot set up its standard descriptors: "; break;
      case Stage::exec: break;
    }
    return fmt::format("cannot run {}: {}{}", name, detail, std::strerror(failure.err));
  }
};

// The outcome in words, or "" for exit status 0.
std::string describe_outcome(const RunResult& result, std::string_view name, milliseconds timeout) {
  if (result.timed_out) return fmt::format("{} timed out after {}", name, format_seconds(timeout));
  if (result.signal != 0)
    return fmt::format("{} killed by signal {} ({})", name, result.signal, signal_name(result.signal));
  if (result.exit_code != 0) return fmt::format("{} exited with status {}", name, result.exit_code);
  return {};
}

}  // namespace

std::string format_command(const std::vector<std::string>& argv, const std::vector<std::size_t>& redact_args) {
  std::string line;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) line += ' ';
    const std::string& arg = argv[i];
    if (std::ranges::find(redact_args, i) != redact_args.end()) {
      line += "***";
      continue;
    }
    const bool plain = !arg.empty() && std::ranges::all_of(arg, [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
    });
    const bool control = std::ranges::any_of(arg, [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte < 0x20 || byte == 0x7f;
    });
    if (plain) {
      line += arg;
    } else if (control) {
      line += "$'";
      for (char c : arg) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
          case '\n': line += "\\n"; break;
          case '\t': line += "\\t"; break;
          case '\r': line += "\\r"; break;
          case '\\': line += "\\\\"; break;
          case '\'': line += "\\'"; break;
          default:
            if (byte < 0x20 || byte == 0x7f)
              line += fmt::format("\\x{:02x}", byte);
            else
              line += c;
        }
      }
      line += '\'';
    } else {
      line += '\'';
      for (char c : arg) {
        if (c == '\'')
          line += "'\\''";
        else
          line += c;
      }
      line += '\'';
    }
  }
  return line;
}

std::optional<std::filesystem::path> which(std::string_view name, std::string_view search_path) {
  if (name.empty() || name.find('\0') != std::string_view::npos) return std::nullopt;
  for (const auto& candidate : path_candidates(std::string(name), search_path))
    if (is_executable_file(candidate)) return std::filesystem::path(candidate);
  return std::nullopt;
}

std::optional<std::filesystem::path> which(std::string_view name) {
  const char* path = std::getenv("PATH");
  return which(name, path != nullptr ? std::string_view(path) : clean_path);
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty() || argv.front().empty()) fail(ErrorKind::invalid, "cannot run an empty command");
  for (const auto& arg : argv)
    if (arg.find('\0') != std::string::npos)
      fail(ErrorKind::invalid, "cannot run {}: an argument contains a NUL byte",
           format_command(argv, options.redact_args));

  const auto logger = core_logger();
  // Error messages name the program only; the whole line goes to the log.
  const bool program_redacted = std::ranges::find(options.redact_args, std::size_t{0}) != options.redact_args.end();
  const std::string name = program_redacted ? std::string("***") : format_command({argv.front()});
  const Launch launch(argv, options, name);

  // stdin from a pipe or /dev/null, stdout to a pipe or the file, stderr to
  // a pipe, and the close-on-exec error pipe.
  Streams streams;
  Fd stdin_child;
  if (options.stdin_data && options.stdin_kind == RunOptions::Stdin::memory_file) {
    stdin_child = memory_file(*options.stdin_data);
  } else if (options.stdin_data) {
    auto pipe = make_pipe();
    stdin_child = std::move(pipe.read);
    streams.in.fd = std::move(pipe.write);
    set_nonblocking(streams.in.fd);
    streams.in.pending = *options.stdin_data;
    if (streams.in.pending.empty()) streams.in.fd.reset();
  } else {
    stdin_child = open_file("/dev/null", O_RDONLY, 0, "stdin");
  }
  RunResult result;
  Fd stdout_child;
  if (options.stdout_to) {
    stdout_child = open_file(*options.stdout_to, O_WRONLY | O_CREAT | O_TRUNC, 0600, "output file");
  } else {
    auto pipe = make_pipe();
    streams.out.fd = std::move(pipe.read);
    stdout_child = std::move(pipe.write);
    set_nonblocking(streams.out.fd);
  }
  streams.out.sink = &result.out;
  streams.out.limit = options.max_output;
  auto stderr_pipe = make_pipe();
  streams.err.fd = std::move(stderr_pipe.read);
  set_nonblocking(streams.err.fd);
  streams.err.sink = &result.err;
  streams.err.limit = options.max_output;
  auto error_pipe = make_pipe();

  ChildPlan plan = launch.plan;
  plan.stdin_fd = stdin_child.get();
  plan.stdout_fd = stdout_child.get();
  plan.stderr_fd = stderr_pipe.write.get();
  plan.error_fd = error_pipe.write.get();
  plan.parent = ::getpid();

  SigpipeBlock sigpipe;
  logger->debug("running {}", format_command(argv, options.redact_args));
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) fail_errno(ErrorKind::failed, fmt::format("cannot run {}: fork", name), errno);
  if (pid == 0) child_exec(plan);

  Child child(pid);
  // From this side too: a signal to the group must not miss a child that
  // has not reached its own setpgid() yet. Fails harmlessly after exec.
  ::setpgid(pid, pid);
  stdin_child.reset();
  stdout_child.reset();
  stderr_pipe.write.reset();
  error_pipe.write.reset();

  if (const auto failure = read_child_failure(error_pipe.read)) {
    child.reap();
    const std::string message = launch.describe(*failure, name);
    logger->debug("{}", message);
    throw Error(ErrorKind::precondition, message);
  }
  error_pipe.read.reset();

  exchange(child, streams, options, start, sigpipe, *logger, name, result.timed_out);
  const int status = child.reap();
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  result.out_truncated = streams.out.truncated;
  result.err_truncated = streams.err.truncated;
  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  } else {
    result.exit_code = WEXITSTATUS(status);
  }

  if (result.out_truncated || result.err_truncated)
    logger->warn("output of {} cut to {} bytes per stream", name, options.max_output);
  std::string outcome = describe_outcome(result, name, options.timeout);
  logger->debug("{} in {} ms", outcome.empty() ? name + " exited with status 0" : outcome, result.elapsed.count());
  if (options.check && !outcome.empty()) {
    if (!result.timed_out && result.signal == 0)
      if (const auto line = last_line(result.err); !line.empty()) outcome += ": " + line;
    throw Error(ErrorKind::external, outcome);
  }
  return result;
}

}  // namespace core
