// SPDX-License-Identifier: GPL-3.0-or-later
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.hpp"
#include "core/validate.hpp"
#include "series_impl.hpp"
#include "store_impl.hpp"
#include "tree_io.hpp"

namespace poe {
namespace fs = std::filesystem;

namespace {

fs::path make_temp_beside(const fs::path& target) {
  std::string tmpl = (target.parent_path() / ("." + target.filename().string() + ".poe-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) core::fail_errno(core::ErrorKind::io, "create a folder beside " + target.string(), errno);
  ::chmod(tmpl.c_str(), 0755);
  return tmpl;
}

// A copy of `from` at `to` made of hard links (folders and links recreated):
// files that change are replaced, never written into, so `from` is untouched.
void link_copy(const fs::path& from, const fs::path& to) {
  for (const auto& entry : fs::directory_iterator(from)) {
    const fs::path target = to / entry.path().filename();
    const auto status = entry.symlink_status();
    if (fs::is_symlink(status)) {
      fs::copy_symlink(entry.path(), target);
    } else if (fs::is_directory(status)) {
      fs::create_directory(target, entry.path());
      link_copy(entry.path(), target);
    } else {
      fs::create_hard_link(entry.path(), target);
    }
  }
}

struct FileFromTree {
  bool present = false;
  git_oid id{};
  git_filemode_t mode{};
};

FileFromTree lookup(const git_tree* tree, const std::string& path) {
  FileFromTree f;
  f.present = tree_entry_id(tree, path, f.id, &f.mode);
  return f;
}

// The id of the file at `path` on disk, hashed as a blob (or link).
bool disk_id(const fs::path& path, git_oid& id) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (status.type() == fs::file_type::not_found) return false;
  if (fs::is_symlink(status)) {
    const std::string target = fs::read_symlink(path).string();
    git::check(git::call(git_odb_hash, &id, target.data(), target.size(), GIT_OBJECT_BLOB), "hash " + path.string());
    return true;
  }
  const std::string data = slurp(path);
  git::check(git::call(git_odb_hash, &id, data.data(), data.size(), GIT_OBJECT_BLOB), "hash " + path.string());
  return true;
}

}  // namespace

ApplyResult apply_series(const Store& store, const ApplyRequest& request) {
  if (request.output.has_value() == request.in_place.has_value())
    core::fail(core::ErrorKind::invalid, "give exactly one of --output and --in-place");
  const Series series = read_series(request.series);
  const std::string standard = request.standard.empty() ? series.base : request.standard;
  fs::path target;
  std::error_code ec;
  if (request.output) {
    require_absent(*request.output, "output folder");
    target = fs::absolute(*request.output).lexically_normal();
    if (!fs::is_directory(target.parent_path(), ec))
      core::fail(core::ErrorKind::invalid, "the folder of '{}' does not exist", core::escape_for_display(target.string(), 200));
  } else {
    target = fs::absolute(*request.in_place).lexically_normal();
    if (!fs::is_directory(fs::symlink_status(target, ec)))
      core::fail(core::ErrorKind::invalid, "'{}' is not a folder", core::escape_for_display(target.string(), 200));
  }

  Scratch scratch(store);
  git::Tree base = store.impl().standard_tree(standard);
  git::Tree current = scratch.tree(*git_tree_id(base.get()));
  for (const auto& entry : series.patches) {
    git::Diff diff = parse_patch(slurp(series.folder / entry.name), entry.name);
    git_index* index_raw = nullptr;
    if (const int rc = git::call(git_apply_to_tree, &index_raw, scratch.repo.get(), current.get(), diff.get(), nullptr);
        rc < 0)
      core::fail(core::ErrorKind::conflict, "patch '{}' does not apply to {}: {}", entry.name, standard,
                 git::last_error(rc));
    git::Index index(index_raw);
    git_oid id{};
    git::check(git::call(git_index_write_tree_to, &id, index.get(), scratch.repo.get()), "write the patched tree");
    current = scratch.tree(id);
  }

  ApplyResult result{target, series.patches.size(), 0};
  if (request.output) {
    const fs::path tmp = make_temp_beside(target);
    try {
      write_folder_from_tree(scratch.repo.get(), current.get(), tmp);
      for (const auto& p : series.patches) result.files_changed += p.files.size();
      if (::rename(tmp.c_str(), target.c_str()) < 0)
        core::fail_errno(core::ErrorKind::io, "rename to " + target.string(), errno);
    } catch (...) {
      fs::remove_all(tmp, ec);
      throw;
    }
    return result;
  }

  // In place: every touched file must be the standard's, then a hard-linked
  // copy is changed and exchanged with the target in one rename.
  std::vector<std::string> touched;
  for (const auto& p : series.patches) touched.insert(touched.end(), p.files.begin(), p.files.end());
  for (const auto& path : touched) {
    const FileFromTree want = lookup(base.get(), path);
    git_oid have{};
    const bool present = disk_id(target / path, have);
    if (present != want.present || (present && !git_oid_equal(&have, &want.id)))
      core::fail(core::ErrorKind::invalid, "'{}' in {} is not the standard {}'s", core::escape_for_display(path, 200),
                 target.string(), standard);
  }
  const fs::path tmp = make_temp_beside(target);
  try {
    link_copy(target, tmp);
    for (const auto& path : touched) {
      const fs::path file = tmp / path;
      fs::remove(file, ec);
      const FileFromTree now = lookup(current.get(), path);
      if (!now.present) continue;
      fs::create_directories(file.parent_path());
      if (now.mode == GIT_FILEMODE_LINK) {
        fs::create_symlink(read_blob(scratch.repo.get(), now.id), file);
      } else {
        spit(file, read_blob(scratch.repo.get(), now.id));
        fs::permissions(file, now.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? fs::perms(0755) : fs::perms(0644));
      }
      ++result.files_changed;
    }
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) < 0)
      core::fail_errno(core::ErrorKind::io, "exchange " + target.string(), errno);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::remove_all(tmp, ec);  // the old tree, now at tmp
  if (ec) core::logger("poe")->warn("could not remove the old tree {}: {}", tmp.string(), ec.message());
  return result;
}

}  // namespace poe
