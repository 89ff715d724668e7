// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// goe's tasks: every long action of the panel (start, stop, restart, backup,
// verify) is a task with an ID, the user who asked, its target (a service),
// start and end, status and error, kept as history in goe.db (the audit
// trail of the Tasks page, docs/goe.md), each with its log of steps. One
// running task per target. A
// task records the process that runs it (pid and its start time, from
// /proc): a running task whose process is gone is failed when it is next
// read, never left running forever.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace goe {

struct Task {
  std::int64_t id = 0;
  std::string kind;    // start, stop, restart, backup, verify
  std::string target;  // the service
  std::string user;
  std::string started;  // UTC, ISO 8601
  std::optional<std::string> ended;
  std::string status;  // running, done, failed
  std::string error;   // when failed: one line
  std::string detail;  // when done: what it made (an archive's name, a state)
};

// A process as a task records it: its pid and its start time (field 22 of
// /proc/PID/stat), so that a pid reused by another process is not taken
// for the task's.
struct TaskOwner {
  pid_t pid = 0;
  std::int64_t start_time = 0;
};
// This process.
TaskOwner this_process();
// Whether `owner` still runs (its pid exists with the same start time).
bool alive(const TaskOwner& owner);

class Tasks {
 public:
  explicit Tasks(std::filesystem::path database, TaskOwner owner = this_process());
  // A new running task of `owner`. Throws invalid (a kind or target that is
  // not a word), conflict (the target has a running task: "SERVICE is busy
  // with task N (KIND)").
  std::int64_t open(const std::string& kind, const std::string& target, const std::string& user);
  // Ends a running task: done with `detail`, or failed with `error`.
  void finish(std::int64_t id, bool ok, const std::string& text);
  // Adds a line to the log of a running task (a step, what it uses or
  // overwrites; never a secret). Ignored for a task that ended.
  void note(std::int64_t id, const std::string& line);
  // The task's log, oldest first: "TIME LINE".
  std::vector<std::string> log(std::int64_t id);
  // Fails every running task whose process is gone; returns how many.
  int reap();
  // The task (after reap), or nullopt.
  std::optional<Task> get(std::int64_t id);
  // The newest first, of one target or of all (after reap), at most `limit`.
  std::vector<Task> list(const std::optional<std::string>& target, std::size_t limit = 200);
  // The newest ended task of `kind` on `target`.
  std::optional<Task> last(const std::string& kind, const std::string& target);

 private:
  std::filesystem::path path_;
  TaskOwner owner_;
};

}  // namespace goe
