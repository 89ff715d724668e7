// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private to libpoe: patch texts, their parsing, and writing a series folder.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "git.hpp"
#include "poe/series.hpp"

namespace poe {

struct PatchText {
  std::string name;
  std::string text;
  std::vector<std::string> files;
  std::string patch_id;
  bool binary = false;
  PatchStatus status = PatchStatus::applies;
};

struct RenderOptions {
  Split split = Split::module;
  std::vector<std::string> module_roots = {"modules", "addons"};
  std::vector<std::string> paths;  // empty: the whole tree
};

// The patches of the differences from `a` to `b` (git format, full blob ids,
// binary included), grouped per module or per file, sorted by name.
std::vector<PatchText> render_patches(git_repository* repo, const git_tree* a, const git_tree* b,
                                      const RenderOptions& options);

// All the differences from `a` to `b` restricted to `paths` as one patch text.
std::string render_one(git_repository* repo, const git_tree* a, const git_tree* b,
                       const std::vector<std::string>& paths);

// Parses a patch text; throws invalid naming `what` when it does not parse
// or holds no change.
git::Diff parse_patch(std::string_view text, std::string_view what);
std::string patch_id_of(git_diff* diff);
std::vector<std::string> files_of(git_diff* diff);
bool has_binary(git_diff* diff);

// Fills files, patch_id and binary from the text.
void describe(PatchText& patch);

// Writes a series folder at `output` (must not exist) atomically.
Series write_series(const std::filesystem::path& output, const std::string& base, const std::string& base_tree,
                    Split split, const std::vector<PatchText>& patches);

// Reads a file whole; throws io.
std::string slurp(const std::filesystem::path& path);
// Writes a file whole (created or truncated); throws io.
void spit(const std::filesystem::path& path, std::string_view data);

// Throws invalid when `path` exists (also as a dangling link).
void require_absent(const std::filesystem::path& path, std::string_view what);

}  // namespace poe
