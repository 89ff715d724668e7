// SPDX-License-Identifier: GPL-3.0-or-later
// xoe's runit commands against a real runsv (Debian's runit).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "../core/tempdir.hpp"
#include "xoe/supervisor.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// runsv's supervise/status: byte 17 the wanted state, byte 19 the state (0 down, 1 run).
std::pair<char, int> status_of(const fs::path& dir) {
  std::ifstream in(dir / "supervise" / "status", std::ios::binary);
  char b[20];
  if (!in.read(b, sizeof b)) return {0, -1};
  return {b[17], b[19]};
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

// Between two starts of a server that keeps dying runsv sleeps a second and
// reads no command. A down then an up in that second must leave it wanted
// up: `sv up` sent nothing then (supervise/status still said "want up"), and
// the service stayed down once runsv read the down (an update's rollback
// failed so, once in two runs of scenario.xoe_update).
TEST(Runit, UpRightAfterDownOfAServiceThatKeepsDyingStartsIt) {
  test::TempDir t;
  fs::path dir = t.path() / "svc";
  fs::create_directories(dir);
  {
    std::ofstream run(dir / "run");
    run << "#!/bin/sh\nsleep 0.3\nexit 1\n";
  }
  fs::permissions(dir / "run", fs::perms::owner_all);
  std::string d = dir.string();
  char runsv_name[] = "runsv";
  char* argv[] = {runsv_name, d.data(), nullptr};
  pid_t runsv = 0;
  ASSERT_EQ(0, ::posix_spawnp(&runsv, "runsv", nullptr, nullptr, argv, environ)) << "runsv (Debian's runit)";
  // A failed assertion leaves no runsv behind (it would hold ctest's pipe).
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{runsv};
  ASSERT_TRUE(wait_for([&] { return xoe::runit::supervised(dir); }, 5s));
  for (int i = 0; i < 3; ++i) {
    // The server has just died: runsv sleeps before it starts it again.
    ASSERT_TRUE(wait_for([&] { return status_of(dir) == std::pair<char, int>{'u', 1}; }, 5s));
    ASSERT_TRUE(wait_for([&] { return status_of(dir) == std::pair<char, int>{'u', 0}; }, 5s));
    xoe::runit::down(dir);
    EXPECT_EQ(status_of(dir), (std::pair<char, int>{'d', 0})) << "down, and runsv took it";
    EXPECT_NO_THROW(xoe::runit::up(dir));
    EXPECT_EQ(status_of(dir).first, 'u') << "round " << i;
  }
  xoe::runit::release(dir);
  EXPECT_EQ(runsv, ::waitpid(runsv, nullptr, 0));
  reaper.pid = 0;
}
