// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private to libpoe: plain folders to git trees and back, and paths in trees.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "git.hpp"
#include "poe/store.hpp"

namespace poe {

struct ScanStats {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Writes the folder `dir` as a tree into `repo`'s object database (only the
// objects it does not hold yet) and returns the tree's id. Never writes into
// `dir`. Files are read and hashed on several threads. `like`, when given, is
// a tree the folder probably resembles (the standard a customised tree comes
// from): a file or folder whose id is the one `like` has at the same path is
// known to be in the object database and is not looked up there; every file
// is still read and hashed whole, so any change is found, whatever its size
// and times. Throws invalid when `dir` is not a folder, a name holds a control
// character or invalid UTF-8, a symbolic link points outside `dir`, or a
// special file is found; io when reading fails.
git_oid write_tree_from_folder(git_repository* repo, const std::filesystem::path& dir, const TreeOptions& options,
                               ScanStats& stats, const git_tree* like = nullptr);

// Writes the tree `tree` into the folder `dir` (which must exist and be
// empty): regular files with their executable bit, symbolic links.
void write_folder_from_tree(git_repository* repo, const git_tree* tree, const std::filesystem::path& dir);

// A blob's content (empty for a null id).
std::string read_blob(git_repository* repo, const git_oid& id);

// The id of the file at `path` in `tree`, or nullopt-like zero id (found=false).
bool tree_entry_id(const git_tree* tree, const std::string& path, git_oid& id, git_filemode_t* mode = nullptr);

// Files looked up by path in one tree. Each folder's tree is read once and
// kept (libgit2 caches only trees under 4 KiB, and a folder of a few hundred
// modules is larger), so many lookups in a large tree stay cheap.
class TreePaths {
 public:
  // `root` must outlive this; folders are read through `root`'s repository.
  explicit TreePaths(const git_tree* root);
  TreePaths(const TreePaths&) = delete;
  TreePaths& operator=(const TreePaths&) = delete;

  const git_tree* root() const noexcept { return root_; }
  // True with the blob's id and mode when `path` is a file or link.
  bool find(std::string_view path, git_oid& id, git_filemode_t* mode = nullptr);

 private:
  const git_tree* folder(std::string_view dir);  // null when absent or not a folder

  const git_tree* root_;
  std::map<std::string, git::Tree, std::less<>> folders_;  // null Tree: absent
};

// A tree in `repo` holding only the files `paths` of `full` (those present):
// work on a few files of a large tree (a diff, git_apply_to_tree, which indexes
// its whole preimage) then touches only them. Duplicate paths are fine.
git::Tree subset_tree(git_repository* repo, TreePaths& full, const std::vector<std::string>& paths);

// The files (blobs and links) that differ between the trees `a` and `b`:
// changed, added or removed, in either. Folders with the same id on both sides
// are not read. Sorted, without duplicates.
std::vector<std::string> changed_paths(git_repository* repo, const git_tree* a, const git_tree* b);

// True when the bytes are valid UTF-8 without control characters.
bool is_clean_name(std::string_view name) noexcept;

}  // namespace poe
