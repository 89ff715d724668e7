// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The one way the suite starts a process: an argument vector, never a shell.
// Modelled on snapper's SystemCmd and ccache's util/exec: the child gets a
// known environment (LC_ALL=C), no descriptor but 0, 1 and 2, its own process
// group (so a timeout kills its descendants too), and secrets travel on
// stdin, never on the command line or in a log.
//
// A child dies with its parent: it gets SIGKILL when the thread that started
// it ends, however it ends (a `kill -9` of xoe included; PR_SET_PDEATHSIG,
// set after the switch to RunOptions::uid, which would clear it, and checked
// against a parent that died before). That covers the child itself, not
// processes it starts in turn (a setting the kernel does not inherit): when
// run() leaves early (an exception, a timeout) it kills the child's whole
// process group, but after a `kill -9` of the caller a grandchild that
// outlives its parent is left to run. It is also lost when the child executes
// a set-user-ID program (the kernel clears it then).

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// The PATH a child gets with RunOptions::Env::clean.
inline constexpr std::string_view clean_path = "/usr/sbin:/usr/bin:/sbin:/bin";

struct RunOptions {
  enum class Env {
    clean,    // only PATH=clean_path, HOME, LC_ALL=C, LANG=C, then env_extra
    inherit,  // this process's environment with LC_ALL=C forced, then env_extra
  };
  // HOME is the caller's ($HOME, else its passwd entry); with `uid` it is
  // that user's home in both modes (root's home is no place for them).

  // Wall-clock limit for the whole run; 0 means none. When it expires the
  // child's process group gets SIGTERM, then SIGKILL after 2 s.
  std::chrono::milliseconds timeout{0};
  // Written to the child's stdin, which is then closed. Secrets go here,
  // never in argv. Without it the child's stdin is /dev/null.
  std::optional<std::string> stdin_data;
  // How stdin_data reaches the child: a pipe, or an anonymous file in memory
  // (memfd, sealed, never on disk, at offset 0) that the child can also open
  // again by name, as /dev/stdin, after the switch to `uid`. A program that
  // wants a password file is given TRYTONPASSFILE=/dev/stdin so (a pipe that
  // root made cannot be opened again by another user, and opening a pipe
  // again waits for a writer).
  enum class Stdin { pipe, memory_file };
  Stdin stdin_kind = Stdin::pipe;
  // Added to the environment last, so they override everything else
  // (LC_ALL included). Keys must be non-empty and contain no '=' or NUL.
  std::map<std::string, std::string> env_extra;
  Env env = Env::clean;
  // Working directory of the child; default: the caller's, or / for a child
  // that switches to another user (uid): the caller's folder may be one only
  // the caller can enter, and a tool started there warns (psql: "could not
  // change directory").
  std::optional<std::filesystem::path> cwd;
  // Indexes of argv shown as "***" in every log line and error message.
  std::vector<std::size_t> redact_args;
  // Throw core::Error when the child exits non-zero, is killed or times out.
  bool check = true;
  // Bytes kept per captured stream; the rest is read and discarded (so the
  // child never blocks) and RunResult::*_truncated is set.
  std::size_t max_output = std::size_t{64} << 20;
  // Credentials to drop to in the child (needs root). With uid alone the gid
  // and supplementary groups are the user's from the passwd/group databases;
  // with gid alone only the group changes; supplementary groups are replaced
  // in both cases.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Child's stdout goes straight to this file (created mode 0600 or
  // truncated) instead of memory; RunResult::out stays empty. On failure the
  // file is left as written: write to a temporary name and rename if the
  // result must be all or nothing.
  std::optional<std::filesystem::path> stdout_to;
};

struct RunResult {
  int exit_code = 0;  // exit status, or 128 + signal when killed
  int signal = 0;     // the signal that killed the child; 0 if it exited
  std::string out;    // captured stdout (empty with stdout_to)
  std::string err;    // captured stderr
  bool timed_out = false;
  bool out_truncated = false;  // more than max_output bytes were written
  bool err_truncated = false;
  std::chrono::milliseconds elapsed{0};
};

// Runs argv[0] with arguments argv[1..] and waits for it, feeding stdin and
// capturing stdout/stderr without deadlock. argv[0] without a '/' is looked up
// in the PATH of the child's environment (empty PATH entries are skipped);
// there is no shell and no fallback to /bin/sh for scripts without "#!".
// Logs the redacted command line at debug level before, and the outcome
// after.
// Throws core::Error:
//   invalid       empty argv or argv[0], a NUL byte in argv, a bad env_extra key;
//   io            stdout_to (or /dev/null) cannot be opened;
//   failed        pipe or fork failed (out of descriptors or processes);
//   precondition  the child could not be started: "cannot run CMD: No such
//                 file or directory" (command not installed, not executable,
//                 cwd missing, credentials not allowed). A missing command is
//                 a host that is not ready, hence precondition, not not_found;
//   internal      the child could not be waited for (SIGCHLD set to SIG_IGN,
//                 or reaped by someone else);
//   external      with check: "CMD exited with status N: LAST STDERR LINE",
//                 "CMD killed by signal N (NAME)", "CMD timed out after Ns".
// CMD is argv[0] ("***" if redacted). With check false the outcome is only
// reported in the result. run() returns once the child has exited and its
// stdout/stderr reached end of file: a descendant left running with those
// pipes open (not redirected) keeps it waiting until it closes them or the
// timeout kills the group. Without a timeout, descendants are left alone. Safe to call from several threads at once; the
// caller must not reap children with waitpid(-1) nor set SIGCHLD to SIG_IGN.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// The command line for display: arguments quoted the POSIX shell way when
// they need it ($'...' when they hold control characters), so a log line is
// one line and reads unambiguously; argv indexes in redact_args become "***".
std::string format_command(const std::vector<std::string>& argv,
                           const std::vector<std::size_t>& redact_args = {});

// The first executable regular file called `name` in the directories of
// `search_path` (colon-separated; empty entries skipped), or nullopt. A
// name containing '/' is returned as is when it is an executable file.
std::optional<std::filesystem::path> which(std::string_view name, std::string_view search_path);

// which() over this process's PATH (clean_path when PATH is unset). Note that
// run() with Env::clean searches clean_path: use which(name, clean_path) to
// ask whether such a run would find the command.
std::optional<std::filesystem::path> which(std::string_view name);

}  // namespace core
