// SPDX-License-Identifier: GPL-3.0-or-later
// goe's tasks (tasks.hpp): history in goe.db, one running task per target, a
// task whose process is gone failed when next read.
#include "tasks.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../core/tempdir.hpp"
#include "core/error.hpp"

namespace {

core::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no core::Error thrown";
  return core::ErrorKind::internal;
}

TEST(GoeTasks, OpenFinishListAsHistory) {
  test::TempDir dir;
  goe::Tasks tasks(dir.path() / "goe.db");
  auto a = tasks.open("backup", "acme", "alice");
  auto t = tasks.get(a);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, "running");
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->target, "acme");
  EXPECT_FALSE(t->ended);
  tasks.finish(a, true, "acme-20260101T000000Z.tar.zst");
  auto b = tasks.open("stop", "acme", "bob");
  tasks.finish(b, false, "xoe: cannot stop\nsecond line");
  auto list = tasks.list(std::nullopt);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, b);  // newest first
  EXPECT_EQ(list[0].status, "failed");
  EXPECT_EQ(list[0].error, "xoe: cannot stop second line");
  EXPECT_TRUE(list[0].ended);
  EXPECT_EQ(list[1].status, "done");
  EXPECT_EQ(list[1].detail, "acme-20260101T000000Z.tar.zst");
  EXPECT_EQ(tasks.last("backup", "acme")->id, a);
  EXPECT_FALSE(tasks.last("backup", "other"));
  EXPECT_TRUE(tasks.list(std::string("other")).empty());
  // Finishing twice changes nothing.
  tasks.finish(a, false, "late");
  EXPECT_EQ(tasks.get(a)->status, "done");
}

TEST(GoeTasks, OneRunningTaskPerTarget) {
  test::TempDir dir;
  goe::Tasks tasks(dir.path() / "goe.db");
  auto a = tasks.open("backup", "acme", "alice");
  EXPECT_EQ(kind_of([&] { tasks.open("stop", "acme", "bob"); }), core::ErrorKind::conflict);
  auto other = tasks.open("stop", "beta", "bob");  // another service is free
  EXPECT_NE(other, a);
  tasks.finish(a, true, "");
  EXPECT_NO_THROW(tasks.open("stop", "acme", "bob"));
  EXPECT_EQ(kind_of([&] { tasks.open("Bad kind", "acme", "bob"); }), core::ErrorKind::invalid);
  EXPECT_EQ(kind_of([&] { tasks.open("stop", "../x", "bob"); }), core::ErrorKind::invalid);
}

TEST(GoeTasks, ALogOfStepsWhileRunningOnly) {
  test::TempDir dir;
  goe::Tasks tasks(dir.path() / "goe.db");
  auto a = tasks.open("refresh", "acme-training", "alice");
  auto b = tasks.open("remove-students", "beta", "bob");
  tasks.note(a, "backup used: acme-production-20260101T000000Z.tar.zst");
  tasks.note(b, "remove group g1");
  tasks.note(a, "overwrites: database acme-training\nand its data");
  tasks.finish(a, true, "done");
  tasks.note(a, "after the end");  // ignored
  auto log = tasks.log(a);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log[0].ends_with(" backup used: acme-production-20260101T000000Z.tar.zst")) << log[0];
  EXPECT_TRUE(log[1].ends_with(" overwrites: database acme-training and its data")) << log[1];
  EXPECT_EQ(log[0].size(),
            std::string("2026-01-01T00:00:00Z backup used: acme-production-20260101T000000Z.tar.zst").size());
  EXPECT_EQ(tasks.log(b).size(), 1u);
  EXPECT_TRUE(tasks.log(12345).empty());
}

TEST(GoeTasks, ATaskWhoseProcessDiedIsFailed) {
  test::TempDir dir;
  // A process that ran a task and is gone: a child reaped.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  goe::TaskOwner dead{child, 12345};
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(goe::alive(dead));
  EXPECT_TRUE(goe::alive(goe::this_process()));
  // The same pid with another start time is another process.
  EXPECT_FALSE(goe::alive({::getpid(), goe::this_process().start_time + 1}));

  goe::Tasks theirs(dir.path() / "goe.db", dead);
  auto id = theirs.open("backup", "acme", "alice");
  goe::Tasks mine(dir.path() / "goe.db");
  auto live = mine.open("stop", "beta", "bob");
  auto t = mine.get(id);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, "failed");
  EXPECT_TRUE(t->ended);
  EXPECT_NE(t->error.find("gone"), std::string::npos) << t->error;
  EXPECT_EQ(mine.get(live)->status, "running");  // this process's own stays running
  EXPECT_NO_THROW(mine.open("restart", "acme", "bob"));  // the service is free again
}

}  // namespace
