// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/tree.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "tempdir.hpp"

namespace fs = std::filesystem;

namespace {

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

// uid/gid to hand trees to: nobody when root (so the change shows), else ourselves.
uid_t other_uid() { return ::geteuid() == 0 ? 65534 : ::geteuid(); }
gid_t other_gid() { return ::geteuid() == 0 ? 65534 : ::getegid(); }

}  // namespace

TEST(Tree, ChownChangesEverythingAndFollowsNoLink) {
  test::TempDir t;
  fs::path outside = t.path() / "outside", top = t.path() / "top";
  fs::create_directories(outside);
  t.write("outside/secret", "root's");
  t.write("top/a/b/file", "x");
  t.write("top/with\nnewline", "y");
  fs::create_directory_symlink(outside, top / "a" / "link");  // planted mid-tree
  fs::create_symlink(outside / "secret", top / "a" / "b" / "file-link");
  ::mkfifo((top / "fifo").c_str(), 0600);
  core::chown_tree(top, other_uid(), other_gid());
  for (const auto& p : {top, top / "a", top / "a/b", top / "a/b/file", top / "with\nnewline", top / "a/link",
                        top / "a/b/file-link", top / "fifo"})
    EXPECT_EQ(lstat_of(p).st_uid, other_uid()) << p;
  if (::geteuid() == 0) {
    EXPECT_EQ(lstat_of(outside).st_uid, 0u);
    EXPECT_EQ(lstat_of(outside / "secret").st_uid, 0u);
  }
}

TEST(Tree, ChownOfASymlinkTopChangesTheLinkOnly) {
  test::TempDir t;
  t.write("outside/secret", "root's");
  fs::create_directory_symlink(t.path() / "outside", t.path() / "top");
  core::chown_tree(t.path() / "top", other_uid(), other_gid());
  EXPECT_EQ(lstat_of(t.path() / "top").st_uid, other_uid());
  if (::geteuid() == 0) {
    EXPECT_EQ(lstat_of(t.path() / "outside/secret").st_uid, 0u);
  }
}

TEST(Tree, ChownRefusesDevicesAndForeignHardLinks) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, chown)";
  test::TempDir t;
  t.write("top/ok", "x");
  ASSERT_EQ(::mknod((t.path() / "top/null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  auto e = test::error_of([&] { core::chown_tree(t.path() / "top", 65534, 65534); });
  EXPECT_EQ(e.kind(), core::ErrorKind::precondition);
  EXPECT_NE(std::string(e.what()).find("device node"), std::string::npos) << e.what();
  EXPECT_EQ(lstat_of(t.path() / "top/null").st_uid, 0u);
  fs::remove(t.path() / "top/null");
  t.write("root-file", "root's");
  fs::create_hard_link(t.path() / "root-file", t.path() / "top/hard");
  e = test::error_of([&] { core::chown_tree(t.path() / "top", 65534, 65534); });
  EXPECT_NE(std::string(e.what()).find("hard links"), std::string::npos) << e.what();
  EXPECT_EQ(lstat_of(t.path() / "root-file").st_uid, 0u);
}

TEST(Tree, ChownOfAMissingTopIsNotFound) {
  test::TempDir t;
  EXPECT_EQ(test::error_of([&] { core::chown_tree(t.path() / "none", 0, 0); }).kind(), core::ErrorKind::not_found);
}

// A folder and a symbolic link to a folder outside swapped as fast as
// possible (renameat2 RENAME_EXCHANGE) while the tree is chowned: whatever
// the interleaving, nothing outside changes owner.
TEST(Tree, ChownDuringASwapLeavesTheOutsideAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (the outside must not be ours)";
  test::TempDir t;
  fs::path outside = t.path() / "outside", top = t.path() / "top";
  for (int i = 0; i < 50; ++i) t.write("outside/f" + std::to_string(i), "root's");
  for (int i = 0; i < 50; ++i) t.write("top/d/f" + std::to_string(i), "x");
  fs::create_directory_symlink(outside, top / "s");
  std::atomic<bool> stop = false;
  std::thread swapper([&] {
    while (!stop)
      ::syscall(SYS_renameat2, AT_FDCWD, (top / "d").c_str(), AT_FDCWD, (top / "s").c_str(), 2 /* RENAME_EXCHANGE */);
  });
  for (int i = 0; i < 200; ++i) core::chown_tree(top, 65534, 65534);
  stop = true;
  swapper.join();
  EXPECT_EQ(lstat_of(outside).st_uid, 0u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(lstat_of(outside / ("f" + std::to_string(i))).st_uid, 0u);
}

TEST(Tree, RemoveDuringASwapLeavesTheOutsideAlone) {
  test::TempDir t;
  fs::path outside = t.path() / "outside", top = t.path() / "top";
  for (int i = 0; i < 20; ++i) t.write("outside/f" + std::to_string(i), "keep");
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 20; ++i) t.write("top/d/f" + std::to_string(i), "x");
    fs::create_directory_symlink(outside, top / "s");
    std::atomic<bool> stop = false;
    std::thread swapper([&] {
      while (!stop)
        ::syscall(SYS_renameat2, AT_FDCWD, (top / "d").c_str(), AT_FDCWD, (top / "s").c_str(), 2);
    });
    try {
      core::remove_tree(top);
    } catch (const core::Error&) {
      // a rename into a folder being emptied may make one pass fail; never a removal outside
    }
    stop = true;
    swapper.join();
    core::remove_tree(top);
    EXPECT_FALSE(fs::exists(fs::symlink_status(top)));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(fs::exists(outside / ("f" + std::to_string(i)))) << round;
  }
}

TEST(Tree, RemoveRemovesLinksNotTheirTargets) {
  test::TempDir t;
  t.write("outside/keep", "k");
  t.write("top/a/with\nnewline", "x");
  fs::create_directory_symlink(t.path() / "outside", t.path() / "top/a/link");
  ::mkfifo((t.path() / "top/fifo").c_str(), 0600);
  core::remove_tree(t.path() / "top");
  EXPECT_FALSE(fs::exists(t.path() / "top"));
  EXPECT_TRUE(fs::exists(t.path() / "outside/keep"));
  core::remove_tree(t.path() / "top");  // missing is fine
  fs::create_directory_symlink(t.path() / "outside", t.path() / "link");
  core::remove_tree(t.path() / "link");
  EXPECT_FALSE(fs::exists(fs::symlink_status(t.path() / "link")));
  EXPECT_TRUE(fs::exists(t.path() / "outside/keep"));
}

TEST(Tree, WalkReportsEveryEntryOnceAndEntersNoLink) {
  test::TempDir t;
  t.write("top/a/b", "x");
  t.write("top/c\nd", "y");
  fs::create_directory_symlink(t.path() / "top/a", t.path() / "top/l");
  auto top = core::open_directory(t.path() / "top");
  std::multiset<std::string> seen;
  core::walk_tree(top.get(), [&](const core::TreeEntry& e) {
    seen.insert(std::string(e.path));
    return core::Descend::yes;
  });
  EXPECT_EQ(seen, (std::multiset<std::string>{"a", "a/b", "c\nd", "l"}));
}

TEST(Tree, OpenDirectoryRefusesALink) {
  test::TempDir t;
  fs::create_directories(t.path() / "d");
  fs::create_directory_symlink(t.path() / "d", t.path() / "l");
  EXPECT_EQ(test::error_of([&] { core::open_directory(t.path() / "l"); }).kind(), core::ErrorKind::io);
  EXPECT_TRUE(core::open_directory(t.path() / "d"));
}

TEST(Tree, OpenBeneathRefusesLinksAndEscapes) {
  test::TempDir t;
  t.write("top/a/f", "x");
  t.write("outside", "o");
  fs::create_directory_symlink(t.path() / "top/a", t.path() / "top/l");
  auto top = core::open_directory(t.path() / "top");
  EXPECT_TRUE(core::open_beneath(top.get(), "a/f", O_RDONLY));
  EXPECT_FALSE(core::open_beneath(top.get(), "l/f", O_RDONLY));
  EXPECT_FALSE(core::open_beneath(top.get(), "../outside", O_RDONLY));
  EXPECT_FALSE(core::open_beneath(top.get(), t.path() / "outside", O_RDONLY));
}

TEST(Tree, OpenRegularOpensNoFifo) {
  test::TempDir t;
  t.write("f", "x");
  ASSERT_EQ(::mkfifo((t.path() / "p").c_str(), 0600), 0);
  auto dir = core::open_directory(t.path());
  struct stat st {};
  EXPECT_TRUE(core::open_regular(dir.get(), "f", st));
  EXPECT_FALSE(core::open_regular(dir.get(), "p", st));  // would block were it opened
}
