// SPDX-License-Identifier: GPL-3.0-or-later
// The owner shift of a restored layer (backup_ids.hpp): ids of the old range
// moved to the new one, set-id bits kept, links changed themselves and never
// followed (the file a link names keeps its owner), ids outside the range
// left, a second run a no-op. Needs root (chown); skipped without it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backup_ids.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t from = 65536LL * 70, to = 65536LL * 71;

struct CloeBackupIds : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    char tmpl[] = "/tmp/cloe-backup-ids-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  static void own(const fs::path& p, std::int64_t uid, std::int64_t gid) {
    ASSERT_EQ(::lchown(p.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid)), 0) << p;
  }
  static struct stat lst(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st;
  }
};

TEST_F(CloeBackupIds, ShiftsTheRangeKeepsSetIdAndFollowsNoLink) {
  fs::path upper = dir / "upper", outside = dir / "host-file";
  fs::create_directories(upper / "srv");
  std::ofstream(outside) << "host\n";
  own(outside, from, from);  // as if it were the vserver's: a followed link would shift it
  std::ofstream(upper / "srv" / "suid") << "#!/bin/sh\n";
  fs::create_symlink(outside, upper / "srv" / "link");
  std::ofstream(upper / "srv" / "foreign") << "x\n";
  own(upper, from, from);
  own(upper / "srv", from, from);
  own(upper / "srv" / "suid", from, from + 1000);
  ASSERT_EQ(::chmod((upper / "srv" / "suid").c_str(), 06755), 0);
  own(upper / "srv" / "link", from + 5, from + 5);
  own(upper / "srv" / "foreign", 1234, 1234);  // outside the range: left

  cloe::backup_ids::shift(upper, from, to);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(lst(upper).st_uid, to);
    EXPECT_EQ(lst(upper / "srv").st_gid, to);
    auto suid = lst(upper / "srv" / "suid");
    EXPECT_EQ(suid.st_uid, to);
    EXPECT_EQ(suid.st_gid, to + 1000);
    EXPECT_EQ(suid.st_mode & 07777, 06755U);
    auto link = lst(upper / "srv" / "link");
    EXPECT_TRUE(S_ISLNK(link.st_mode));
    EXPECT_EQ(link.st_uid, to + 5);
    EXPECT_EQ(lst(outside).st_uid, from) << "the file a link names was changed";
    EXPECT_EQ(lst(upper / "srv" / "foreign").st_uid, 1234U);
    cloe::backup_ids::shift(upper, from, to);  // a second run: nothing more moves
  }
}

TEST_F(CloeBackupIds, SameRangeIsANoOpAndAMissingTopNotFound) {
  fs::create_directories(dir / "upper");
  own(dir / "upper", from, from);
  cloe::backup_ids::shift(dir / "upper", from, from);
  EXPECT_EQ(lst(dir / "upper").st_uid, from);
  try {
    cloe::backup_ids::shift(dir / "missing", from, to);
    ADD_FAILURE() << "no error for a missing tree";
  } catch (const core::Error& e) {
    EXPECT_TRUE(e.kind() == core::ErrorKind::io || e.kind() == core::ErrorKind::not_found) << e.what();
  }
}

}  // namespace
