// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cli.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tempdir.hpp"

namespace {

const core::Schema& schema() {
  static const core::Schema s = {{"thing.size", core::ValueType::integer, std::int64_t{1}, "size"}};
  return s;
}

struct Harness {
  core::cli::Frame frame{"tst", "test tool", schema(), {{{"--make", "-thing"}, {"make"}}}};
  int made = 0;
  Harness() {
    frame.command(frame.app(), "make", "make a thing", core::cli::Effect::mutates, [this] {
      ++made;
      return 0;
    });
    frame.command(frame.app(), "fail", "fail", core::cli::Effect::mutates,
                  []() -> int { core::fail(core::ErrorKind::not_found, "thing 'x' not found"); });
    core::cli::add_config_commands(frame);
  }
  // Runs like main(): the one catch point.
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "tst");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    try {
      return frame.run(static_cast<int>(argv.size()), argv.data());
    } catch (const core::Error& e) {
      last_error = e.what();
      return frame.report(e);
    }
  }
  std::string last_error;
};

std::vector<std::string> audit_lines(const std::filesystem::path& root) {
  std::ifstream in(root / "var/log/oe/audit.jsonl");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(Cli, MutatingCommandRunsAndIsAudited) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"--root", dir.path().string(), "make"}), 0);
  EXPECT_EQ(h.made, 1);
  auto lines = audit_lines(dir.path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"command\":[\"--root\""), std::string::npos) << lines[0];
}

TEST(Cli, FailedCommandExitsWithItsKindAndIsAudited) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"fail", "--root", dir.path().string()}), core::exit_code::not_found);
  auto lines = audit_lines(dir.path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"error\":\"thing 'x' not found\""), std::string::npos) << lines[0];
}

TEST(Cli, UnknownCommandAndOptionExit2WithOneLine) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"--root", dir.path().string(), "frobnicate"}), core::exit_code::usage);
  EXPECT_EQ(h.last_error, "unknown command 'frobnicate' (see tst --help)");
  Harness h2;
  EXPECT_EQ(h2.run({"--root", dir.path().string(), "make", "--frob"}), core::exit_code::usage);
  EXPECT_EQ(h2.last_error, "unknown option '--frob'");
  EXPECT_EQ(h2.made, 0);
  Harness h3;
  EXPECT_EQ(h3.run({"--root", dir.path().string(), "config", "frob"}), core::exit_code::usage);
  EXPECT_EQ(h3.last_error, "unknown command 'frob' (see tst --help)");
  Harness h4;
  EXPECT_EQ(h4.run({"--root", dir.path().string()}), core::exit_code::usage);
  EXPECT_EQ(h4.last_error, "no command given (see tst --help)");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var")) << "a usage error wrote something";
}

TEST(Cli, MissingRootExit2AndNothingWritten) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"--root", (dir.path() / "nope").string(), "make"}), core::exit_code::usage);
  EXPECT_EQ(h.made, 0);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "nope"));
}

TEST(Cli, BrokenConfigStopsBeforeActing) {
  test::TempDir dir;
  dir.write("etc/oe/tst.toml", "[thing]\ncolour = 1\n");
  Harness h;
  EXPECT_EQ(h.run({"--root", dir.path().string(), "make"}), core::exit_code::usage);
  EXPECT_EQ(h.made, 0);
  EXPECT_EQ(h.last_error, (dir.path() / "etc/oe/tst.toml").string() + ":2: unknown key 'thing.colour'");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var"));
}

TEST(Cli, LegacySyntaxReachesTheModernCommand) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"--root", dir.path().string(), "--make", "-thing"}), 0);
  EXPECT_EQ(h.made, 1);
}

TEST(Cli, HelpAndVersionExitZero) {
  Harness h;
  testing::internal::CaptureStdout();
  EXPECT_EQ(h.run({"--help"}), 0);
  EXPECT_EQ(h.run({"--version"}), 0);
  auto out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("make a thing"), std::string::npos);
  EXPECT_NE(out.find(std::string("tst ") + core::cli::version()), std::string::npos);
}

TEST(Cli, ConfigShowJson) {
  test::TempDir dir;
  Harness h;
  testing::internal::CaptureStdout();
  EXPECT_EQ(h.run({"--root", dir.path().string(), "config", "show", "--json", "--set", "thing.size=3"}), 0);
  auto json = nlohmann::json::parse(testing::internal::GetCapturedStdout());
  EXPECT_EQ(json["config"][0]["key"], "thing.size");
  EXPECT_EQ(json["config"][0]["value"], 3);
  EXPECT_EQ(json["config"][0]["origin"], "--set");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "var")) << "config show wrote something";
}

}  // namespace

namespace {

// A tool whose configuration has locks.wait: --wait and --no-wait set it.
struct LockingTool {
  core::Schema schema = {{"locks.wait", core::ValueType::integer, std::int64_t{300}, "wait"}};
  core::cli::Frame frame{"lkt", "locking tool", schema, {}};
  std::int64_t seen = -1;
  std::string origin;
  LockingTool() {
    frame.command(frame.app(), "show", "show the wait", core::cli::Effect::reads, [this] {
      seen = frame.config().get_int("locks.wait");
      origin = frame.config().entry("locks.wait").origin;
      return 0;
    });
  }
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "lkt");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    try {
      return frame.run(static_cast<int>(argv.size()), argv.data());
    } catch (const core::Error& e) {
      last_error = e.what();
      return frame.report(e);
    }
  }
  std::string last_error;
};

TEST(Cli, WaitAndNoWaitSetLocksWait) {
  test::TempDir dir;
  {
    LockingTool t;
    EXPECT_EQ(t.run({"--root", dir.path().string(), "show"}), 0);
    EXPECT_EQ(t.seen, 300);
    EXPECT_EQ(t.origin, "default");
  }
  {
    LockingTool t;
    EXPECT_EQ(t.run({"--root", dir.path().string(), "--set", "locks.wait=9", "show", "--wait", "2"}), 0);
    EXPECT_EQ(t.seen, 2);  // the option is the last word
    EXPECT_EQ(t.origin, "--set");
  }
  {
    LockingTool t;
    EXPECT_EQ(t.run({"--root", dir.path().string(), "--no-wait", "show"}), 0);
    EXPECT_EQ(t.seen, 0);
  }
  {
    LockingTool t;
    EXPECT_EQ(t.run({"--root", dir.path().string(), "--wait", "2", "--no-wait", "show"}), 2);
    EXPECT_EQ(t.seen, -1);
  }
  {
    LockingTool t;
    EXPECT_EQ(t.run({"--root", dir.path().string(), "--wait", "-1", "show"}), 2);
  }
}

TEST(Cli, NoWaitOptionsWithoutLocksWait) {
  test::TempDir dir;
  Harness h;
  EXPECT_EQ(h.run({"--root", dir.path().string(), "--wait", "2", "make"}), 2);
  EXPECT_EQ(h.made, 0);
}

}  // namespace
