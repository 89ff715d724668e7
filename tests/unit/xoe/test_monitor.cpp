// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/monitor.hpp"
#include "../core/tempdir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::chrono::sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

}  // namespace

TEST(Monitor, RssFromStatus) {
  EXPECT_EQ(xoe::rss_from_status("Name:\tpython3\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 100 kB\n"),
            std::uint64_t{51234} * 1024);
  EXPECT_EQ(xoe::rss_from_status("VmRSS:\t1 kB"), 1024U);
  // Kernel threads and zombies have no VmRSS line.
  EXPECT_EQ(xoe::rss_from_status("Name:\tkthreadd\nState:\tS (sleeping)\n"), std::nullopt);
  EXPECT_EQ(xoe::rss_from_status("VmRSS:\t  twelve kB\n"), std::nullopt);
  EXPECT_EQ(xoe::rss_from_status(""), std::nullopt);
  // This very process, read the way monitor reads a server.
  auto self = xoe::rss_from_status(slurp("/proc/self/status"));
  ASSERT_TRUE(self.has_value());
  EXPECT_GT(*self, 100U * 1024);
}

TEST(Monitor, PpidFromStat) {
  EXPECT_EQ(xoe::ppid_from_stat("1234 (python3) S 99 1234 1234 0 -1 4194560 1 0"), 99);
  // The command may hold spaces and parentheses: the last ')' ends it.
  EXPECT_EQ(xoe::ppid_from_stat("42 (a) b (c)) R 7 42 42 0"), 7);
  EXPECT_EQ(xoe::ppid_from_stat("1 (init) S 0 1 1"), 0);
  EXPECT_EQ(xoe::ppid_from_stat("1 (init"), std::nullopt);
  EXPECT_EQ(xoe::ppid_from_stat("1 (init) S"), std::nullopt);
  EXPECT_EQ(xoe::ppid_from_stat(slurp("/proc/self/stat")), ::getppid());
}

TEST(Monitor, ProcessTreeHoldsTheRootAndAllItsDescendants) {
  // 10 -> 11 -> 13 -> 14, 10 -> 12; 20 -> 21 is another tree; 1 is everyone's ancestor.
  std::map<pid_t, pid_t> parent_of = {{10, 1}, {11, 10}, {12, 10}, {13, 11}, {14, 13}, {20, 1}, {21, 20}};
  auto tree = xoe::process_tree(10, parent_of);
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), 10);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, (std::vector<pid_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(xoe::process_tree(14, parent_of), std::vector<pid_t>{14});
  // A pid missing from the map (exited meanwhile) is the tree alone.
  EXPECT_EQ(xoe::process_tree(99, parent_of), std::vector<pid_t>{99});
  // A loop (pids reused while /proc was read) does not run forever.
  EXPECT_EQ(xoe::process_tree(5, {{5, 6}, {6, 5}}).size(), 2U);
}

// The real /proc: a child (and its child) that hold 48 MiB each count in this process's tree.
TEST(Monitor, TreeRssSumsTheDescendants) {
  constexpr std::size_t size = std::size_t{48} << 20;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGCHLD, SIG_IGN);  // the grandchild is reaped by the kernel, never left a zombie
    ::fork();  // a grandchild too: both touch their memory, say so, and wait to be killed
    std::vector<char> block(size);
    std::memset(block.data(), 1, block.size());
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  auto parents = xoe::read_process_parents();
  auto mine = xoe::rss_from_status(slurp("/proc/self/status"));
  auto tree = xoe::tree_rss(::getpid(), parents);
  auto child_tree = xoe::tree_rss(child, parents);
  EXPECT_EQ(parents.at(child), ::getpid());
  std::vector<pid_t> family = xoe::process_tree(child, parents);
  // The grandchild first, while its parent is there to have it reaped.
  for (auto it = family.rbegin(); it != family.rend() && *it != child; ++it) ::kill(*it, SIGKILL);
  for (int i = 0; i < 200 && family.size() > 1 && ::kill(family.back(), 0) == 0; ++i) ::usleep(10000);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(family.size(), 2U);
  ASSERT_TRUE(mine && tree && child_tree);
  EXPECT_GE(*child_tree, 2 * size);
  EXPECT_GE(*tree, *mine + 2 * size);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer's own memory adds some 70 MiB to each process
  EXPECT_LT(*child_tree, 4 * size);
#endif
  // A process that is gone has no RSS.
  EXPECT_EQ(xoe::tree_rss(family[0], {}), std::nullopt);
}

TEST(Monitor, ParseSqlTimestampReadsUtc) {
  auto t = at(2024, 5, 1, 10, 11, 12);
  // PostgreSQL's timestamp without time zone and SQLite's text, as Tryton and Odoo store them (UTC).
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-05-01 10:11:12.345678"), t);
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-05-01 10:11:12"), t);
  EXPECT_EQ(xoe::parse_sql_timestamp(" 2024-05-01T10:11:12Z\n"), t);
  // timestamptz as psql prints it, with the session's offset.
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-05-01 12:11:12.5+02"), t);
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-05-01 05:41:12-04:30"), t);
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-05-01 10:11:12+0000"), t);
  EXPECT_EQ(xoe::parse_sql_timestamp("2024-02-29 00:00:00"), at(2024, 2, 29, 0, 0, 0));
  for (const char* bad : {"", "NULL", "2024-02-30 00:00:00", "2024-05-01", "2024-05-01 25:00:00",
                          "2024-05-01 10:11:12.", "2024-05-01 10:11:12 UTC", "2024/05/01 10:11:12", "1714558272"})
    EXPECT_EQ(xoe::parse_sql_timestamp(bad), std::nullopt) << bad;
}

TEST(Monitor, RecordedUseIsTheMtimeOfARegularFileOnly) {
  test::TempDir t;
  auto data = t.path() / "data";
  std::filesystem::create_directory(data);
  EXPECT_EQ(xoe::recorded_use(data, ".xoe-last-use"), std::nullopt);  // nothing recorded yet
  std::ofstream(data / ".xoe-last-use") << "";
  auto when = at(2024, 5, 1, 10, 11, 12);
  struct timespec times[2] = {{when.time_since_epoch().count(), 0}, {when.time_since_epoch().count(), 500000000}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (data / ".xoe-last-use").c_str(), times, 0), 0);
  EXPECT_EQ(xoe::recorded_use(data, ".xoe-last-use"), when);
  // What a customer may put there instead is not read: a link (to a file
  // root would otherwise stat), a FIFO (never opened: no wait), a folder.
  std::ofstream(t.path() / "outside") << "";
  ASSERT_EQ(::utimensat(AT_FDCWD, (t.path() / "outside").c_str(), times, 0), 0);
  std::filesystem::create_symlink(t.path() / "outside", data / "link");
  EXPECT_EQ(xoe::recorded_use(data, "link"), std::nullopt);
  ASSERT_EQ(::mkfifo((data / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(xoe::recorded_use(data, "fifo"), std::nullopt);
  std::filesystem::create_directory(data / "dir");
  EXPECT_EQ(xoe::recorded_use(data, "dir"), std::nullopt);
  // Nor is a data folder that is a link.
  std::filesystem::create_symlink(data, t.path() / "data-link");
  EXPECT_EQ(xoe::recorded_use(t.path() / "data-link", ".xoe-last-use"), std::nullopt);
}

TEST(Monitor, IsoUtc) {
  EXPECT_EQ(xoe::iso_utc(at(2024, 5, 1, 10, 11, 12)), "2024-05-01T10:11:12Z");
  EXPECT_EQ(xoe::iso_utc(std::chrono::sys_seconds{}), "1970-01-01T00:00:00Z");
  auto t = at(2031, 12, 31, 23, 59, 59);
  EXPECT_EQ(xoe::parse_sql_timestamp(xoe::iso_utc(t)), t);
}

TEST(Monitor, PrometheusEscapesLabelValues) {
  EXPECT_EQ(xoe::prometheus_escape("acme"), "acme");
  EXPECT_EQ(xoe::prometheus_escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(Monitor, PrometheusTextLeavesUnknownValuesOut) {
  xoe::MonitorResult r;
  r.time = at(2024, 5, 1, 12, 0, 0);
  xoe::ServiceHealth up;
  up.name = "acme";
  up.software = "tryton";
  up.version = "7.0";
  up.role = "production";
  up.state = "run";
  up.up = true;
  up.http_ms = 12.5;
  up.memory_bytes = 123456789;
  up.db_bytes = 9000000;
  up.last_backup = at(2024, 5, 1, 3, 0, 0);
  up.backup_age_seconds = 32400;
  up.users = 3;
  up.last_login = at(2024, 5, 1, 10, 11, 12);
  xoe::ServiceHealth down;
  down.name = "b\"ad";
  down.software = "odoo";
  down.version = "17.0";
  down.role = "test";
  down.state = "down";
  r.services = {up, down};
  EXPECT_FALSE(r.all_up());
  std::string text = xoe::prometheus_text(r);
  const std::string a = R"({service="acme",software="tryton",version="7.0",role="production"})";
  const std::string b = R"({service="b\"ad",software="odoo",version="17.0",role="test"})";
  std::string expected =
      "# HELP xoe_service_up 1 when the service answers its health probe, else 0.\n"
      "# TYPE xoe_service_up gauge\n"
      "xoe_service_up" + a + " 1\n"
      "xoe_service_up" + b + " 0\n"
      "# HELP xoe_service_http_seconds Round trip of the health probe, in seconds.\n"
      "# TYPE xoe_service_http_seconds gauge\n"
      "xoe_service_http_seconds" + a + " 0.0125\n"
      "# HELP xoe_service_memory_bytes Resident memory of the server process and its descendants.\n"
      "# TYPE xoe_service_memory_bytes gauge\n"
      "xoe_service_memory_bytes" + a + " 123456789\n"
      "# HELP xoe_service_database_bytes Size of the service's database.\n"
      "# TYPE xoe_service_database_bytes gauge\n"
      "xoe_service_database_bytes" + a + " 9000000\n"
      "# HELP xoe_service_last_backup_timestamp_seconds Time of the newest backup archive, in seconds since the epoch.\n"
      "# TYPE xoe_service_last_backup_timestamp_seconds gauge\n"
      "xoe_service_last_backup_timestamp_seconds" + a + " 1714532400\n"
      "# HELP xoe_service_users Active users of the service's database.\n"
      "# TYPE xoe_service_users gauge\n"
      "xoe_service_users" + a + " 3\n"
      "# HELP xoe_service_last_login_timestamp_seconds Time of the last login, in seconds since the epoch.\n"
      "# TYPE xoe_service_last_login_timestamp_seconds gauge\n"
      "xoe_service_last_login_timestamp_seconds" + a + " 1714558272\n";
  EXPECT_EQ(text, expected);

  // Every line is a comment or a sample of the text format.
  std::regex sample(R"re([a-z_]+\{(?:[a-z_]+="(?:[^"\\\n]|\\[\\"n])*",?)*\} -?[0-9.e+-]+)re");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(line.starts_with("# HELP ") || line.starts_with("# TYPE ") || std::regex_match(line, sample)) << line;

  // All up; no services at all is "all up" (exit 0).
  r.services = {up};
  EXPECT_TRUE(r.all_up());
  EXPECT_TRUE(xoe::MonitorResult{}.all_up());
}
