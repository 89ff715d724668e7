// SPDX-License-Identifier: GPL-3.0-or-later
// core::run against real processes. /bin/sh appears here only to build
// misbehaving children; the code under test never uses a shell.
#include "core/error.hpp"
#include "core/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <iterator>
#include <thread>
#include <vector>

#include "tempdir.hpp"

namespace {

using namespace std::chrono_literals;
using core::ErrorKind;
using core::RunOptions;

using test::TempDir;

// Captures what the "core" logger writes, at debug level, for the lifetime
// of the object.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
    logger_ = spdlog::get("core");
    if (!logger_) {
      logger_ = std::make_shared<spdlog::logger>("core");
      spdlog::register_logger(logger_);
      registered_ = true;
    }
    old_level_ = logger_->level();
    logger_->sinks().push_back(sink_);
    logger_->set_level(spdlog::level::debug);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  ~LogCapture() {
    auto& sinks = logger_->sinks();
    std::erase(sinks, sink_);
    logger_->set_level(old_level_);
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
  spdlog::level::level_enum old_level_ = spdlog::level::info;
  bool registered_ = false;
};

// Runs `body`, expects a core::Error of `kind`, and returns its message.
template <typename Body>
std::string error_of(ErrorKind kind, Body body) {
  try {
    body();
  } catch (const core::Error& error) {
    EXPECT_EQ(error.kind(), kind) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "no core::Error thrown";
  return {};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Dead, or a zombie nobody reaps (PID 1 of a container may not).
bool process_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = content.rfind(')');
  return paren != std::string::npos && paren + 2 < content.size() && content[paren + 2] == 'Z';
}

// A signalled process that is not our child dies asynchronously: give it a
// moment.
bool process_gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (process_dead(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(ProcessFormat, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(core::format_command({"pg_dump", "-Fc", "--file=/srv/x.dump", "db_1"}),
            "pg_dump -Fc --file=/srv/x.dump db_1");
  EXPECT_EQ(core::format_command({"echo", "a b", "", "it's", "$(id)", ";"}),
            "echo 'a b' '' 'it'\\''s' '$(id)' ';'");
  EXPECT_EQ(core::format_command({"printf", "x\ny", "tab\there 'q'"}), "printf $'x\\ny' $'tab\\there \\'q\\''");
}

TEST(ProcessFormat, RedactsByIndex) {
  EXPECT_EQ(core::format_command({"psql", "--password", "hunter2", "db"}, {2}), "psql --password *** db");
  EXPECT_EQ(core::format_command({"tool", "a"}, {0, 7}), "*** a");
}

TEST(ProcessRun, CapturesStdoutAndStatus) {
  const auto result = core::run({"/bin/echo", "hello"});
  EXPECT_EQ(result.out, "hello\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.signal, 0);
  EXPECT_FALSE(result.timed_out);
}

TEST(ProcessRun, PassesArgumentsVerbatimWithoutShell) {
  const std::vector<std::string> args = {"a b",  "it's", "; rm -rf /", "$(id)", "`id`", "\"q\"", "*",
                                         "a|b&c", "",     "$HOME",      "\\n",   "x\ny",  "ünï"};
  std::vector<std::string> argv = {"printf", "[%s]\\n"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = core::run(argv);
  std::string expected;
  for (const auto& arg : args) expected += "[" + arg + "]\n";
  EXPECT_EQ(result.out, expected);
}

TEST(ProcessRun, StdinCarriesSecretThatNeverIsLogged) {
  LogCapture log;
  RunOptions options;
  options.stdin_data = "s3cret-Passw0rd\nsecond line";
  const auto result = core::run({"/bin/cat"}, options);
  EXPECT_EQ(result.out, "s3cret-Passw0rd\nsecond line");
  const auto text = log.text();
  EXPECT_NE(text.find("running /bin/cat"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
}

TEST(ProcessRun, EmptyStdinIsEndOfFile) {
  RunOptions options;
  options.stdin_data = "";
  EXPECT_EQ(core::run({"/bin/cat"}, options).out, "");
  // Without stdin_data the child reads /dev/null.
  EXPECT_EQ(core::run({"/bin/cat"}).out, "");
}

TEST(ProcessRun, RedactedArgumentsStayOutOfLogsAndErrors) {
  LogCapture log;
  RunOptions options;
  options.redact_args = {3};
  options.check = false;
  core::run({"/bin/sh", "-c", "echo \"$0\" >&2; exit 3", "hunter2"}, options);
  options.check = true;
  const auto message = error_of(ErrorKind::external, [&] {
    core::run({"/bin/sh", "-c", "exit 3", "hunter2"}, options);
  });
  EXPECT_EQ(message, "/bin/sh exited with status 3");
  const auto text = log.text();
  EXPECT_NE(text.find("running /bin/sh -c 'echo \"$0\" >&2; exit 3' ***"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;

  options.redact_args = {0};
  const auto hidden = error_of(ErrorKind::external, [&] { core::run({"/bin/false"}, options); });
  EXPECT_EQ(hidden, "*** exited with status 1");
}

TEST(ProcessRun, CleanEnvironment) {
  ScopedEnv parent_var("OE_TEST_PARENT_VAR", "visible");
  ScopedEnv locale("LC_ALL", "de_DE.UTF-8");
  RunOptions options;
  options.env_extra = {{"OE_EXTRA", "x y"}};
  const auto vars = lines_of(core::run({"env"}, options).out);
  const std::set<std::string> got(vars.begin(), vars.end());
  EXPECT_TRUE(got.contains("LC_ALL=C"));
  EXPECT_TRUE(got.contains("LANG=C"));
  EXPECT_TRUE(got.contains("PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
  EXPECT_TRUE(got.contains("OE_EXTRA=x y"));
  EXPECT_EQ(std::ranges::count_if(vars, [](const std::string& v) { return v.starts_with("HOME="); }), 1);
  EXPECT_EQ(vars.size(), 5U) << ::testing::PrintToString(vars);
  EXPECT_FALSE(got.contains("OE_TEST_PARENT_VAR=visible"));
}

TEST(ProcessRun, InheritedEnvironmentForcesCLocale) {
  ScopedEnv parent_var("OE_TEST_PARENT_VAR", "visible");
  ScopedEnv locale("LC_ALL", "de_DE.UTF-8");
  RunOptions options;
  options.env = RunOptions::Env::inherit;
  options.env_extra = {{"OE_EXTRA", "1"}};
  const auto vars = lines_of(core::run({"env"}, options).out);
  const std::set<std::string> got(vars.begin(), vars.end());
  EXPECT_TRUE(got.contains("OE_TEST_PARENT_VAR=visible"));
  EXPECT_TRUE(got.contains("LC_ALL=C"));
  EXPECT_FALSE(got.contains("LC_ALL=de_DE.UTF-8"));
  EXPECT_TRUE(got.contains("OE_EXTRA=1"));
}

TEST(ProcessRun, LooksUpProgramInChildPath) {
  RunOptions options;
  options.env_extra = {{"PATH", "/nonexistent-oe"}};
  const auto message = error_of(ErrorKind::precondition, [&] { core::run({"env"}, options); });
  EXPECT_EQ(message, "cannot run env: No such file or directory");
  options.env_extra = {{"PATH", ":/nonexistent-oe::/usr/bin"}};
  EXPECT_EQ(core::run({"printf", "ok"}, options).out, "ok");
}

TEST(ProcessRun, RejectsBadEnvironmentNames) {
  RunOptions options;
  options.env_extra = {{"A=B", "1"}};
  error_of(ErrorKind::invalid, [&] { core::run({"/bin/true"}, options); });
  options.env_extra = {{"", "1"}};
  error_of(ErrorKind::invalid, [&] { core::run({"/bin/true"}, options); });
}

TEST(ProcessRun, ChildGetsOnlyStandardDescriptors) {
  const int plain = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(plain, 0);
  const int high = ::fcntl(plain, F_DUPFD, 100);  // F_DUPFD: no close-on-exec either
  ASSERT_GE(high, 100);
  ASSERT_EQ(::fcntl(high, F_GETFD) & FD_CLOEXEC, 0);
  const auto entries = lines_of(core::run({"/bin/ls", "/proc/self/fd"}).out);
  ::close(high);
  ::close(plain);
  std::set<int> fds;
  for (const auto& entry : entries) fds.insert(std::stoi(entry));
  // 0, 1, 2, and the descriptor ls itself opened to read the directory.
  EXPECT_TRUE(fds.contains(0) && fds.contains(1) && fds.contains(2));
  EXPECT_LE(fds.size(), 4U) << ::testing::PrintToString(entries);
  EXPECT_FALSE(fds.contains(high));
  EXPECT_FALSE(fds.contains(plain) && plain > 3);
}

TEST(ProcessRun, TimeoutTerminatesChild) {
  RunOptions options;
  options.timeout = 200ms;
  options.check = false;
  const auto result = core::run({"/bin/sleep", "10"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_EQ(result.exit_code, 128 + SIGTERM);
  EXPECT_GE(result.elapsed, 200ms);
  EXPECT_LT(result.elapsed, 2000ms);

  options.check = true;
  const auto message = error_of(ErrorKind::external, [&] { core::run({"/bin/sleep", "10"}, options); });
  EXPECT_EQ(message, "/bin/sleep timed out after 0.2s");
}

TEST(ProcessRun, TimeoutKillsTheWholeProcessGroup) {
  RunOptions options;
  options.timeout = 300ms;
  options.check = false;
  // The grandchild keeps stdout open: run() returns only once it is gone.
  const auto result = core::run({"/bin/sh", "-c", "sleep 30 & echo $!; wait"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_LT(result.elapsed, 2000ms);
  const pid_t grandchild = std::stoi(result.out);
  EXPECT_TRUE(process_gone(grandchild));
}

TEST(ProcessRun, TimeoutEscalatesToSigkill) {
  RunOptions options;
  options.timeout = 200ms;
  options.check = false;
  // The shell and its background sleep ignore SIGTERM; only SIGKILL helps.
  const auto result =
      core::run({"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; while :; do sleep 0.05; done"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_GE(result.elapsed, 2000ms);
  EXPECT_LT(result.elapsed, 6000ms);
  EXPECT_TRUE(process_gone(std::stoi(result.out)));
}

TEST(ProcessRun, NonZeroExitWithCheck) {
  const auto message = error_of(ErrorKind::external, [] {
    core::run({"/bin/sh", "-c", "echo first >&2; echo '  the real error  ' >&2; echo >&2; exit 3"});
  });
  EXPECT_EQ(message, "/bin/sh exited with status 3: the real error");

  const auto long_line = error_of(ErrorKind::external, [] {
    core::run({"/bin/sh", "-c", "printf '%0500d\\n' 0 >&2; printf 'bell\\a' >&2; exit 1"});
  });
  EXPECT_EQ(long_line, "/bin/sh exited with status 1: bell\\x07");
  const auto truncated = error_of(ErrorKind::external, [] {
    core::run({"/bin/sh", "-c", "printf '%0500d\\n' 0 >&2; exit 1"});
  });
  EXPECT_LT(truncated.size(), 260U);
  EXPECT_TRUE(truncated.ends_with("...")) << truncated;
}

TEST(ProcessRun, NonZeroExitWithoutCheck) {
  RunOptions options;
  options.check = false;
  const auto result = core::run({"/bin/sh", "-c", "echo out; echo err >&2; exit 42"}, options);
  EXPECT_EQ(result.exit_code, 42);
  EXPECT_EQ(result.signal, 0);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(ProcessRun, KilledBySignal) {
  RunOptions options;
  options.check = false;
  const auto result = core::run({"/bin/sh", "-c", "kill -KILL $$"}, options);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  const auto message = error_of(ErrorKind::external, [] { core::run({"/bin/sh", "-c", "kill -KILL $$"}); });
  EXPECT_EQ(message, "/bin/sh killed by signal 9 (SIGKILL)");
}

TEST(ProcessRun, CommandNotFound) {
  EXPECT_EQ(error_of(ErrorKind::precondition, [] { core::run({"oe-no-such-command"}); }),
            "cannot run oe-no-such-command: No such file or directory");
  EXPECT_EQ(error_of(ErrorKind::precondition, [] { core::run({"/nonexistent/oe-tool", "x"}); }),
            "cannot run /nonexistent/oe-tool: No such file or directory");
}

TEST(ProcessRun, NotExecutableAndNoShellFallback) {
  TempDir dir;
  const auto script = dir.path() / "script";
  std::ofstream(script) << "echo from a shell\n";  // no "#!": execvp would hand it to /bin/sh
  std::filesystem::permissions(script, std::filesystem::perms::owner_read);
  if (::geteuid() != 0) {
    EXPECT_EQ(error_of(ErrorKind::precondition, [&] { core::run({script.native()}); }),
              fmt::format("cannot run {}: Permission denied", script.native()));
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  EXPECT_EQ(error_of(ErrorKind::precondition, [&] { core::run({script.native()}); }),
            fmt::format("cannot run {}: Exec format error", script.native()));
}

TEST(ProcessRun, RejectsBadArgv) {
  error_of(ErrorKind::invalid, [] { core::run({}); });
  error_of(ErrorKind::invalid, [] { core::run({""}); });
  error_of(ErrorKind::invalid, [] { core::run({"/bin/echo", std::string("a\0b", 3)}); });
}

TEST(ProcessRun, BigOutputOnBothStreams) {
  RunOptions options;
  options.timeout = 60s;  // a deadlock fails the test instead of hanging it
  const auto result = core::run(
      {"/bin/sh", "-c", "head -c 10000000 /dev/zero >&2 & head -c 10000000 /dev/zero; wait; "
                        "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2"},
      options);
  EXPECT_EQ(result.out.size(), 13'000'000U);
  EXPECT_EQ(result.err.size(), 13'000'000U);
  EXPECT_FALSE(result.out_truncated);
  EXPECT_FALSE(result.err_truncated);
}

TEST(ProcessRun, BigStdinWhileReadingOutput) {
  RunOptions options;
  options.timeout = 60s;
  options.stdin_data = std::string(10'000'000, 'x');
  const auto result = core::run({"/bin/cat"}, options);
  EXPECT_EQ(result.out, *options.stdin_data);
}

TEST(ProcessRun, ChildClosingStdinEarlyDoesNotKillUs) {
  RunOptions options;
  options.stdin_data = std::string(10'000'000, 'x');
  EXPECT_EQ(core::run({"/bin/true"}, options).exit_code, 0);
  EXPECT_EQ(core::run({"head", "-c", "5"}, options).out, "xxxxx");
  sigset_t pending;
  ::sigpending(&pending);
  EXPECT_EQ(::sigismember(&pending, SIGPIPE), 0);
}

TEST(ProcessRun, CapsCapturedOutput) {
  RunOptions options;
  options.max_output = 1000;
  const auto result = core::run({"/bin/sh", "-c", "head -c 100000 /dev/zero; echo small >&2"}, options);
  EXPECT_EQ(result.out.size(), 1000U);
  EXPECT_TRUE(result.out_truncated);
  EXPECT_EQ(result.err, "small\n");
  EXPECT_FALSE(result.err_truncated);
  EXPECT_EQ(result.exit_code, 0);
}

TEST(ProcessRun, StdoutToFile) {
  TempDir dir;
  const auto file = dir.path() / "dump";
  RunOptions options;
  options.stdout_to = file;
  const auto result = core::run({"/bin/sh", "-c", "head -c 5000000 /dev/zero; echo done >&2"}, options);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "done\n");
  EXPECT_EQ(std::filesystem::file_size(file), 5'000'000U);
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);

  // An existing file is truncated.
  core::run({"/bin/echo", "short"}, options);
  EXPECT_EQ(std::filesystem::file_size(file), 6U);

  options.stdout_to = dir.path() / "missing" / "dump";
  error_of(ErrorKind::io, [&] { core::run({"/bin/echo"}, options); });
}

TEST(ProcessRun, WorkingDirectory) {
  TempDir dir;
  RunOptions options;
  options.cwd = dir.path();
  EXPECT_EQ(core::run({"/bin/pwd"}, options).out, std::filesystem::canonical(dir.path()).native() + "\n");
  options.cwd = dir.path() / "missing";
  const auto message = error_of(ErrorKind::precondition, [&] { core::run({"/bin/pwd"}, options); });
  EXPECT_TRUE(message.starts_with("cannot run /bin/pwd: cannot change directory to ")) << message;
  EXPECT_TRUE(message.ends_with(": No such file or directory")) << message;
}

TEST(ProcessRun, DropsCredentials) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  RunOptions options;
  options.uid = 65534;  // nobody
  EXPECT_EQ(core::run({"id", "-u"}, options).out, "65534\n");
  const auto groups = core::run({"id", "-G"}, options).out;
  EXPECT_EQ(groups.find("0 "), std::string::npos) << groups;
  EXPECT_NE(groups, "0\n");
  const auto home = lines_of(core::run({"env"}, options).out);
  EXPECT_TRUE(std::ranges::find(home, "HOME=/nonexistent") != home.end());

  options.gid = 65534;
  EXPECT_EQ(core::run({"id", "-g"}, options).out, "65534\n");
  options.uid = 54321;  // no passwd entry: needs the gid given
  EXPECT_EQ(core::run({"id", "-u"}, options).out, "54321\n");
  options.gid.reset();
  error_of(ErrorKind::invalid, [&] { core::run({"id"}, options); });
}

// A child that switches users starts in /, not in the caller's folder,
// which may be one only root can enter (a build folder in root's home: psql
// then warned "could not change directory" into output a caller parsed).
TEST(ProcessRun, AChildOfAnotherUserStartsInTheRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0700);
  const auto before = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  RunOptions options;
  options.uid = 65534;  // nobody
  const auto out = core::run({"/bin/pwd"}, options).out;
  options.cwd = "/tmp";
  const auto given = core::run({"/bin/pwd"}, options).out;
  RunOptions as_root;
  const auto own = core::run({"/bin/pwd"}, as_root).out;
  std::filesystem::current_path(before);
  EXPECT_EQ(out, "/\n");
  EXPECT_EQ(given, "/tmp\n");
  EXPECT_EQ(own, std::filesystem::canonical(dir.path()).native() + "\n");
}

TEST(ProcessRun, StdinAsMemoryFileCanBeOpenedAgainByAnotherUser) {
  RunOptions options;
  options.stdin_data = "secret\n";
  options.stdin_kind = RunOptions::Stdin::memory_file;
  // Read twice by name, as a program given TRYTONPASSFILE=/dev/stdin does.
  const std::vector<std::string> twice = {"/bin/sh", "-c", "cat /dev/stdin; cat /dev/stdin"};
  EXPECT_EQ(core::run(twice, options).out, "secret\nsecret\n");
  if (::geteuid() != 0) GTEST_SKIP() << "the rest needs root";
  options.uid = 65534;  // nobody
  // Even after a long start-up (the parent wrote everything long before).
  const std::vector<std::string> later = {"/bin/sh", "-c", "sleep 0.2; cat /dev/stdin; cat /dev/stdin"};
  EXPECT_EQ(core::run(later, options).out, "secret\nsecret\n");
  // A pipe cannot: root made it.
  options.stdin_kind = RunOptions::Stdin::pipe;
  options.check = false;
  const auto piped = core::run({"/bin/sh", "-c", "cat /dev/stdin"}, options);
  EXPECT_NE(piped.exit_code, 0);
  EXPECT_NE(piped.err.find("Permission denied"), std::string::npos) << piped.err;
}

// The state letter of /proc/PID/stat ('Z' for a zombie), or 0 when gone.
char process_state(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '\0' : text[paren + 2];
}

// A process that runs `sleep 60` through core::run (as `uid` when given),
// killed with SIGKILL once the sleep runs: the sleep must die with it.
void child_dies_with_killed_parent(std::optional<uid_t> uid) {
  TempDir dir;
  const auto pid_file = dir.path() / "pid";
  if (uid) ::chmod(dir.path().c_str(), 0777);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    try {
      RunOptions options;
      options.uid = uid;
      core::run({"/bin/sh", "-c", "echo $$ > " + pid_file.native() + "; exec sleep 60"}, options);
    } catch (...) {
    }
    ::_exit(0);
  }
  pid_t sleeper = 0;
  for (int i = 0; i < 500 && sleeper == 0; ++i) {
    std::ifstream in(pid_file);
    if (!(in >> sleeper)) sleeper = 0;
    if (sleeper == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(sleeper, 0) << "the child did not start";
  for (int i = 0; i < 200 && test::read_file(fmt::format("/proc/{}/comm", sleeper)) != "sleep\n"; ++i)
    std::this_thread::sleep_for(10ms);
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  char state = 'R';
  for (int i = 0; i < 200; ++i) {
    state = process_state(sleeper);
    if (state == '\0' || state == 'Z' || state == 'X') break;
    std::this_thread::sleep_for(10ms);
  }
  if (state != '\0' && state != 'Z' && state != 'X') ::kill(sleeper, SIGKILL);
  EXPECT_TRUE(state == '\0' || state == 'Z' || state == 'X') << "the child outlived its parent: state " << state;
}

TEST(ProcessRun, ChildDiesWithItsKilledParent) { child_dies_with_killed_parent(std::nullopt); }

TEST(ProcessRun, ChildRunAsAnotherUserDiesWithItsKilledParent) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  child_dies_with_killed_parent(65534);  // the switch of credentials clears PDEATHSIG: set after it
}

void ignore_alarm(int) {}

TEST(ProcessRun, SurvivesInterruptingSignals) {
  struct sigaction action {};
  action.sa_handler = ignore_alarm;  // no SA_RESTART: calls fail with EINTR
  struct sigaction old_action {};
  ASSERT_EQ(::sigaction(SIGALRM, &action, &old_action), 0);
  itimerval every_5ms{{0, 5000}, {0, 5000}};
  ::setitimer(ITIMER_REAL, &every_5ms, nullptr);
  RunOptions options;
  options.stdin_data = std::string(2'000'000, 'y');
  const auto result = core::run({"/bin/sh", "-c", "sleep 0.3; cat"}, options);
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old_action, nullptr);
  EXPECT_EQ(result.out.size(), 2'000'000U);
}

TEST(ProcessRun, ManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 20; ++i) {
        const auto word = fmt::format("thread{}-run{}", t, i);
        RunOptions options;
        options.stdin_data = word;
        try {
          if (core::run({"/bin/cat"}, options).out != word) ++failures;
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ProcessWhich, SearchesPath) {
  const auto sh = core::which("sh", core::clean_path);
  ASSERT_TRUE(sh.has_value());
  EXPECT_TRUE(*sh == "/usr/sbin/sh" || *sh == "/usr/bin/sh" || *sh == "/bin/sh") << *sh;
  EXPECT_TRUE(core::which("sh").has_value());
  EXPECT_FALSE(core::which("oe-no-such-command", core::clean_path).has_value());
  EXPECT_FALSE(core::which("", core::clean_path).has_value());
  EXPECT_EQ(core::which("/bin/sh"), std::filesystem::path("/bin/sh"));
  EXPECT_FALSE(core::which("/etc/passwd").has_value());  // not executable
  EXPECT_FALSE(core::which("bin", "/usr").has_value());  // a directory
}

}  // namespace
