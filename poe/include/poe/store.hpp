// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// poe's store: a bare git repository that keeps every standard version of the
// ERP's code as a commit tagged SOFTWARE/VERSION (e.g. tryton/6.0.29). A
// standard is imported from a plain folder, which poe never writes into.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace poe {

// How a folder is read into a tree: names matching one of `ignore` (fnmatch
// patterns on one path component, e.g. "__pycache__", "*.pyc") are skipped.
struct TreeOptions {
  std::vector<std::string> ignore;
};

// What the store knows about one standard version.
struct StandardInfo {
  std::string ref;        // "tryton/6.0.29"
  std::string commit_id;  // full hex ids
  std::string tree_id;
  std::string source;       // the folder it was imported from
  std::string imported_at;  // UTC, ISO 8601
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

enum class StoreMode { open_existing, create_if_missing };

class Store {
 public:
  // Opens the bare repository at `path`; with create_if_missing it is
  // created (with its parents) when absent. Throws not_found when it is
  // absent and open_existing was asked, external on libgit2 failures.
  static Store open(const std::filesystem::path& path, StoreMode mode);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& path() const noexcept;

  // Records the folder `dir` as the standard `ref` ("SOFTWARE/VERSION").
  // Throws invalid for a bad ref, a `dir` that is not a folder, a symbolic
  // link leaving the tree, a file name with control characters or invalid
  // UTF-8, or a special file; conflict when `ref` exists already.
  StandardInfo import_standard(std::string_view ref, const std::filesystem::path& dir, const TreeOptions& options);

  // Every standard, sorted by ref.
  std::vector<StandardInfo> list() const;
  // Throws invalid for a bad ref, not_found for an unknown one.
  StandardInfo show(std::string_view ref) const;
  // Removes the tag; the objects stay until the repository is collected.
  void remove(std::string_view ref);

  struct Impl;
  Impl& impl() const noexcept { return *impl_; }

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace poe
