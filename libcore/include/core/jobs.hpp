// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A journal of multi-step operations ("jobs") in SQLite, so that an operation
// interrupted by an error or a crash can be resumed where it stopped or rolled
// back with its compensations.
//
// A job is a kind ("service.create"), a key naming the resource it works on
// ("service:acme") and an ordered list of named steps. Each step has an action
// and, optionally, a compensation (undo). The journal records the job and the
// status of every step in the tables `job` and `job_step` (schema tier
// "core.jobs", see sqlite::migrate); each update is its own BEGIN IMMEDIATE
// transaction, so several processes can share the journal.
//
// Contracts for step authors:
//   - An action is idempotent: a crash between its end and the journal entry
//     that records it done makes the next run execute it again.
//   - An action that throws cleans up after itself; its undo is not called.
//   - An undo is idempotent and tolerates an action that ran partly or not at
//     all: rollback also undoes a step that a crash interrupted.
//   - Exclusive access to the resource is the caller's business: hold a
//     core::FileLock on the key while running or rolling back its job. The
//     runner treats a "running" job of the same kind and key as one whose
//     process died.
//
// Crash testing: when the environment variable OE_CRASH_AT is
// "KIND:STEP" the process kills itself with SIGKILL right before the action of
// step STEP of a job of kind KIND runs (after the journal recorded that the
// step started); with "KIND:STEP:after" right after the action returned,
// before the journal records it done. The variable is read at the start of
// each run(). Never set it outside tests.

#include "core/error.hpp"
#include "core/sqlite.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// Thrown by a step whose action failed half-way and whose own clean-up failed
// too (see run_or_undo in xoe): what it left may hold the only copy of some
// data, so the runner records the job failed and undoes nothing, even with
// JobPolicy::rollback_on_failure; the next run resumes at that step. The
// message says what is where.
class StepHalfDone : public Error {
 public:
  using Error::Error;
};

struct JobStep {
  std::string name;                // unique within the job, non-empty; identifies the step on resume
  std::function<void()> run;       // the action; required
  std::function<void()> undo;      // its compensation; may be empty (nothing to undo)
};

// A job definition: the same kind and key always carry the same step names
// for a given program version.
struct Job {
  std::string kind;  // what is done, e.g. "service.create"
  std::string key;   // what it is done to, e.g. "service:acme"
  std::vector<JobStep> steps;
};

// How run() treats an unfinished job and a failing step; combine with '|'.
enum class JobPolicy : unsigned {
  none = 0,
  // Continue an unfinished job of the same kind and key instead of refusing.
  resume = 1U << 0U,
  // When a step fails, undo the done steps in reverse order and mark the job
  // rolled back; without it the job stays failed, to be resumed at that step.
  rollback_on_failure = 1U << 1U,
};

constexpr JobPolicy operator|(JobPolicy a, JobPolicy b) noexcept {
  return static_cast<JobPolicy>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
// True when `set` contains `flag`.
constexpr bool has(JobPolicy set, JobPolicy flag) noexcept {
  return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0U;
}

enum class JobStatus {
  running,      // in progress, or its process died
  done,
  failed,       // a step (or its rollback) failed; unfinished, can be resumed or rolled back
  rolled_back,  // a step failed and every done step was undone
};

enum class StepStatus {
  pending,  // not run yet, or interrupted by a crash (then `started` is set)
  done,
  undone,   // done, then compensated by a rollback
  failed,   // the action threw
};

// The same crash test for work that is not a job (its own partial files
// and renames make it safe): kills this process when OE_CRASH_AT is
// "KIND:STEP" (after = false) or "KIND:STEP:after" (after = true).
void crash_point(std::string_view kind, std::string_view step, bool after = false);

std::string_view to_string(JobStatus status) noexcept;
std::string_view to_string(StepStatus status) noexcept;

using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

struct StepRecord {
  std::size_t index = 0;
  std::string name;
  StepStatus status = StepStatus::pending;
  std::optional<Timestamp> started;   // last start of the action or of its undo
  std::optional<Timestamp> finished;  // when it last became done, undone or failed
  std::string error;                  // empty when none
};

struct JobRecord {
  std::int64_t id = 0;
  std::string kind;
  std::string key;
  JobStatus status = JobStatus::running;
  Timestamp created;
  Timestamp updated;
  std::string error;  // empty when none
  std::vector<StepRecord> steps;

  // Running or failed: a later run resumes it, rollback() compensates it.
  [[nodiscard]] bool unfinished() const noexcept {
    return status == JobStatus::running || status == JobStatus::failed;
  }
};

// What run() or rollback() did. Failures are thrown, never returned.
struct JobResult {
  std::int64_t id = 0;
  JobStatus status = JobStatus::done;
  bool resumed = false;           // an unfinished job was continued
  std::size_t steps_run = 0;      // actions executed by this call
  std::size_t steps_skipped = 0;  // done in an earlier run
  std::size_t steps_undone = 0;   // compensated by this call
};

enum class JobFilter { all, unfinished };

// Every call makes its own short transactions on the database: do not call
// it while a sqlite::Transaction of the caller is open on the same connection.
class JobRunner {
 public:
  // Uses `db` (opened read-write; it must outlive the runner) and brings the
  // "core.jobs" schema up to date.
  explicit JobRunner(sqlite::Database& db);

  // Runs `job`'s steps in order, recording each in the journal.
  // If an unfinished job of the same kind and key exists whose rollback
  // stopped at an undo that threw (some steps undone), that rollback is
  // finished first (as rollback() does; its failure is thrown) and the job
  // then starts anew. Otherwise, if an unfinished job exists, it is resumed when
  // `policy` has JobPolicy::resume (steps recorded done are skipped, the others
  // run from the first not done) and refused with ErrorKind::conflict
  // otherwise; its step names must equal the definition's (ErrorKind::conflict).
  // When a step throws, the error is recorded on the step and the job, then:
  // with JobPolicy::rollback_on_failure the undo of every done step runs in
  // reverse order and the job ends rolled_back; without it, or when the step
  // threw StepHalfDone, the job stays failed. Either way the step's exception is rethrown unchanged (a failing
  // undo is logged and recorded, and leaves the job failed). A bad definition
  // (empty kind/key, unnamed, duplicate or action-less step) is
  // ErrorKind::internal. Journal errors are thrown as sqlite reports them.
  JobResult run(const Job& job, JobPolicy policy);

  // Rolls back the unfinished job of `job`'s kind and key with the
  // definition's compensations: undoes, in reverse order, the steps recorded
  // done and a step a crash interrupted, then marks the job rolled_back.
  // ErrorKind::not_found when there is no unfinished job, ErrorKind::conflict
  // when its step names differ from the definition. A throwing undo stops the
  // rollback, is recorded (the job stays failed; rollback() can be called
  // again) and is rethrown.
  JobResult rollback(const Job& job);

  // Journal records for display, newest first, with their steps.
  [[nodiscard]] std::vector<JobRecord> list(JobFilter filter = JobFilter::all) const;
  // The newest job of `kind` and `key` (the unfinished one, if any).
  [[nodiscard]] std::optional<JobRecord> find(std::string_view kind, std::string_view key) const;

 private:
  sqlite::Database& db_;
};

}  // namespace core
