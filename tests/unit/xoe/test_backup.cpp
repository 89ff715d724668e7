// SPDX-License-Identifier: GPL-3.0-or-later
// The pure parts of backups: archive names and the daily/weekly/monthly retention.
#include "xoe/backup.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using namespace std::chrono;

xoe::BackupEntry at(int y, unsigned m, unsigned d, int h = 2) {
  sys_seconds t = sys_days{year{y} / month{m} / day{d}} + hours{h};
  return {"acme-" + std::to_string(t.time_since_epoch().count()) + ".tar.zst", t};
}

std::vector<std::string> names(const std::vector<xoe::BackupEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.archive.string());
  return out;
}

}  // namespace

TEST(Backup, ArchiveTimeFromName) {
  auto t = xoe::archive_time("acme-production-20240131T235959Z.tar.zst");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, sys_days{2024y / January / 31} + 23h + 59min + 59s);
  EXPECT_FALSE(xoe::archive_time("acme-20240131T235959Z.tar.zst.sha256"));
  EXPECT_FALSE(xoe::archive_time(".acme-20240131T235959Z.tar.zst.tmp"));
  EXPECT_FALSE(xoe::archive_time("acme-2024-01-31.tar.zst"));
  EXPECT_FALSE(xoe::archive_time("Acme-20240131T235959Z.tar.zst"));
}

TEST(Backup, RetentionKeepsNewestPerDayWeekMonth) {
  std::vector<xoe::BackupEntry> all;
  // Ninety days of backups, two a day, ending Sunday 2024-03-31.
  for (sys_days d = sys_days{2024y / January / 2}; d <= sys_days{2024y / March / 31}; d += days{1}) {
    year_month_day ymd{d};
    all.push_back(at(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), 2));
    all.push_back(at(static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), 14));
  }
  std::reverse(all.begin(), all.end());  // any order
  auto kept = xoe::select_kept(all, {7, 4, 3});
  std::vector<xoe::BackupEntry> expected;
  // daily: the 14:00 backups of March 25..31
  for (unsigned d = 31; d >= 25; --d) expected.push_back(at(2024, 3, d, 14));
  // weekly (ISO weeks, Monday first): the Sundays 24, 17, 10 March are the newest of their weeks (31 is daily already)
  for (unsigned d : {24U, 17U, 10U}) expected.push_back(at(2024, 3, d, 14));
  // monthly: 31 March (daily already), 29 February, 31 January
  expected.push_back(at(2024, 2, 29, 14));
  expected.push_back(at(2024, 1, 31, 14));
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.time > b.time; });
  EXPECT_EQ(names(kept), names(expected));
}

TEST(Backup, RetentionAlwaysKeepsTheNewest) {
  std::vector<xoe::BackupEntry> all = {at(2024, 3, 1), at(2024, 3, 2)};
  EXPECT_EQ(names(xoe::select_kept(all, {0, 0, 0})), names({at(2024, 3, 2)}));
  EXPECT_TRUE(xoe::select_kept({}, {7, 4, 3}).empty());
  // Days without a backup do not count: the last 2 days that have one.
  std::vector<xoe::BackupEntry> gaps = {at(2024, 3, 1), at(2024, 3, 10), at(2024, 3, 20)};
  EXPECT_EQ(names(xoe::select_kept(gaps, {2, 0, 0})), names({at(2024, 3, 20), at(2024, 3, 10)}));
}
