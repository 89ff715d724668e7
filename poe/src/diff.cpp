// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/log.hpp"
#include "series_impl.hpp"
#include "store_impl.hpp"
#include "tree_io.hpp"

namespace poe {

Series make_series(const Store& store, const DiffRequest& request) {
  require_absent(request.output, "output folder");
  Scratch scratch(store);
  git::Tree base = scratch.tree(*git_tree_id(store.impl().standard_tree(request.standard).get()));
  ScanStats stats;
  // The customised tree's objects go to memory only: diff never adds to the
  // store. Its files equal to the standard's are not looked up there again.
  const git_oid custom_id =
      write_tree_from_folder(scratch.repo.get(), request.tree, request.tree_options, stats, base.get());
  git::Tree custom = scratch.tree(custom_id);
  // libgit2's diff walks both whole trees: give it only the files that differ.
  const std::vector<std::string> changed = changed_paths(scratch.repo.get(), base.get(), custom.get());
  TreePaths base_paths(base.get());
  TreePaths custom_paths(custom.get());
  const git::Tree base_part = subset_tree(scratch.repo.get(), base_paths, changed);
  const git::Tree custom_part = subset_tree(scratch.repo.get(), custom_paths, changed);
  RenderOptions options;
  options.split = request.split;
  options.module_roots = request.module_roots;
  std::vector<PatchText> patches = render_patches(scratch.repo.get(), base_part.get(), custom_part.get(), options);
  core::logger("poe")->info("{} differs from {} in {} patches", request.tree.string(), request.standard, patches.size());
  return write_series(request.output, request.standard, git::to_hex(*git_tree_id(base.get())), request.split, patches);
}

}  // namespace poe
