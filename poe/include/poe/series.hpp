// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A series: the list of differences between a customised tree and its
// standard version, as a folder that git and quilt read:
//   SERIES/series        patch names in order, one a line (quilt's format)
//   SERIES/NAME.patch    git's patch format, full blob ids, binary included
//   SERIES/poe.json      base standard and tree, per patch: name, patch-id,
//                        files, status, binary
// The operations: make it (diff), validate it against a new version
// (check), write it for the new version (adapt), build a tree from it
// (apply). None of them prints; each returns a typed result.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "poe/store.hpp"

namespace poe {

// How a patch fits a version. The order is the severity: a patch's status is
// its worst file's (upstream only when every file is upstream).
enum class PatchStatus { applies, offset, upstream, merges, removed, conflict };
std::string_view status_name(PatchStatus status) noexcept;
PatchStatus parse_status(std::string_view name);  // throws invalid

struct SeriesPatch {
  std::string name;      // "modules-party.patch"
  std::string patch_id;  // git patch-id (stable) of the patch, hex
  std::vector<std::string> files;
  PatchStatus status = PatchStatus::applies;
  bool binary = false;
};

struct Series {
  std::filesystem::path folder;
  std::string base;       // "tryton/6.0.29"
  std::string base_tree;  // the standard's tree id, hex
  std::string split;      // "module" or "file"
  std::vector<SeriesPatch> patches;
};

// Reads and validates a series: the folder, the series file, poe.json, and
// that every patch parses and matches its entry (files, patch-id). Throws
// invalid naming what is wrong.
Series read_series(const std::filesystem::path& folder);

enum class Split { module, file };

struct DiffRequest {
  std::string standard;            // "tryton/6.0.29"
  std::filesystem::path tree;      // the customised tree, never written into
  std::filesystem::path output;    // must not exist
  Split split = Split::module;
  TreeOptions tree_options;
  // Folders whose children are modules: a file under modules/party/ goes to
  // the patch "modules-party.patch". Elsewhere the first path component is
  // the module.
  std::vector<std::string> module_roots = {"modules", "addons"};
};

// Writes the series of the differences between the standard and the tree
// into request.output (built aside, then renamed: all or nothing). An empty
// difference gives an empty series. Throws invalid (bad input, existing
// output), not_found (unknown standard).
Series make_series(const Store& store, const DiffRequest& request);

struct ApplyRequest {
  std::filesystem::path series;
  std::string standard;  // empty: the series' base
  // Exactly one: a new folder to create, or a copy of the standard to change.
  std::optional<std::filesystem::path> output;
  std::optional<std::filesystem::path> in_place;
  TreeOptions tree_options;
};

struct ApplyResult {
  std::filesystem::path target;
  std::size_t patches = 0;
  std::size_t files_changed = 0;
};

// Builds standard + series. Atomic: the tree is built in a temporary folder
// beside the target and renamed into place (with --in-place, exchanged with
// the target), so on any failure the target is as it was. Throws invalid
// (bad input, output exists, in-place folder that differs from the standard
// on a touched file), conflict (a patch does not apply exactly).
ApplyResult apply_series(const Store& store, const ApplyRequest& request);

struct Conflict {
  std::string file;
  std::string lines;  // "12-30" in the merged file with conflict markers
};

struct FileCheck {
  std::string file;     // the path in the base
  std::string onto;     // the path in the new version (differs when renamed)
  PatchStatus status = PatchStatus::applies;
  int offset = 0;  // largest hunk offset (status offset)
  int fuzz = 0;    // context lines ignored (only with CheckOptions::fuzz)
};

struct PatchCheck {
  std::string name;
  PatchStatus status = PatchStatus::applies;
  std::vector<std::string> files;
  std::vector<Conflict> conflicts;
  std::vector<FileCheck> details;
  bool upstream_by_patch_id = false;
  int fuzz = 0;
};

struct CheckOptions {
  int fuzz = 0;                    // 0: never
  std::int64_t rename_limit = 100000;
};

struct CheckReport {
  std::string base;
  std::string onto;
  std::vector<PatchCheck> patches;
  bool has_conflict() const;
};

// Validates every patch of the series against the standard `onto`, with
// the series' base as the common ancestor. Reads only.
CheckReport check_series(const Store& store, const std::filesystem::path& series, std::string_view onto,
                         const CheckOptions& options);

struct AdaptRequest {
  std::filesystem::path series;
  std::string onto;
  std::filesystem::path output;   // the new series; must not exist
  std::filesystem::path workdir;  // for conflicts; must not exist; empty: OUTPUT.work
  CheckOptions check;
};

// One line of the range-diff style comparison of the old and new series.
struct SeriesChange {
  std::string name;
  std::string change;  // "same", "changed", "dropped", "new"
  std::string old_patch_id;
  std::string new_patch_id;
};

struct AdaptResult {
  CheckReport check;
  bool complete = false;  // false: conflicts wait in workdir
  std::filesystem::path output;
  std::filesystem::path workdir;
  std::vector<std::string> dropped;          // upstream patches
  std::vector<std::string> conflict_files;   // files to edit, under workdir
  std::vector<SeriesChange> comparison;
};

// Writes the series for `onto`: clean patches regenerated against it,
// upstream ones dropped; when a patch conflicts, writes the merged files
// with conflict markers into the workdir and does not write the output
// until adapt_continue.
AdaptResult adapt_series(const Store& store, const AdaptRequest& request);

// Finishes an adapt whose conflicts were edited in `workdir`: refuses while
// a conflict marker is left, then writes the new series.
AdaptResult adapt_continue(const Store& store, const std::filesystem::path& workdir);

}  // namespace poe
