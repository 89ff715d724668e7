// SPDX-License-Identifier: GPL-3.0-or-later
// The pure parts of service logs: svlogd's stamps, and the last lines across rotated files.
#include "xoe/logs.hpp"
#include "../core/tempdir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;

namespace {

using test::TempDir;

void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

}  // namespace

TEST(LogLine, HumanStampOfSvlogdTt) {
  auto l = xoe::parse_log_line("2024-05-01_12:34:56.12345 INFO:trytond.server: using trytond.conf");
  ASSERT_TRUE(l.time);
  EXPECT_EQ(*l.time, "2024-05-01T12:34:56.12345Z");
  EXPECT_EQ(l.text, "INFO:trytond.server: using trytond.conf");
}

TEST(LogLine, IsoStampOfSvlogdTtt) {
  auto l = xoe::parse_log_line("2026-11-26T22:57:50.70811 h3");
  ASSERT_TRUE(l.time);
  EXPECT_EQ(*l.time, "2026-11-26T22:57:50.70811Z");
  EXPECT_EQ(l.text, "h3");
}

TEST(LogLine, Tai64nOfSvlogdT) {
  // @4000000000000000 + 10 s is the Unix epoch (TAI taken as UTC + 10 s); 0x1dcd6500 ns = 0.5 s.
  auto l = xoe::parse_log_line("@400000000000000a1dcd6500 started");
  ASSERT_TRUE(l.time);
  EXPECT_EQ(*l.time, "1970-01-01T00:00:00.500000Z");
  EXPECT_EQ(l.text, "started");
  // A stamp svlogd -t wrote on the test machine at 1795733870 (2026-11-26T22:57:50Z).
  auto m = xoe::parse_log_line("@400000006b08b97828542e3c hi2");
  ASSERT_TRUE(m.time);
  EXPECT_EQ(m.time->substr(0, 20), "2026-11-26T22:57:50.");
}

TEST(LogLine, NoStampIsAllText) {
  for (const char* s : {"Traceback (most recent call last):", "", "2024-05-01 12:34:56 not svlogd's",
                        "@4000zz0000000000000000000 x", "@3fffffffffffffff00000000 before the epoch",
                        "2024-05-01_12:34:56 no fraction"}) {
    auto l = xoe::parse_log_line(s);
    EXPECT_FALSE(l.time) << s;
    EXPECT_EQ(l.text, s);
  }
}

TEST(LastLines, CurrentAlone) {
  TempDir t;
  write(t.path() / "current", "a\nb\nc\n");
  EXPECT_EQ(xoe::last_log_lines(t.path(), 2), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 10), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(xoe::last_log_lines(t.path(), 0).empty());
}

TEST(LastLines, RotatedFilesNewestFirst) {
  TempDir t;
  write(t.path() / "@400000006600000000000000.s", "1\n2\n");
  write(t.path() / "@400000006700000000000000.u", "3\n4\n");
  write(t.path() / "current", "5\n6");  // a last line without its newline yet
  write(t.path() / "lock", "");
  write(t.path() / "config", "s1000\n");
  EXPECT_EQ(xoe::last_log_lines(t.path(), 3), (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 100), (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
}

TEST(LastLines, LogrotatesNumberedFilesNewestFirst) {
  TempDir t;
  auto now = fs::file_time_type::clock::now();
  write(t.path() / "current.2", "1\n2\n");
  write(t.path() / "current.1", "3\n4\n");
  write(t.path() / "current", "5\n");
  write(t.path() / "current.old", "x\n");  // not logrotate's
  fs::last_write_time(t.path() / "current.2", now - std::chrono::hours(48));
  fs::last_write_time(t.path() / "current.1", now - std::chrono::hours(24));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 2), (std::vector<std::string>{"4", "5"}));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 100), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  // Same time: the lower number is the newer.
  fs::last_write_time(t.path() / "current.2", now - std::chrono::hours(24));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 100), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
}

TEST(LastLines, BothSupervisorsFilesByTime) {
  // A service moved from runit to systemd: svlogd's files are older than logrotate's.
  TempDir t;
  auto now = fs::file_time_type::clock::now();
  write(t.path() / "@400000006600000000000000.s", "1\n");
  write(t.path() / "current.1", "2\n");
  write(t.path() / "current", "3\n");
  fs::last_write_time(t.path() / "@400000006600000000000000.s", now - std::chrono::hours(48));
  fs::last_write_time(t.path() / "current.1", now - std::chrono::hours(24));
  EXPECT_EQ(xoe::last_log_lines(t.path(), 100), (std::vector<std::string>{"1", "2", "3"}));
}

TEST(LastLines, NoLogYet) {
  TempDir t;
  EXPECT_TRUE(xoe::last_log_lines(t.path() / "missing", 10).empty());
  EXPECT_TRUE(xoe::last_log_lines(t.path(), 10).empty());
}
