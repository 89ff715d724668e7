// SPDX-License-Identifier: GPL-3.0-or-later
#include "tree_io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/error.hpp"
#include "poe/series.hpp"
#include "store_impl.hpp"
#include "../core/tempdir.hpp"

namespace poe {
namespace {
namespace fs = std::filesystem;

using test::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A folder whose names exercise git's entry order (a folder sorts as if its
// name ended with '/'), with an executable, a link and an empty folder.
void make_tricky(const fs::path& dir) {
  write(dir / "ab/inner.py", "inner\n");
  write(dir / "ab.c", "dot\n");
  write(dir / "ab-c", "dash\n");
  write(dir / "ab0", "zero\n");
  write(dir / "abc/deep/er/file", "deep\n");
  write(dir / "run.sh", "#!/bin/sh\n");
  ::chmod((dir / "run.sh").c_str(), 0755);
  fs::create_directory_symlink("ab", dir / "link");
  fs::create_directories(dir / "empty/too");
  for (int i = 0; i < 120; ++i)  // enough files for several threads
    write(dir / "many" / std::to_string(i % 7) / ("f" + std::to_string(i)), std::string(static_cast<std::size_t>(i), 'x'));
}

git::Repository open_repo(const fs::path& path, bool bare) {
  git::init();
  git_repository* raw = nullptr;
  git::check(git::call(git_repository_init, &raw, path.c_str(), bare ? 1u : 0u), "init");
  return git::Repository(raw);
}

git::Tree lookup_tree(git_repository* repo, const git_oid& id) {
  git_tree* raw = nullptr;
  git::check(git::call(git_tree_lookup, &raw, repo, &id), "lookup");
  return git::Tree(raw);
}

TEST(TreeIo, TreeIdsAreGits) {
  TempDir tmp;
  make_tricky(tmp.path() / "dir");
  // libgit2's own way (an index of the work tree) gives the reference id.
  fs::copy(tmp.path() / "dir", tmp.path() / "work", fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  git::Repository work = open_repo(tmp.path() / "work", false);
  git_index* index_raw = nullptr;
  git::check(git::call(git_repository_index, &index_raw, work.get()), "index");
  git::Index index(index_raw);
  git::check(git::call(git_index_add_all, index.get(), nullptr, 0u, nullptr, nullptr), "add");
  git_oid expected{};
  git::check(git::call(git_index_write_tree, &expected, index.get()), "write tree");

  git::Repository store = open_repo(tmp.path() / "store", true);
  ScanStats stats;
  const git_oid id = write_tree_from_folder(store.get(), tmp.path() / "dir", {}, stats);
  EXPECT_EQ(git::to_hex(id), git::to_hex(expected));
  EXPECT_EQ(stats.files, 127u);
  EXPECT_EQ(stats.bytes, 35u + 119u * 120u / 2u);  // links are not counted

  // Read again `like` a tree that differs: the same id, and a changed file found.
  write(tmp.path() / "dir/ab/inner.py", "INNER\n");  // same size
  ScanStats again;
  const git::Tree like = lookup_tree(store.get(), id);
  const git_oid changed = write_tree_from_folder(store.get(), tmp.path() / "dir", {}, again, like.get());
  EXPECT_NE(git::to_hex(changed), git::to_hex(id));
  const git::Tree now = lookup_tree(store.get(), changed);
  EXPECT_EQ(changed_paths(store.get(), like.get(), now.get()), std::vector<std::string>{"ab/inner.py"});
  write(tmp.path() / "dir/ab/inner.py", "inner\n");
  const git_oid back = write_tree_from_folder(store.get(), tmp.path() / "dir", {}, again, now.get());
  EXPECT_EQ(git::to_hex(back), git::to_hex(id));
}

TEST(TreeIo, ChangedPathsAndSubsets) {
  TempDir tmp;
  write(tmp.path() / "a/x/same.py", "same\n");
  write(tmp.path() / "a/x/edit.py", "one\n");
  write(tmp.path() / "a/mode.sh", "mode\n");
  write(tmp.path() / "flip", "a file, then a folder\n");
  write(tmp.path() / "gone/g1", "g1\n");
  write(tmp.path() / "gone/sub/g2", "g2\n");
  git::Repository repo = open_repo(tmp.path() / "store", true);
  ScanStats stats;
  const git::Tree a = lookup_tree(repo.get(), write_tree_from_folder(repo.get(), tmp.path(), {{"store"}}, stats));
  write(tmp.path() / "a/x/edit.py", "two\n");
  ::chmod((tmp.path() / "a/mode.sh").c_str(), 0755);
  fs::remove(tmp.path() / "flip");
  write(tmp.path() / "flip/inside", "now a folder\n");
  fs::remove_all(tmp.path() / "gone");
  write(tmp.path() / "new/n1", "n1\n");
  const git::Tree b = lookup_tree(repo.get(), write_tree_from_folder(repo.get(), tmp.path(), {{"store"}}, stats, a.get()));
  const std::vector<std::string> changed = changed_paths(repo.get(), a.get(), b.get());
  EXPECT_EQ(changed, (std::vector<std::string>{"a/mode.sh", "a/x/edit.py", "flip", "flip/inside", "gone/g1",
                                               "gone/sub/g2", "new/n1"}));
  EXPECT_TRUE(changed_paths(repo.get(), a.get(), a.get()).empty());

  // A tree of a few files, from no baseline; duplicates and absent paths are fine.
  TreePaths paths(b.get());
  const git::Tree part = subset_tree(repo.get(), paths, {"a/x/edit.py", "a/x/edit.py", "flip", "nowhere/file"});
  git_oid id{};
  git_filemode_t mode{};
  TreePaths in_part(part.get());
  EXPECT_TRUE(in_part.find("a/x/edit.py", id, &mode));
  EXPECT_EQ(read_blob(repo.get(), id), "two\n");
  EXPECT_FALSE(in_part.find("a/x/same.py", id));
  EXPECT_FALSE(in_part.find("flip", id));  // a folder in b
  EXPECT_FALSE(in_part.find("a/mode.sh", id));
  EXPECT_TRUE(paths.find("a/mode.sh", id, &mode));
  EXPECT_EQ(mode, GIT_FILEMODE_BLOB_EXECUTABLE);
  EXPECT_FALSE(paths.find("a", id));  // a folder is not a file
  EXPECT_FALSE(paths.find("a/x/missing", id));
  EXPECT_FALSE(paths.find("missing/x", id));

  // The case that once failed: one file of a large tree, in a scratch repository.
  write(tmp.path() / "std/modules/m/a.py", "a\n");
  Store store = Store::open(tmp.path() / "poe", StoreMode::create_if_missing);
  store.import_standard("soft/1.0", tmp.path() / "std", {});
  Scratch scratch(store);
  git::Tree full = scratch.tree(*git_tree_id(store.impl().standard_tree("soft/1.0").get()));
  TreePaths full_paths(full.get());
  const git::Tree one = subset_tree(scratch.repo.get(), full_paths, {"modules/m/a.py"});
  EXPECT_EQ(git::to_hex(*git_tree_id(one.get())), git::to_hex(*git_tree_id(full.get())));
}

TEST(Git, ErrorsAreTheirOwn) {
  git::init();
  TempDir tmp;
  git::Repository repo = open_repo(tmp.path() / "store", true);
  // A failure whose message stays behind...
  git_tree_update twice[2] = {};
  twice[0].action = twice[1].action = GIT_TREE_UPDATE_REMOVE;
  twice[0].path = twice[1].path = "x";
  git_oid id{};
  EXPECT_LT(git_tree_create_updated(&id, repo.get(), nullptr, 2, twice), 0);
  ASSERT_NE(git_error_last(), nullptr);
  // ...is not reported for a later call.
  EXPECT_EQ(git::call(git_oid_fromstr, &id, "4b825dc642cb6eb9a060e54bf8d69288fbee4904"), 0);
  try {
    git::check(-7, "a call that set no error");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(std::string(e.what()), "a call that set no error: libgit2 failed with code -7 and no message");
  }
  git_tree* raw = nullptr;
  try {
    git::check(git::call(git_tree_lookup, &raw, repo.get(), &id), "read the empty tree");
    git::Tree empty(raw);
    EXPECT_EQ(git_tree_entrycount(empty.get()), 0u);  // libgit2 knows it without the store
    git_reference* ref = nullptr;
    git::check(git::call(git_reference_lookup, &ref, repo.get(), "refs/tags/no"), "look up a tag");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("refs/tags/no"), std::string::npos) << e.what();
  }
}

TEST(Series, SameSizeChangeWithTheSameTimeIsFound) {
  TempDir tmp;
  write(tmp.path() / "std/modules/m/a.py", "value = 1\n");
  write(tmp.path() / "std/modules/m/b.py", "other\n");
  Store store = Store::open(tmp.path() / "store", StoreMode::create_if_missing);
  store.import_standard("soft/1.0", tmp.path() / "std", {});
  fs::copy(tmp.path() / "std", tmp.path() / "custom", fs::copy_options::recursive);
  const auto when = fs::last_write_time(tmp.path() / "std/modules/m/a.py");
  write(tmp.path() / "custom/modules/m/a.py", "value = 2\n");
  fs::last_write_time(tmp.path() / "custom/modules/m/a.py", when);
  const Series series = make_series(store, {"soft/1.0", tmp.path() / "custom", tmp.path() / "series"});
  ASSERT_EQ(series.patches.size(), 1u);
  EXPECT_EQ(series.patches[0].files, std::vector<std::string>{"modules/m/a.py"});
  EXPECT_NE(read(tmp.path() / "series/modules-m.patch").find("+value = 2"), std::string::npos);
}

}  // namespace
}  // namespace poe
