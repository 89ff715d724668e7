// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/jobs.hpp"

#include "core/error.hpp"
#include "core/lock.hpp"
#include "tempdir.hpp"
#include "core/sqlite.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using core::ErrorKind;
using test::TempDir;
using core::Job;
using core::JobPolicy;
using core::JobRunner;
using core::JobStatus;
using core::StepStatus;
using core::sqlite::Database;

using test::error_of;

void append_line(const fs::path& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << '\n';
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> step_statuses(const core::JobRecord& record) {
  std::vector<std::string> out;
  for (const auto& step : record.steps) out.emplace_back(core::to_string(step.status));
  return out;
}

constexpr JobPolicy resume_or_rollback = JobPolicy::resume | JobPolicy::rollback_on_failure;
constexpr std::string_view kind = "test.deploy";

// Steps that append their name to a file (the side effect a crash test can
// count) and whose undo appends to `undone`. `fail_at` and `undo_fail_at`
// are read when the step runs, so a test can repair a step between runs.
struct Recorder {
  fs::path effects;
  std::vector<std::string> undone;
  std::string fail_at;
  std::string undo_fail_at;
};

Job deploy_job(Recorder& recorder, const std::vector<std::string>& names = {"a", "b", "c", "d"},
               const std::string& key = "service:acme") {
  Job job{std::string(kind), key, {}};
  for (const auto& name : names) {
    job.steps.push_back(
        {name,
         [&recorder, name] {
           if (recorder.fail_at == name) throw core::Error(ErrorKind::external, name + " broke");
           append_line(recorder.effects, name);
         },
         [&recorder, name] {
           if (recorder.undo_fail_at == name) {
             throw core::Error(ErrorKind::external, "undo of " + name + " broke");
           }
           recorder.undone.push_back(name);
         }});
  }
  return job;
}

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(std::getenv("OE_CRASH_AT"), nullptr); }

  // Runs `job` in a child process with OE_CRASH_AT=`crash_at`; returns the
  // child's wait status. The parent holds no connection across fork().
  int run_in_child(const std::string& crash_at, bool take_lock = false) {
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      int code = 0;
      try {
        ::setenv("OE_CRASH_AT", crash_at.c_str(), 1);
        std::optional<core::FileLock> lock;
        if (take_lock) lock = core::FileLock::acquire(dir.path(), "service:acme");
        auto db = Database::open(db_file);
        JobRunner runner(db);
        Recorder child_recorder{effects, {}, {}, {}};
        runner.run(deploy_job(child_recorder), resume_or_rollback);
      } catch (...) {
        code = 2;
      }
      ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }

  TempDir dir;
  fs::path db_file = dir.path() / "jobs.db";
  fs::path effects = dir.path() / "effects.txt";
  Recorder recorder{effects, {}, {}, {}};
};

// --- in-process -----------------------------------------------------------------

TEST_F(JobsTest, NormalRunRecordsEveryStep) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_EQ(result.status, JobStatus::done);
  EXPECT_FALSE(result.resumed);
  EXPECT_EQ(result.steps_run, 4U);
  EXPECT_EQ(result.steps_skipped, 0U);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(recorder.undone.empty());

  auto record = runner.find(kind, "service:acme");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->id, result.id);
  EXPECT_EQ(record->kind, kind);
  EXPECT_EQ(record->key, "service:acme");
  EXPECT_EQ(record->status, JobStatus::done);
  EXPECT_FALSE(record->unfinished());
  EXPECT_TRUE(record->error.empty());
  EXPECT_LE(record->created, record->updated);
  EXPECT_EQ(step_statuses(*record), (std::vector<std::string>{"done", "done", "done", "done"}));
  for (std::size_t i = 0; i < record->steps.size(); ++i) {
    const auto& step = record->steps[i];
    EXPECT_EQ(step.index, i);
    ASSERT_TRUE(step.started.has_value());
    ASSERT_TRUE(step.finished.has_value());
    EXPECT_LE(*step.started, *step.finished);
  }
  EXPECT_EQ(record->steps[2].name, "c");

  EXPECT_EQ(runner.list().size(), 1U);
  EXPECT_TRUE(runner.list(core::JobFilter::unfinished).empty());
  EXPECT_EQ(runner.find(kind, "service:other"), std::nullopt);
  EXPECT_EQ(core::sqlite::schema_version(db, "core.jobs"), 1);
}

TEST_F(JobsTest, FailureWithRollbackUndoesDoneStepsInReverse) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  auto e = error_of([&] { runner.run(deploy_job(recorder), resume_or_rollback); });
  // The step's own error, unchanged.
  EXPECT_EQ(e.kind(), ErrorKind::external);
  EXPECT_EQ(std::string(e.what()), "c broke");

  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"b", "a"}));  // not c, not d

  auto record = runner.find(kind, "service:acme");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, JobStatus::rolled_back);
  EXPECT_FALSE(record->unfinished());
  EXPECT_EQ(record->error, "step c: c broke");
  EXPECT_EQ(step_statuses(*record),
            (std::vector<std::string>{"undone", "undone", "failed", "pending"}));
  EXPECT_EQ(record->steps[2].error, "c broke");
  EXPECT_FALSE(record->steps[3].started.has_value());

  // A rolled back job is finished: the next run starts a new one.
  recorder.fail_at.clear();
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_FALSE(result.resumed);
  EXPECT_NE(result.id, record->id);
  EXPECT_EQ(result.steps_run, 4U);
  EXPECT_EQ(runner.list().size(), 2U);
  EXPECT_EQ(runner.list().front().id, result.id);  // newest first
}

TEST_F(JobsTest, FailureWithoutRollbackIsResumedAtTheFailedStep) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  auto e = error_of([&] { runner.run(deploy_job(recorder), JobPolicy::resume); });
  EXPECT_EQ(e.kind(), ErrorKind::external);
  EXPECT_TRUE(recorder.undone.empty());

  auto failed = runner.find(kind, "service:acme");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status, JobStatus::failed);
  EXPECT_TRUE(failed->unfinished());
  EXPECT_EQ(failed->error, "step c: c broke");
  EXPECT_EQ(step_statuses(*failed), (std::vector<std::string>{"done", "done", "failed", "pending"}));
  ASSERT_EQ(runner.list(core::JobFilter::unfinished).size(), 1U);

  recorder.fail_at.clear();
  auto result = runner.run(deploy_job(recorder), JobPolicy::resume);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.id, failed->id);
  EXPECT_EQ(result.steps_skipped, 2U);
  EXPECT_EQ(result.steps_run, 2U);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));

  auto done = runner.find(kind, "service:acme");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->status, JobStatus::done);
  EXPECT_TRUE(done->error.empty());
  EXPECT_TRUE(done->steps[2].error.empty());
  EXPECT_EQ(step_statuses(*done), (std::vector<std::string>{"done", "done", "done", "done"}));
}

// A step that failed half-way and could not clean up after itself: undoing
// the earlier steps could destroy what it left (the only copy of the data),
// so nothing is undone and the next run resumes at that step.
TEST_F(JobsTest, HalfDoneStepIsNotRolledBackAndIsResumed) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  Job job = deploy_job(recorder);
  bool broken = true;
  auto plain = job.steps[2].run;
  job.steps[2].run = [&broken, plain] {
    if (broken) throw core::StepHalfDone(ErrorKind::io, "c half done; the old data is in X");
    plain();
  };
  auto e = error_of([&] { runner.run(job, resume_or_rollback); });
  EXPECT_EQ(std::string(e.what()), "c half done; the old data is in X");
  EXPECT_TRUE(recorder.undone.empty());
  auto failed = runner.find(kind, "service:acme");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->status, JobStatus::failed);
  EXPECT_EQ(step_statuses(*failed), (std::vector<std::string>{"done", "done", "failed", "pending"}));

  broken = false;
  auto result = runner.run(job, resume_or_rollback);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.steps_skipped, 2U);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(runner.find(kind, "service:acme")->status, JobStatus::done);
}

TEST_F(JobsTest, UnfinishedJobIsRefusedWithoutResumePolicy) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "b";
  EXPECT_THROW(runner.run(deploy_job(recorder), JobPolicy::none), core::Error);
  recorder.fail_at.clear();
  auto e = error_of([&] { runner.run(deploy_job(recorder), JobPolicy::rollback_on_failure); });
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(e.what()).find("unfinished"), std::string::npos) << e.what();
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a"}));
}

TEST_F(JobsTest, UnfinishedJobWithOtherStepsIsAConflict) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  EXPECT_THROW(runner.run(deploy_job(recorder), JobPolicy::resume), core::Error);
  recorder.fail_at.clear();

  for (const auto& names : std::vector<std::vector<std::string>>{
           {"a", "b", "x", "d"}, {"a", "b", "c"}, {"a", "b", "c", "d", "e"}, {"b", "a", "c", "d"}}) {
    auto changed = deploy_job(recorder, names);
    auto e = error_of([&] { runner.run(changed, resume_or_rollback); });
    EXPECT_EQ(e.kind(), ErrorKind::conflict);
    EXPECT_NE(std::string(e.what()).find("(a, b, c, d)"), std::string::npos) << e.what();
    EXPECT_EQ(error_of([&] { runner.rollback(changed); }).kind(), ErrorKind::conflict);
  }
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(recorder.undone.empty());
}

TEST_F(JobsTest, ExplicitRollbackUndoesTheUnfinishedJob) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  EXPECT_THROW(runner.run(deploy_job(recorder), JobPolicy::resume), core::Error);

  auto result = runner.rollback(deploy_job(recorder));
  EXPECT_EQ(result.status, JobStatus::rolled_back);
  EXPECT_EQ(result.steps_undone, 2U);
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"b", "a"}));
  auto record = runner.find(kind, "service:acme");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->id, result.id);
  EXPECT_EQ(record->status, JobStatus::rolled_back);
  EXPECT_EQ(step_statuses(*record),
            (std::vector<std::string>{"undone", "undone", "failed", "pending"}));

  auto e = error_of([&] { runner.rollback(deploy_job(recorder)); });
  EXPECT_EQ(e.kind(), ErrorKind::not_found);
}

TEST_F(JobsTest, RollbackWithoutUnfinishedJobIsNotFound) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  EXPECT_EQ(error_of([&] { runner.rollback(deploy_job(recorder)); }).kind(), ErrorKind::not_found);
  runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_EQ(error_of([&] { runner.rollback(deploy_job(recorder)); }).kind(), ErrorKind::not_found);
  EXPECT_TRUE(recorder.undone.empty());
}

TEST_F(JobsTest, FailingUndoStopsTheRollbackAndLeavesTheJobFailed) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  recorder.undo_fail_at = "b";
  auto e = error_of([&] { runner.run(deploy_job(recorder), resume_or_rollback); });
  EXPECT_EQ(std::string(e.what()), "c broke");  // still the step's error
  EXPECT_TRUE(recorder.undone.empty());          // a's undo not attempted after b's failed

  auto record = runner.find(kind, "service:acme");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, JobStatus::failed);
  EXPECT_EQ(record->error, "step c: c broke; rollback failed at step b: undo of b broke");
  EXPECT_EQ(step_statuses(*record), (std::vector<std::string>{"done", "done", "failed", "pending"}));
  EXPECT_EQ(record->steps[1].error, "undo failed: undo of b broke");

  // Explicit rollback after the compensation is repaired finishes the job.
  recorder.undo_fail_at.clear();
  auto result = runner.rollback(deploy_job(recorder));
  EXPECT_EQ(result.steps_undone, 2U);
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(runner.find(kind, "service:acme")->status, JobStatus::rolled_back);
}

// The next run of a job whose rollback stopped at a failing undo finishes
// that rollback first, then runs the job anew: resuming it forward would
// take the half-undone steps for done ones.
TEST_F(JobsTest, ARunAfterAFailedRollbackFinishesItThenStartsAnew) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  recorder.undo_fail_at = "a";
  (void)error_of([&] { runner.run(deploy_job(recorder), resume_or_rollback); });
  auto failed = runner.find(kind, "service:acme");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(step_statuses(*failed), (std::vector<std::string>{"done", "undone", "failed", "pending"}));

  // The undo still fails: the rollback stops there again, nothing runs forward.
  recorder.fail_at.clear();
  auto e = error_of([&] { runner.run(deploy_job(recorder), resume_or_rollback); });
  EXPECT_EQ(std::string(e.what()), "undo of a broke");
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(runner.find(kind, "service:acme")->status, JobStatus::failed);

  // Repaired: the rollback ends, then a new job runs every step.
  recorder.undo_fail_at.clear();
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_FALSE(result.resumed);
  EXPECT_NE(result.id, failed->id);
  EXPECT_EQ(result.steps_run, 4U);
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "a", "b", "c", "d"}));
  EXPECT_EQ(runner.list().size(), 2U);
}

// A first undo that fails marks no step undone; the rollback is still finished first.
TEST_F(JobsTest, ARunAfterAFirstUndoFailedFinishesTheRollbackToo) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  recorder.undo_fail_at = "b";
  (void)error_of([&] { runner.run(deploy_job(recorder), resume_or_rollback); });
  recorder.fail_at.clear();
  recorder.undo_fail_at.clear();
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_FALSE(result.resumed);
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(result.steps_run, 4U);
}

TEST_F(JobsTest, FailingUndoInExplicitRollbackIsRethrown) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "d";
  EXPECT_THROW(runner.run(deploy_job(recorder), JobPolicy::resume), core::Error);
  recorder.undo_fail_at = "b";
  auto e = error_of([&] { runner.rollback(deploy_job(recorder)); });
  EXPECT_EQ(std::string(e.what()), "undo of b broke");
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"c"}));
  auto record = runner.find(kind, "service:acme");
  EXPECT_EQ(record->status, JobStatus::failed);
  EXPECT_EQ(step_statuses(*record), (std::vector<std::string>{"done", "done", "undone", "failed"}));
}

TEST_F(JobsTest, StepsWithoutUndoAreMarkedUndone) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  Job job{"test.check", "host:one", {}};
  std::vector<std::string> calls;
  job.steps.push_back({"check", [&] { calls.emplace_back("check"); }, {}});
  job.steps.push_back({"change", [&] { calls.emplace_back("change"); },
                       [&] { calls.emplace_back("undo change"); }});
  job.steps.push_back({"boom", [] { throw std::runtime_error("plain exception"); }, {}});
  auto thrown = [&] {
    try {
      runner.run(job, resume_or_rollback);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("nothing");
  }();
  EXPECT_EQ(thrown, "plain exception");
  EXPECT_EQ(calls, (std::vector<std::string>{"check", "change", "undo change"}));
  auto record = runner.find("test.check", "host:one");
  EXPECT_EQ(step_statuses(*record), (std::vector<std::string>{"undone", "undone", "failed"}));
  EXPECT_EQ(record->error, "step boom: plain exception");
}

TEST_F(JobsTest, KeysAreIndependent) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  recorder.fail_at = "c";
  EXPECT_THROW(runner.run(deploy_job(recorder, {"a", "b", "c", "d"}, "service:one"),
                       JobPolicy::resume),
               core::Error);
  recorder.fail_at.clear();
  auto other = runner.run(deploy_job(recorder, {"a", "b", "c", "d"}, "service:two"),
                          JobPolicy::none);
  EXPECT_EQ(other.status, JobStatus::done);
  EXPECT_FALSE(other.resumed);
  EXPECT_EQ(runner.find(kind, "service:one")->status, JobStatus::failed);
  auto unfinished = runner.list(core::JobFilter::unfinished);
  ASSERT_EQ(unfinished.size(), 1U);
  EXPECT_EQ(unfinished[0].key, "service:one");
}

TEST_F(JobsTest, BadDefinitionsAreBugs) {
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto noop = [] {};
  EXPECT_EQ(error_of([&] { runner.run(Job{"", "k", {{"a", noop, {}}}}, JobPolicy::none); }).kind(),
            ErrorKind::internal);
  EXPECT_EQ(error_of([&] { runner.run(Job{"k", "", {{"a", noop, {}}}}, JobPolicy::none); }).kind(),
            ErrorKind::internal);
  EXPECT_EQ(error_of([&] {
              runner.run(Job{"k", "k", {{"a", noop, {}}, {"a", noop, {}}}}, JobPolicy::none);
            }).kind(),
            ErrorKind::internal);
  EXPECT_EQ(error_of([&] { runner.run(Job{"k", "k", {{"", noop, {}}}}, JobPolicy::none); }).kind(),
            ErrorKind::internal);
  EXPECT_EQ(error_of([&] { runner.run(Job{"k", "k", {{"a", {}, {}}}}, JobPolicy::none); }).kind(),
            ErrorKind::internal);
  EXPECT_TRUE(runner.list().empty());
}

TEST_F(JobsTest, JournalSurvivesReopening) {
  {
    auto db = Database::open(db_file);
    JobRunner runner(db);
    recorder.fail_at = "b";
    EXPECT_THROW(runner.run(deploy_job(recorder), JobPolicy::resume), core::Error);
  }
  recorder.fail_at.clear();
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto result = runner.run(deploy_job(recorder), JobPolicy::resume);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));
}

// --- crashes (OE_CRASH_AT, fork) ------------------------------------------------

TEST_F(JobsTest, CrashBeforeAStepIsResumedWithoutRepeatingDoneSteps) {
  int status = run_in_child("test.deploy:c");
  ASSERT_TRUE(WIFSIGNALED(status)) << "child status " << status;
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b"}));

  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto crashed = runner.find(kind, "service:acme");
  ASSERT_TRUE(crashed.has_value());
  EXPECT_EQ(crashed->status, JobStatus::running);  // its process died
  EXPECT_EQ(step_statuses(*crashed),
            (std::vector<std::string>{"done", "done", "pending", "pending"}));
  EXPECT_TRUE(crashed->steps[2].started.has_value());  // interrupted
  EXPECT_FALSE(crashed->steps[3].started.has_value());

  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.id, crashed->id);
  EXPECT_EQ(result.steps_skipped, 2U);
  EXPECT_EQ(result.steps_run, 2U);
  // Every side effect exactly once.
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(runner.find(kind, "service:acme")->status, JobStatus::done);
  EXPECT_TRUE(recorder.undone.empty());
}

TEST_F(JobsTest, CrashAfterAStepReRunsThatStep) {
  int status = run_in_child("test.deploy:c:after");
  ASSERT_TRUE(WIFSIGNALED(status)) << "child status " << status;
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  // c's action ran, but the journal never recorded it done.
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c"}));

  auto db = Database::open(db_file);
  JobRunner runner(db);
  EXPECT_EQ(step_statuses(*runner.find(kind, "service:acme")),
            (std::vector<std::string>{"done", "done", "pending", "pending"}));
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_EQ(result.steps_skipped, 2U);
  EXPECT_EQ(result.steps_run, 2U);
  // a and b once, c twice (steps are idempotent by contract), d once.
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "c", "d"}));
  EXPECT_EQ(runner.find(kind, "service:acme")->status, JobStatus::done);
}

TEST_F(JobsTest, CrashAtTheFirstStep) {
  int status = run_in_child("test.deploy:a");
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(lines_of(effects).empty());
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.steps_run, 4U);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(JobsTest, CrashedJobCanBeRolledBackIncludingTheInterruptedStep) {
  int status = run_in_child("test.deploy:c:after");
  ASSERT_TRUE(WIFSIGNALED(status));
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto result = runner.rollback(deploy_job(recorder));
  EXPECT_EQ(result.steps_undone, 3U);
  EXPECT_EQ(recorder.undone, (std::vector<std::string>{"c", "b", "a"}));
  auto record = runner.find(kind, "service:acme");
  EXPECT_EQ(record->status, JobStatus::rolled_back);
  EXPECT_EQ(step_statuses(*record),
            (std::vector<std::string>{"undone", "undone", "undone", "pending"}));
}

TEST_F(JobsTest, LockOfACrashedRunIsFreeAndItsJobResumes) {
  // The intended use: hold the key's lock around the job. A run killed
  // mid-job leaves neither a stale lock nor a lost journal.
  int status = run_in_child("test.deploy:b:after", true);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  auto lock = core::FileLock::acquire(dir.path(), "service:acme", core::FileLock::Wait::fail_fast);
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto result = runner.run(deploy_job(recorder), resume_or_rollback);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.steps_skipped, 1U);
  EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "b", "c", "d"}));
}

TEST_F(JobsTest, CrashPointOfAnotherKindOrStepDoesNothing) {
  for (const std::string crash_at :
       {"other.kind:c", "test.deploy:zz", "test.deploy", "test.deploy:", "test.deplo:c", "c"}) {
    fs::remove(db_file);
    fs::remove(effects);
    int status = run_in_child(crash_at);
    ASSERT_TRUE(WIFEXITED(status)) << crash_at;
    EXPECT_EQ(WEXITSTATUS(status), 0) << crash_at;
    EXPECT_EQ(lines_of(effects), (std::vector<std::string>{"a", "b", "c", "d"})) << crash_at;
  }
}

TEST_F(JobsTest, ConcurrentProcessesShareTheJournal) {
  constexpr int processes = 3;
  constexpr int jobs_each = 3;
  constexpr int steps = 15;
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        auto db = Database::open(db_file);
        JobRunner runner(db);
        for (int j = 0; j < jobs_each; ++j) {
          Job job{"test.many", "key:" + std::to_string(p) + "-" + std::to_string(j), {}};
          for (int s = 0; s < steps; ++s) job.steps.push_back({"s" + std::to_string(s), [] {}, {}});
          if (runner.run(job, resume_or_rollback).steps_run != steps) code = 1;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 2;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto db = Database::open(db_file);
  JobRunner runner(db);
  auto jobs = runner.list();
  ASSERT_EQ(jobs.size(), static_cast<std::size_t>(processes * jobs_each));
  for (const auto& job : jobs) {
    EXPECT_EQ(job.status, JobStatus::done) << job.key;
    EXPECT_EQ(job.steps.size(), static_cast<std::size_t>(steps));
    EXPECT_TRUE(std::all_of(job.steps.begin(), job.steps.end(),
                            [](const auto& step) { return step.status == StepStatus::done; }));
  }
}

TEST(JobPolicyTest, FlagsCombine) {
  constexpr auto both = JobPolicy::resume | JobPolicy::rollback_on_failure;
  static_assert(core::has(both, JobPolicy::resume));
  static_assert(core::has(both, JobPolicy::rollback_on_failure));
  static_assert(!core::has(JobPolicy::resume, JobPolicy::rollback_on_failure));
  static_assert(!core::has(JobPolicy::none, JobPolicy::resume));
  EXPECT_EQ(core::to_string(JobStatus::rolled_back), "rolled_back");
  EXPECT_EQ(core::to_string(StepStatus::undone), "undone");
}

}  // namespace
