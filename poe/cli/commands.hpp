// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One function per poe command, each in its own cmd_<verb>.cpp, and what
// they share: where the store is and how a folder is read.

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/cli.hpp"
#include "poe/series.hpp"
#include "poe/store.hpp"

namespace poe::cli {

void add_standard(core::cli::Frame& frame);
void add_diff(core::cli::Frame& frame);
void add_check(core::cli::Frame& frame);
void add_adapt(core::cli::Frame& frame);
void add_apply(core::cli::Frame& frame);
void add_series(core::cli::Frame& frame);

inline std::filesystem::path store_path(core::cli::Frame& frame) {
  const std::string& configured = frame.config().get_string("store.path");
  return configured.empty() ? frame.paths().data("poe") / "store" : std::filesystem::path(configured);
}

// The store for a command that names a standard as its input: a missing
// store means that standard does not exist, which is bad input.
inline Store open_store_for_input(core::cli::Frame& frame, const std::string& standard) {
  const auto path = store_path(frame);
  std::error_code ec;
  if (!std::filesystem::exists(path / "HEAD", ec))
    throw core::Error(core::ErrorKind::invalid, "no standard '" + standard + "' in the store (the store is empty)");
  return Store::open(path, StoreMode::open_existing);
}

inline TreeOptions tree_options(core::cli::Frame& frame) { return {frame.config().get_list("tree.ignore")}; }

inline CheckOptions check_options(core::cli::Frame& frame, int fuzz) {
  return {fuzz, frame.config().get_int("check.rename_limit")};
}

}  // namespace poe::cli
