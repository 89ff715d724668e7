// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/mac.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tempdir.hpp"

namespace fs = std::filesystem;
using core::ErrorKind;
using test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

}  // namespace

TEST(Mac, AKeyIsMadeOnceWithModeSixHundredAndReadBack) {
  TempDir dir;
  fs::path file = dir.path() / "keys" / "backup.key";
  std::string key = core::mac_key(file, true);
  EXPECT_EQ(key.size(), 64U);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(core::mac_key(file, true), key);
  EXPECT_EQ(core::mac_key(file, false), key);
  EXPECT_NE(core::mac_key(dir.path() / "other.key", true), key);
}

TEST(Mac, NoKeyWithoutCreateIsAnIoError) {
  TempDir dir;
  EXPECT_EQ(test::error_of([&] { core::mac_key(dir.path() / "none.key", false); }).kind(), ErrorKind::io);
}

TEST(Mac, AKeyOthersCanReadOrALinkIsRefused) {
  TempDir dir;
  fs::path file = dir.path() / "backup.key";
  std::string key = core::mac_key(file, true);
  ::chmod(file.c_str(), 0644);
  EXPECT_EQ(test::error_of([&] { core::mac_key(file, false); }).kind(), ErrorKind::invalid);
  ::chmod(file.c_str(), 0600);
  fs::create_symlink(file, dir.path() / "link.key");
  EXPECT_EQ(test::error_of([&] { core::mac_key(dir.path() / "link.key", false); }).kind(), ErrorKind::io);
  write(dir.path() / "short.key", "abcd\n");
  ::chmod((dir.path() / "short.key").c_str(), 0600);
  EXPECT_EQ(test::error_of([&] { core::mac_key(dir.path() / "short.key", false); }).kind(), ErrorKind::invalid);
}

TEST(Mac, TheMacChangesWithTheKeyAndWithOneByte) {
  TempDir dir;
  std::string k1 = core::mac_key(dir.path() / "1.key", true), k2 = core::mac_key(dir.path() / "2.key", true);
  fs::path f = dir.path() / "archive";
  write(f, std::string(3 << 20, 'x'));  // more than one read buffer
  std::string m = core::file_mac(k1, f);
  EXPECT_EQ(m.size(), 64U);
  EXPECT_EQ(core::file_mac(k1, f), m);
  EXPECT_TRUE(core::same_mac(m, core::file_mac(k1, f)));
  EXPECT_FALSE(core::same_mac(m, core::file_mac(k2, f)));
  write(f, std::string(3 << 20, 'x') + "y");
  EXPECT_FALSE(core::same_mac(m, core::file_mac(k1, f)));
  EXPECT_FALSE(core::same_mac(m, m.substr(1)));
  EXPECT_EQ(test::error_of([&] { core::file_mac(k1, dir.path() / "missing"); }).kind(), ErrorKind::io);
}
