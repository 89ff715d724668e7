// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private to libpoe: what the series operations need from the store.

#include <filesystem>
#include <string>
#include <string_view>

#include "git.hpp"
#include "poe/store.hpp"

namespace poe {

struct Store::Impl {
  std::filesystem::path path;
  git::Repository repo;

  // The tree of a standard; throws invalid (bad ref) or not_found.
  git::Tree standard_tree(std::string_view ref) const;
};

// A second handle on the store whose new objects go to memory (libgit2's
// mempack backend) and are dropped with it: diff, check and apply read the
// standards but never add objects to the store.
struct Scratch {
  git::Repository repo;
  explicit Scratch(const Store& store);
  git::Tree tree(const git_oid& id) const;
};

// The tag name of a ref ("refs/tags/tryton/6.0.29"); validates the ref.
std::string tag_name(std::string_view ref);

}  // namespace poe
