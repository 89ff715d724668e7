// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/jobs.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <set>
#include <utility>

namespace core {
namespace {

using sqlite::Database;
using sqlite::Statement;
using sqlite::Transaction;

std::shared_ptr<spdlog::logger> core_log() { return logger("core"); }

// Schema of tier "core.jobs". Append only.
constexpr std::array<std::string_view, 1> schema_steps = {
    R"sql(
CREATE TABLE job (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'rolled_back')),
  created INTEGER NOT NULL,  -- milliseconds since the Unix epoch
  updated INTEGER NOT NULL,
  error TEXT
);
-- At most one unfinished job per kind and key.
CREATE UNIQUE INDEX job_unfinished ON job (kind, key) WHERE status IN ('running', 'failed');
CREATE INDEX job_by_kind_key ON job (kind, key, id);
CREATE TABLE job_step (
  job_id INTEGER NOT NULL REFERENCES job (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'undone', 'failed')),
  started INTEGER,
  finished INTEGER,
  error TEXT,
  PRIMARY KEY (job_id, idx)
);
)sql",
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Timestamp to_timestamp(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

JobStatus parse_job_status(std::string_view text) {
  if (text == "running") return JobStatus::running;
  if (text == "done") return JobStatus::done;
  if (text == "failed") return JobStatus::failed;
  if (text == "rolled_back") return JobStatus::rolled_back;
  fail(ErrorKind::internal, "job journal: unknown job status \"{}\"", text);
}

StepStatus parse_step_status(std::string_view text) {
  if (text == "pending") return StepStatus::pending;
  if (text == "done") return StepStatus::done;
  if (text == "undone") return StepStatus::undone;
  if (text == "failed") return StepStatus::failed;
  fail(ErrorKind::internal, "job journal: unknown step status \"{}\"", text);
}

std::string describe(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

bool half_done(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const StepHalfDone&) {
    return true;
  } catch (...) {
    return false;
  }
}

void validate(const Job& job) {
  if (job.kind.empty() || job.key.empty()) {
    fail(ErrorKind::internal, "job definition without kind or key (kind \"{}\", key \"{}\")", job.kind,
         job.key);
  }
  std::set<std::string_view> names;
  for (const auto& step : job.steps) {
    if (step.name.empty()) fail(ErrorKind::internal, "job {}: a step has no name", job.kind);
    if (!names.insert(step.name).second) {
      fail(ErrorKind::internal, "job {}: step name {} used twice", job.kind, step.name);
    }
    if (!step.run) fail(ErrorKind::internal, "job {}: step {} has no action", job.kind, step.name);
  }
}

// --- OE_CRASH_AT ------------------------------------------------------------

struct CrashPoint {
  std::string step;
  bool after = false;
};

std::optional<CrashPoint> crash_point_for(std::string_view kind) {
  const char* value = std::getenv("OE_CRASH_AT");  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  std::string_view text = value;
  bool after = false;
  if (text.ends_with(":after")) {
    after = true;
    text.remove_suffix(std::string_view(":after").size());
  }
  if (!text.starts_with(kind) || text.size() <= kind.size() + 1 || text[kind.size()] != ':') {
    return std::nullopt;
  }
  return CrashPoint{std::string(text.substr(kind.size() + 1)), after};
}

void crash_if(const std::optional<CrashPoint>& crash, const Job& job, const JobStep& step,
              bool after) {
  if (!crash || crash->after != after || crash->step != step.name) return;
  core_log()->warn("OE_CRASH_AT: killing this process {} step {} of job {} {}",
                   after ? "after" : "before", step.name, job.kind, job.key);
  core_log()->flush();
  ::kill(::getpid(), SIGKILL);
  std::_Exit(128 + SIGKILL);  // not reached
}

// --- journal ----------------------------------------------------------------

struct Unfinished {
  std::int64_t id = 0;
  JobStatus status = JobStatus::running;
};

std::optional<Unfinished> find_unfinished(Database& db, std::string_view kind, std::string_view key) {
  auto statement = db.query(
      "SELECT id, status FROM job WHERE kind = ?1 AND key = ?2 AND status IN ('running', 'failed')",
      kind, key);
  if (!statement.step()) return std::nullopt;
  return Unfinished{statement.column_int64(0), parse_job_status(statement.column_text(1))};
}

constexpr std::string_view job_columns = "id, kind, key, status, created, updated, error";

JobRecord read_job(const Statement& row) {
  JobRecord record;
  record.id = row.column_int64(0);
  record.kind = row.column_text(1);
  record.key = row.column_text(2);
  record.status = parse_job_status(row.column_text(3));
  record.created = to_timestamp(row.column_int64(4));
  record.updated = to_timestamp(row.column_int64(5));
  record.error = row.column_text(6);
  return record;
}

Statement prepare_steps_query(Database& db) {
  return db.prepare(
      "SELECT idx, name, status, started, finished, error FROM job_step WHERE job_id = ?1 "
      "ORDER BY idx");
}

std::vector<StepRecord> read_steps(Statement& query, std::int64_t job_id) {
  query.reset();
  query.bind_all(job_id);
  std::vector<StepRecord> steps;
  while (query.step()) {
    StepRecord step;
    step.index = static_cast<std::size_t>(query.column_int64(0));
    step.name = query.column_text(1);
    step.status = parse_step_status(query.column_text(2));
    if (auto started = query.column_optional_int64(3)) step.started = to_timestamp(*started);
    if (auto finished = query.column_optional_int64(4)) step.finished = to_timestamp(*finished);
    step.error = query.column_text(5);
    steps.push_back(std::move(step));
  }
  return steps;
}

std::vector<StepRecord> load_steps(Database& db, std::int64_t job_id) {
  auto query = prepare_steps_query(db);
  return read_steps(query, job_id);
}

std::string joined_names(const std::vector<std::string_view>& names) {
  std::string text;
  for (auto name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

void check_same_steps(const Job& job, std::int64_t id, const std::vector<StepRecord>& recorded) {
  std::vector<std::string_view> theirs;
  std::vector<std::string_view> ours;
  for (const auto& step : recorded) theirs.push_back(step.name);
  for (const auto& step : job.steps) ours.push_back(step.name);
  if (theirs != ours) {
    fail(ErrorKind::conflict,
         "job {} {}: the unfinished job #{} has the steps ({}), this program defines ({}); finish or "
         "roll it back with the program version that started it",
         job.kind, job.key, id, joined_names(theirs), joined_names(ours));
  }
}

// Journal updates: each runs inside the caller's transaction.

void touch_job(Database& db, std::int64_t id, std::int64_t now) {
  db.execute("UPDATE job SET updated = ?2 WHERE id = ?1", id, now);
}

void set_step_started(Database& db, std::int64_t id, std::size_t index) {
  auto now = now_ms();
  db.execute(
      "UPDATE job_step SET status = 'pending', started = ?3, finished = NULL, error = NULL "
      "WHERE job_id = ?1 AND idx = ?2",
      id, index, now);
  touch_job(db, id, now);
}

void set_undo_started(Database& db, std::int64_t id, std::size_t index) {
  auto now = now_ms();
  db.execute("UPDATE job_step SET started = ?3 WHERE job_id = ?1 AND idx = ?2", id, index, now);
  touch_job(db, id, now);
}

void set_step_finished(Database& db, std::int64_t id, std::size_t index, StepStatus status,
                       const std::optional<std::string>& error) {
  auto now = now_ms();
  db.execute(
      "UPDATE job_step SET status = ?3, finished = ?4, error = ?5 WHERE job_id = ?1 AND idx = ?2",
      id, index, to_string(status), now, error);
  touch_job(db, id, now);
}

void set_step_error(Database& db, std::int64_t id, std::size_t index, const std::string& error) {
  db.execute("UPDATE job_step SET error = ?3 WHERE job_id = ?1 AND idx = ?2", id, index, error);
  touch_job(db, id, now_ms());
}

void set_job(Database& db, std::int64_t id, JobStatus status) {
  db.execute("UPDATE job SET status = ?2, updated = ?3 WHERE id = ?1", id, to_string(status),
             now_ms());
}

void set_job(Database& db, std::int64_t id, JobStatus status, const std::string& error) {
  db.execute("UPDATE job SET status = ?2, updated = ?3, error = ?4 WHERE id = ?1", id,
             to_string(status), now_ms(), error);
}

// Runs `update` in a BEGIN IMMEDIATE transaction: journal writers in several
// processes serialise here.
template <typename Update>
void journal(Database& db, Update&& update) {
  Transaction transaction(db);
  std::forward<Update>(update)();
  transaction.commit();
}

// Runs the undo of `order`'s steps one after the other, recording each.
// Stops at the first undo that throws.
struct UndoOutcome {
  std::size_t undone = 0;
  std::optional<std::size_t> failed_step;
  std::exception_ptr failure;
};

UndoOutcome undo_steps(Database& db, const Job& job, std::int64_t id,
                       const std::vector<std::size_t>& order) {
  UndoOutcome outcome;
  for (std::size_t index : order) {
    const JobStep& step = job.steps[index];
    journal(db, [&] { set_undo_started(db, id, index); });
    if (step.undo) {
      core_log()->info("job {} {} #{}: undoing step {}", job.kind, job.key, id, step.name);
      try {
        step.undo();
      } catch (...) {
        outcome.failure = std::current_exception();
      }
    }
    if (outcome.failure) {
      outcome.failed_step = index;
      std::string message = describe(outcome.failure);
      core_log()->error("job {} {} #{}: undoing step {} failed: {}", job.kind, job.key, id, step.name,
                        message);
      journal(db, [&] { set_step_error(db, id, index, "undo failed: " + message); });
      return outcome;
    }
    journal(db, [&] { set_step_finished(db, id, index, StepStatus::undone, std::nullopt); });
    ++outcome.undone;
  }
  return outcome;
}

}  // namespace

std::string_view to_string(JobStatus status) noexcept {
  switch (status) {
    case JobStatus::running: return "running";
    case JobStatus::done: return "done";
    case JobStatus::failed: return "failed";
    case JobStatus::rolled_back: return "rolled_back";
  }
  return "running";
}

std::string_view to_string(StepStatus status) noexcept {
  switch (status) {
    case StepStatus::pending: return "pending";
    case StepStatus::done: return "done";
    case StepStatus::undone: return "undone";
    case StepStatus::failed: return "failed";
  }
  return "pending";
}

JobRunner::JobRunner(sqlite::Database& db) : db_(db) {
  sqlite::migrate(db_, "core.jobs", schema_steps);
}

JobResult JobRunner::run(const Job& job, JobPolicy policy) {
  validate(job);
  const auto crash = crash_point_for(job.kind);

  // An earlier rollback that stopped at an undo which threw is finished
  // first, then the job starts anew: resuming forward would take its
  // half-undone steps for done ones (a prepared copy partly removed).
  if (has(policy, JobPolicy::resume)) {
    if (auto existing = find_unfinished(db_, job.kind, job.key)) {
      auto recorded = load_steps(db_, existing->id);
      if (std::any_of(recorded.begin(), recorded.end(),
                      [](const StepRecord& r) {
                        return r.status == StepStatus::undone || r.error.starts_with("undo failed: ");
                      })) {
        core_log()->info("job {} {} #{}: finishing the rollback an earlier run began", job.kind, job.key,
                         existing->id);
        (void)rollback(job);
      }
    }
  }

  JobResult result;
  std::vector<StepStatus> status(job.steps.size(), StepStatus::pending);
  {
    Transaction transaction(db_);
    auto now = now_ms();
    if (auto existing = find_unfinished(db_, job.kind, job.key)) {
      if (!has(policy, JobPolicy::resume)) {
        fail(ErrorKind::conflict,
             "job {} {}: job #{} of an earlier run is unfinished ({}); resume or roll it back",
             job.kind, job.key, existing->id, to_string(existing->status));
      }
      auto recorded = load_steps(db_, existing->id);
      check_same_steps(job, existing->id, recorded);
      for (std::size_t i = 0; i < recorded.size(); ++i) status[i] = recorded[i].status;
      db_.execute("UPDATE job SET status = 'running', updated = ?2, error = NULL WHERE id = ?1",
                  existing->id, now);
      result.id = existing->id;
      result.resumed = true;
    } else {
      db_.execute(
          "INSERT INTO job (kind, key, status, created, updated) VALUES (?1, ?2, 'running', ?3, ?3)",
          job.kind, job.key, now);
      result.id = db_.last_insert_rowid();
      auto insert = db_.prepare(
          "INSERT INTO job_step (job_id, idx, name, status) VALUES (?1, ?2, ?3, 'pending')");
      for (std::size_t i = 0; i < job.steps.size(); ++i) {
        insert.reset();
        insert.bind_all(result.id, i, job.steps[i].name);
        while (insert.step()) {
        }
      }
    }
    transaction.commit();
  }
  const std::int64_t id = result.id;
  core_log()->info("job {} {} #{}: {}", job.kind, job.key, id, result.resumed ? "resuming" : "starting");

  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const JobStep& step = job.steps[i];
    if (status[i] == StepStatus::done) {
      ++result.steps_skipped;
      continue;
    }
    journal(db_, [&] { set_step_started(db_, id, i); });
    crash_if(crash, job, step, false);
    core_log()->debug("job {} {} #{}: step {}", job.kind, job.key, id, step.name);
    std::exception_ptr failure;
    try {
      step.run();
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) {
      crash_if(crash, job, step, true);
      journal(db_, [&] { set_step_finished(db_, id, i, StepStatus::done, std::nullopt); });
      status[i] = StepStatus::done;
      ++result.steps_run;
      continue;
    }

    // The step failed: record it, maybe roll back, and rethrow its error. A
    // journal error on the way is logged; the step's error stays the one
    // reported (by the caller: at info here, so that it is one line).
    const std::string message = describe(failure);
    core_log()->info("job {} {} #{}: step {} failed: {}", job.kind, job.key, id, step.name, message);
    try {
      const std::string job_error = fmt::format("step {}: {}", step.name, message);
      journal(db_, [&] {
        set_step_finished(db_, id, i, StepStatus::failed, message);
        set_job(db_, id, JobStatus::failed, job_error);
      });
      status[i] = StepStatus::failed;
      if (has(policy, JobPolicy::rollback_on_failure) && half_done(failure)) {
        core_log()->info("job {} {} #{}: step {} failed half-way and could not clean up: nothing is rolled back, "
                         "the next run resumes it",
                         job.kind, job.key, id, step.name);
      } else if (has(policy, JobPolicy::rollback_on_failure)) {
        core_log()->info("job {} {} #{}: rolling back", job.kind, job.key, id);
        std::vector<std::size_t> order;
        for (std::size_t j = job.steps.size(); j-- > 0;) {
          if (status[j] == StepStatus::done) order.push_back(j);
        }
        auto outcome = undo_steps(db_, job, id, order);
        if (outcome.failure) {
          journal(db_, [&] {
            set_job(db_, id, JobStatus::failed,
                    fmt::format("{}; rollback failed at step {}: {}", job_error,
                                job.steps[*outcome.failed_step].name, describe(outcome.failure)));
          });
        } else {
          journal(db_, [&] { set_job(db_, id, JobStatus::rolled_back); });
          core_log()->info("job {} {} #{}: rolled back", job.kind, job.key, id);
        }
      }
    } catch (const std::exception& e) {
      core_log()->error("job {} {} #{}: cannot record the failure of step {}: {}", job.kind, job.key,
                        id, step.name, e.what());
    }
    std::rethrow_exception(failure);
  }

  journal(db_, [&] { set_job(db_, id, JobStatus::done); });
  result.status = JobStatus::done;
  core_log()->info("job {} {} #{}: done ({} steps run, {} skipped)", job.kind, job.key, id,
                   result.steps_run, result.steps_skipped);
  return result;
}

JobResult JobRunner::rollback(const Job& job) {
  validate(job);
  JobResult result;
  std::vector<std::size_t> order;
  {
    Transaction transaction(db_);
    auto existing = find_unfinished(db_, job.kind, job.key);
    if (!existing) {
      fail(ErrorKind::not_found, "job {} {}: no unfinished job to roll back", job.kind, job.key);
    }
    auto recorded = load_steps(db_, existing->id);
    check_same_steps(job, existing->id, recorded);
    for (std::size_t i = recorded.size(); i-- > 0;) {
      const auto& step = recorded[i];
      bool interrupted = step.status == StepStatus::pending && step.started.has_value();
      if (step.status == StepStatus::done || interrupted) order.push_back(i);
    }
    touch_job(db_, existing->id, now_ms());
    transaction.commit();
    result.id = existing->id;
  }
  core_log()->warn("job {} {} #{}: rolling back", job.kind, job.key, result.id);

  auto outcome = undo_steps(db_, job, result.id, order);
  result.steps_undone = outcome.undone;
  if (outcome.failure) {
    journal(db_, [&] {
      set_job(db_, result.id, JobStatus::failed,
              fmt::format("rollback failed at step {}: {}", job.steps[*outcome.failed_step].name,
                          describe(outcome.failure)));
    });
    std::rethrow_exception(outcome.failure);
  }
  journal(db_, [&] { set_job(db_, result.id, JobStatus::rolled_back); });
  result.status = JobStatus::rolled_back;
  core_log()->warn("job {} {} #{}: rolled back ({} steps undone)", job.kind, job.key, result.id,
                   result.steps_undone);
  return result;
}

std::vector<JobRecord> JobRunner::list(JobFilter filter) const {
  Transaction snapshot(db_, sqlite::TransactionMode::deferred);
  auto query = db_.prepare(fmt::format(
      "SELECT {} FROM job {} ORDER BY id DESC", job_columns,
      filter == JobFilter::unfinished ? "WHERE status IN ('running', 'failed')" : ""));
  auto steps = prepare_steps_query(db_);
  std::vector<JobRecord> jobs;
  while (query.step()) {
    jobs.push_back(read_job(query));
    jobs.back().steps = read_steps(steps, jobs.back().id);
  }
  snapshot.commit();
  return jobs;
}

std::optional<JobRecord> JobRunner::find(std::string_view kind, std::string_view key) const {
  Transaction snapshot(db_, sqlite::TransactionMode::deferred);
  auto query = db_.query(
      fmt::format("SELECT {} FROM job WHERE kind = ?1 AND key = ?2 ORDER BY id DESC LIMIT 1",
                  job_columns),
      kind, key);
  if (!query.step()) return std::nullopt;
  JobRecord record = read_job(query);
  record.steps = load_steps(db_, record.id);
  snapshot.commit();
  return record;
}

void crash_point(std::string_view kind, std::string_view step, bool after) {
  auto crash = crash_point_for(kind);
  if (!crash || crash->after != after || crash->step != step) return;
  core_log()->warn("OE_CRASH_AT: killing this process {} step {} of {}", after ? "after" : "before", step, kind);
  core_log()->flush();
  ::kill(::getpid(), SIGKILL);
  std::_Exit(128 + SIGKILL);  // not reached
}

}  // namespace core
