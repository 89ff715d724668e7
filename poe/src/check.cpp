// SPDX-License-Identifier: GPL-3.0-or-later
// poe check and poe adapt: every patch of a series against a new version,
// with the series' base as the common ancestor of a three-way merge.
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/log.hpp"
#include "core/validate.hpp"
#include "hunks.hpp"
#include "series_impl.hpp"
#include "store_impl.hpp"
#include "tree_io.hpp"

namespace poe {
namespace fs = std::filesystem;

namespace {

struct Side {
  bool present = false;
  git_oid id{};
  git_filemode_t mode = GIT_FILEMODE_BLOB;
};

Side side_of(TreePaths& tree, const std::string& path) {
  Side s;
  s.present = tree.find(path, s.id, &s.mode);
  return s;
}

bool same(const Side& a, const Side& b) {
  return a.present == b.present && (!a.present || git_oid_equal(&a.id, &b.id));
}

bool looks_binary(std::string_view data) { return data.substr(0, 8000).find('\0') != std::string_view::npos; }

// The result for one file of a patch, kept for adapt.
struct FileOutcome {
  FileCheck check;
  bool present = true;  // the file exists after the patch
  std::string content;  // the result (clean) or the merged file with markers (conflict)
  git_filemode_t mode = GIT_FILEMODE_BLOB;
  std::vector<Conflict> conflicts;
};

struct PatchOutcome {
  PatchCheck report;
  std::vector<FileOutcome> files;
};

std::vector<Hunk> hunks_of(git_patch* patch) {
  std::vector<Hunk> hunks;
  for (std::size_t h = 0; h < git_patch_num_hunks(patch); ++h) {
    const git_diff_hunk* header = nullptr;
    std::size_t count = 0;
    git::check(git::call(git_patch_get_hunk, &header, &count, patch, h), "read a hunk");
    Hunk hunk;
    hunk.old_start = header->old_start;
    bool in_leading = true;
    int trailing = 0;
    std::string* last_old = nullptr;
    std::string* last_new = nullptr;
    for (std::size_t l = 0; l < count; ++l) {
      const git_diff_line* line = nullptr;
      git::check(git::call(git_patch_get_line_in_hunk, &line, patch, h, l), "read a hunk line");
      const std::string text(line->content, line->content_len);
      switch (line->origin) {
        case GIT_DIFF_LINE_CONTEXT:
          hunk.old_lines.push_back(text);
          hunk.new_lines.push_back(text);
          last_old = &hunk.old_lines.back();
          last_new = &hunk.new_lines.back();
          if (in_leading) ++hunk.leading_context;
          ++trailing;
          break;
        case GIT_DIFF_LINE_DELETION:
          hunk.old_lines.push_back(text);
          last_old = &hunk.old_lines.back();
          last_new = nullptr;
          in_leading = false;
          trailing = 0;
          break;
        case GIT_DIFF_LINE_ADDITION:
          hunk.new_lines.push_back(text);
          last_new = &hunk.new_lines.back();
          last_old = nullptr;
          in_leading = false;
          trailing = 0;
          break;
        default:  // "\ No newline at end of file" for the line before
          if (line->origin == GIT_DIFF_LINE_CONTEXT_EOFNL || line->origin == GIT_DIFF_LINE_DEL_EOFNL)
            if (last_old && last_old->ends_with('\n')) last_old->pop_back();
          if (line->origin == GIT_DIFF_LINE_CONTEXT_EOFNL || line->origin == GIT_DIFF_LINE_ADD_EOFNL)
            if (last_new && last_new->ends_with('\n')) last_new->pop_back();
          break;
      }
    }
    hunk.trailing_context = in_leading ? 0 : trailing;
    if (in_leading) hunk.leading_context = 0;  // no change at all: nothing to fuzz
    hunks.push_back(std::move(hunk));
  }
  return hunks;
}

class Checker {
 public:
  // `keep_content`: fill FileOutcome::content for every file (adapt writes
  // them); check only reports, and reads a result only to merge it.
  Checker(const Store& store, Scratch& scratch, const Series& series, std::string onto, const CheckOptions& options,
          bool keep_content)
      : scratch_(scratch), series_(series), onto_ref_(std::move(onto)), options_(options), keep_content_(keep_content) {
    // Both standards are read through the scratch repository, which every
    // tree built here belongs to.
    base_ = scratch.tree(*git_tree_id(store.impl().standard_tree(series.base).get()));
    if (git::to_hex(*git_tree_id(base_.get())) != series.base_tree)
      core::fail(core::ErrorKind::invalid, "the standard {} in the store is not the series' base (tree {})", series.base,
                 series.base_tree.substr(0, 12));
    onto_ = scratch.tree(*git_tree_id(store.impl().standard_tree(onto_ref_).get()));
    base_paths_ = std::make_unique<TreePaths>(base_.get());
    onto_paths_ = std::make_unique<TreePaths>(onto_.get());
  }

  const git_tree* onto_tree() const { return onto_.get(); }

  PatchOutcome check(const SeriesPatch& entry) {
    const std::string text = slurp(series_.folder / entry.name);
    git::Diff diff = parse_patch(text, "patch '" + entry.name + "'");
    std::vector<std::string> touched;
    for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
      const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
      touched.push_back(d->old_file.path);
      touched.push_back(d->new_file.path);
    }
    git::Tree base_part = subset_tree(scratch_.repo.get(), *base_paths_, touched);
    git_index* index_raw = nullptr;
    if (const int rc = git::call(git_apply_to_tree, &index_raw, scratch_.repo.get(), base_part.get(), diff.get(), nullptr);
        rc < 0)
      core::fail(core::ErrorKind::invalid, "patch '{}' does not apply to its base {}: {}", entry.name, series_.base,
                 git::last_error(rc));
    git::Index theirs_index(index_raw);

    PatchOutcome outcome;
    outcome.report.name = entry.name;
    outcome.report.files = entry.files;
    for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
      const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
      git_patch* patch_raw = nullptr;
      git::check(git::call(git_patch_from_diff, &patch_raw, diff.get(), i), "read patch " + entry.name);
      git::Patch patch(patch_raw);
      outcome.files.push_back(check_file(entry, delta, patch.get(), theirs_index.get()));
    }

    // Upstream by patch-id: the new version made the same change to these
    // files (nothing to compare when it left them all as they were).
    const bool onto_changed = std::any_of(entry.files.begin(), entry.files.end(), [&](const std::string& file) {
      const Side b = side_of(*base_paths_, file);
      const Side o = side_of(*onto_paths_, file);
      return !same(b, o) || (b.present && b.mode != o.mode);
    });
    std::string upstream_text;
    if (onto_changed) {
      const git::Tree onto_part = subset_tree(scratch_.repo.get(), *onto_paths_, entry.files);
      upstream_text = render_one(scratch_.repo.get(), base_part.get(), onto_part.get(), entry.files);
    }
    if (!upstream_text.empty()) {
      git_diff* up_raw = nullptr;
      if (git_diff_from_buffer(&up_raw, upstream_text.data(), upstream_text.size()) == 0) {
        git::Diff up(up_raw);
        outcome.report.upstream_by_patch_id = patch_id_of(up.get()) == entry.patch_id;
      }
    }

    bool all_upstream = !outcome.files.empty();
    PatchStatus worst = PatchStatus::applies;
    for (const auto& f : outcome.files) {
      outcome.report.details.push_back(f.check);
      outcome.report.conflicts.insert(outcome.report.conflicts.end(), f.conflicts.begin(), f.conflicts.end());
      outcome.report.fuzz = std::max(outcome.report.fuzz, f.check.fuzz);
      const PatchStatus s = f.check.status == PatchStatus::upstream ? PatchStatus::merges : f.check.status;
      if (f.check.status != PatchStatus::upstream) all_upstream = false;
      worst = std::max(worst, s);
    }
    outcome.report.status = (all_upstream || outcome.report.upstream_by_patch_id) ? PatchStatus::upstream : worst;
    return outcome;
  }

 private:
  // Where a file of the base went in the new version: its own path, the
  // path it was renamed to, or "" when it is gone.
  std::string follow(const std::string& path) {
    if (!renames_ready_) {
      git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
      git_diff* raw = nullptr;
      git::check(git::call(git_diff_tree_to_tree, &raw, scratch_.repo.get(), base_.get(), onto_.get(), &opts),
                 "compare " + series_.base + " and " + onto_ref_);
      git::Diff diff(raw);
      git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
      find.flags = GIT_DIFF_FIND_RENAMES;
      find.rename_limit = static_cast<std::size_t>(options_.rename_limit);
      git::check(git::call(git_diff_find_similar, diff.get(), &find), "find renamed files");
      for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
        const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
        if (d->status == GIT_DELTA_RENAMED) renames_[d->old_file.path] = d->new_file.path;
      }
      renames_ready_ = true;
    }
    const auto it = renames_.find(path);
    return it == renames_.end() ? std::string() : it->second;
  }

  FileOutcome check_file(const SeriesPatch& entry, const git_diff_delta* delta, git_patch* patch, git_index* theirs_index) {
    FileOutcome out;
    const std::string base_path = delta->old_file.path;
    const std::string path = delta->status == GIT_DELTA_DELETED ? base_path : std::string(delta->new_file.path);
    out.check.file = path;
    const Side base = delta->status == GIT_DELTA_ADDED ? Side{} : side_of(*base_paths_, base_path);
    Side theirs;
    if (delta->status != GIT_DELTA_DELETED) {
      const git_index_entry* e = git_index_get_bypath(theirs_index, path.c_str(), 0);
      if (!e) core::fail(core::ErrorKind::internal, "patch '{}': no result for {}", entry.name, path);
      theirs.present = true;
      theirs.id = e->id;
      theirs.mode = static_cast<git_filemode_t>(e->mode);
    }
    std::string onto_path = path;
    Side ours = side_of(*onto_paths_, path);
    if (!ours.present && base.present) {
      const std::string renamed = follow(base_path);
      if (!renamed.empty()) {
        onto_path = renamed;
        ours = side_of(*onto_paths_, renamed);
      }
    }
    out.check.onto = onto_path;
    out.present = theirs.present;
    out.mode = theirs.present ? theirs.mode : GIT_FILEMODE_BLOB;
    git_repository* repo = scratch_.repo.get();
    const auto set = [&](PatchStatus status) { out.check.status = status; };

    if (same(theirs, ours)) {  // the new version holds the patched file already
      set(PatchStatus::upstream);
      out.content = theirs.present && keep_content_ ? read_blob(repo, theirs.id) : std::string();
      return out;
    }
    if (base.present && !ours.present) {  // gone upstream, not renamed
      set(PatchStatus::removed);
      out.content = theirs.present && keep_content_ ? read_blob(repo, theirs.id) : std::string();
      out.conflicts.push_back({path, "removed upstream"});
      return out;
    }
    if (same(base, ours)) {  // untouched upstream: the patched file as it is
      set(PatchStatus::applies);
      out.content = theirs.present && keep_content_ ? read_blob(repo, theirs.id) : std::string();
      return out;
    }
    const std::string ours_text = ours.present ? read_blob(repo, ours.id) : std::string();
    if (!theirs.present) {  // the patch deletes a file the new version changed
      set(PatchStatus::conflict);
      out.content = "<<<<<<< " + onto_ref_ + "\n" + ours_text + (ours_text.ends_with('\n') || ours_text.empty() ? "" : "\n") +
                    "=======\n>>>>>>> " + entry.name + " (deletes this file)\n";
      out.conflicts.push_back({onto_path, "deleted by the patch, changed upstream"});
      return out;
    }
    const std::string base_text = base.present ? read_blob(repo, base.id) : std::string();
    const std::string theirs_text = read_blob(repo, theirs.id);
    if ((delta->flags & GIT_DIFF_FLAG_BINARY) || looks_binary(ours_text) || looks_binary(theirs_text) ||
        looks_binary(base_text)) {
      set(PatchStatus::conflict);
      out.content = theirs_text;
      out.conflicts.push_back({onto_path, "binary"});
      return out;
    }
    if (base.present) {
      const std::vector<Hunk> hunks = hunks_of(patch);
      for (int fuzz = 0; fuzz <= options_.fuzz; ++fuzz) {
        Placement placement = place_hunks(ours_text, hunks, fuzz);
        if (!placement.placed) continue;
        out.check.offset = placement.max_offset;
        out.check.fuzz = placement.fuzz;
        set(placement.max_offset == 0 && placement.fuzz == 0 ? PatchStatus::applies : PatchStatus::offset);
        out.content = std::move(placement.result);
        return out;
      }
    }
    // Three-way merge: base = the old standard, ours = the new, theirs = patched.
    git_merge_file_input in_base = GIT_MERGE_FILE_INPUT_INIT, in_ours = GIT_MERGE_FILE_INPUT_INIT,
                         in_theirs = GIT_MERGE_FILE_INPUT_INIT;
    in_base.ptr = base_text.data();
    in_base.size = base_text.size();
    in_base.path = base_path.c_str();
    in_ours.ptr = ours_text.data();
    in_ours.size = ours_text.size();
    in_ours.path = onto_path.c_str();
    in_theirs.ptr = theirs_text.data();
    in_theirs.size = theirs_text.size();
    in_theirs.path = path.c_str();
    git_merge_file_options opts = GIT_MERGE_FILE_OPTIONS_INIT;
    opts.ancestor_label = series_.base.c_str();
    opts.our_label = onto_ref_.c_str();
    opts.their_label = entry.name.c_str();
    git::MergeFileResult merged;
    git::check(git::call(git_merge_file, &merged.result, &in_base, &in_ours, &in_theirs, &opts), "merge " + path);
    out.content.assign(merged.result.ptr ? merged.result.ptr : "", merged.result.len);
    if (merged.result.automergeable) {
      set(out.content == ours_text ? PatchStatus::upstream : PatchStatus::merges);
      return out;
    }
    set(PatchStatus::conflict);
    for (const auto& range : conflict_ranges(out.content)) out.conflicts.push_back({onto_path, range});
    return out;
  }

  Scratch& scratch_;
  const Series& series_;
  std::string onto_ref_;
  CheckOptions options_;
  bool keep_content_;
  git::Tree base_;
  git::Tree onto_;
  std::unique_ptr<TreePaths> base_paths_;
  std::unique_ptr<TreePaths> onto_paths_;
  std::map<std::string, std::string> renames_;
  bool renames_ready_ = false;
};

// The new version with the files of one adapted patch, as a tree.
git::Tree updated_tree(Scratch& scratch, const git_tree* onto,
                       const std::vector<std::tuple<std::string, bool, std::string, git_filemode_t>>& files) {
  std::vector<git_tree_update> updates;
  std::set<std::string_view> seen;
  for (const auto& [path, present, content, mode] : files) {
    // Two files of a patch that end at one path (one followed a rename onto
    // the other) cannot both be written there.
    if (!seen.insert(path).second)
      core::fail(core::ErrorKind::conflict, "two files of one patch become {} in the new version", path);
    git_tree_update u{};
    u.path = path.c_str();
    if (present) {
      git::check(git::call(git_blob_create_from_buffer, &u.id, scratch.repo.get(), content.data(), content.size()),
                 "write " + path);
      u.action = GIT_TREE_UPDATE_UPSERT;
      u.filemode = mode == GIT_FILEMODE_BLOB_EXECUTABLE || mode == GIT_FILEMODE_LINK ? mode : GIT_FILEMODE_BLOB;
    } else {
      git_oid unused{};
      if (!tree_entry_id(onto, path, unused)) continue;
      u.action = GIT_TREE_UPDATE_REMOVE;
    }
    updates.push_back(u);
  }
  git_oid id{};
  git::check(git::call(git_tree_create_updated, &id, scratch.repo.get(), const_cast<git_tree*>(onto), updates.size(),
                       updates.data()),
             "build the adapted tree");
  return scratch.tree(id);
}

std::vector<SeriesChange> compare(const Series& old_series, const std::vector<PatchText>& patches) {
  std::vector<SeriesChange> out;
  std::set<std::string> old_names;
  for (const auto& p : old_series.patches) {
    old_names.insert(p.name);
    const auto it = std::find_if(patches.begin(), patches.end(), [&](const PatchText& n) { return n.name == p.name; });
    if (it == patches.end())
      out.push_back({p.name, "dropped", p.patch_id, ""});
    else
      out.push_back({p.name, it->patch_id == p.patch_id ? "same" : "changed", p.patch_id, it->patch_id});
  }
  for (const auto& n : patches)
    if (!old_names.contains(n.name)) out.push_back({n.name, "new", "", n.patch_id});
  return out;
}

Split split_of(const std::string& name) { return name == "file" ? Split::file : Split::module; }

}  // namespace

CheckReport check_series(const Store& store, const fs::path& series_folder, std::string_view onto,
                         const CheckOptions& options) {
  const Series series = read_series(series_folder);
  Scratch scratch(store);
  Checker checker(store, scratch, series, std::string(onto), options, false);
  CheckReport report{series.base, std::string(onto), {}};
  for (const auto& entry : series.patches) report.patches.push_back(checker.check(entry).report);
  return report;
}

AdaptResult adapt_series(const Store& store, const AdaptRequest& request) {
  const Series series = read_series(request.series);
  require_absent(request.output, "output folder");
  const fs::path output = fs::absolute(request.output).lexically_normal();
  const fs::path workdir = request.workdir.empty() ? fs::path(output.string() + ".work")
                                                   : fs::absolute(request.workdir).lexically_normal();
  require_absent(workdir, "work folder");
  Scratch scratch(store);
  Checker checker(store, scratch, series, request.onto, request.check, true);
  const std::string onto_tree = git::to_hex(*git_tree_id(checker.onto_tree()));

  AdaptResult result;
  result.output = output;
  result.workdir = workdir;
  result.check = {series.base, request.onto, {}};
  std::vector<PatchText> clean;
  nlohmann::json state_patches = nlohmann::json::array();
  std::vector<std::pair<std::string, std::vector<FileOutcome>>> to_edit;
  for (const auto& entry : series.patches) {
    PatchOutcome outcome = checker.check(entry);
    result.check.patches.push_back(outcome.report);
    const PatchStatus status = outcome.report.status;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : outcome.files) files.push_back(f.check.onto);
    if (status == PatchStatus::upstream) {
      result.dropped.push_back(entry.name);
      state_patches.push_back({{"name", entry.name}, {"state", "dropped"}, {"files", files}});
      continue;
    }
    if (status == PatchStatus::conflict || status == PatchStatus::removed) {
      for (const auto& f : outcome.files)
        if (f.check.status == PatchStatus::conflict || f.check.status == PatchStatus::removed)
          result.conflict_files.push_back((workdir / "files" / entry.name / f.check.onto).string());
      state_patches.push_back({{"name", entry.name}, {"state", "edit"}, {"files", files}});
      to_edit.emplace_back(entry.name, std::move(outcome.files));
      continue;
    }
    std::vector<std::tuple<std::string, bool, std::string, git_filemode_t>> updates;
    std::vector<std::string> paths;
    for (const auto& f : outcome.files) {
      updates.emplace_back(f.check.onto, f.present, f.content, f.mode);
      paths.push_back(f.check.onto);
    }
    git::Tree adapted = updated_tree(scratch, checker.onto_tree(), updates);
    PatchText text;
    text.name = entry.name;
    text.text = render_one(scratch.repo.get(), checker.onto_tree(), adapted.get(), paths);
    if (text.text.empty()) {
      result.dropped.push_back(entry.name);
      state_patches.push_back({{"name", entry.name}, {"state", "dropped"}, {"files", files}});
      continue;
    }
    describe(text);
    state_patches.push_back({{"name", entry.name}, {"state", "clean"}, {"files", files}});
    clean.push_back(std::move(text));
  }

  if (to_edit.empty()) {
    write_series(output, request.onto, onto_tree, split_of(series.split), clean);
    result.complete = true;
    result.comparison = compare(series, clean);
    return result;
  }

  // Conflicts: the work folder gets every file of those patches (merged with
  // markers where they conflict) and the clean patches, for adapt --continue.
  std::error_code ec;
  fs::create_directories(workdir / "patches", ec);
  if (ec) core::fail(core::ErrorKind::io, "create {}: {}", workdir.string(), ec.message());
  for (const auto& p : clean) spit(workdir / "patches" / p.name, p.text);
  for (const auto& [name, files] : to_edit)
    for (const auto& f : files) {
      if (!f.present && f.check.status != PatchStatus::conflict) continue;  // deleted by the patch
      const fs::path file = workdir / "files" / name / f.check.onto;
      fs::create_directories(file.parent_path());
      spit(file, f.content);
    }
  const nlohmann::json state{{"version", 1},         {"series", series.folder.string()}, {"base", series.base},
                             {"onto", request.onto}, {"onto_tree", onto_tree},          {"split", series.split},
                             {"output", output.string()}, {"patches", state_patches}};
  spit(workdir / "adapt.json", state.dump(2) + "\n");
  result.complete = false;
  return result;
}

AdaptResult adapt_continue(const Store& store, const fs::path& workdir_in) {
  const fs::path workdir = fs::absolute(workdir_in).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(workdir / "adapt.json", ec))
    core::fail(core::ErrorKind::invalid, "'{}' is not an adapt work folder (no adapt.json)",
               core::escape_for_display(workdir.string(), 200));
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(slurp(workdir / "adapt.json"));
  } catch (const nlohmann::json::exception& e) {
    core::fail(core::ErrorKind::invalid, "{}/adapt.json: {}", workdir.string(), e.what());
  }
  const Series old_series = read_series(state.at("series").get<std::string>());
  const std::string onto = state.at("onto").get<std::string>();
  const fs::path output = state.at("output").get<std::string>();
  require_absent(output, "output folder");
  Scratch scratch(store);
  git::Tree onto_tree = scratch.tree(*git_tree_id(store.impl().standard_tree(onto).get()));
  if (git::to_hex(*git_tree_id(onto_tree.get())) != state.at("onto_tree").get<std::string>())
    core::fail(core::ErrorKind::invalid, "the standard {} changed since adapt started", onto);

  AdaptResult result;
  result.output = output;
  result.workdir = workdir;
  result.check = {old_series.base, onto, {}};
  std::vector<PatchText> patches;
  for (const auto& p : state.at("patches")) {
    const std::string name = p.at("name").get<std::string>();
    const std::string s = p.at("state").get<std::string>();
    if (!core::is_safe_name(name)) core::fail(core::ErrorKind::invalid, "bad patch name in adapt.json");
    if (s == "dropped") {
      result.dropped.push_back(name);
      continue;
    }
    PatchText text;
    text.name = name;
    if (s == "clean") {
      text.text = slurp(workdir / "patches" / name);
    } else {
      const fs::path folder = workdir / "files" / name;
      std::set<std::string> paths;
      for (const auto& f : p.at("files")) paths.insert(f.get<std::string>());
      if (fs::is_directory(folder, ec))
        for (const auto& e : fs::recursive_directory_iterator(folder))
          if (e.is_regular_file()) paths.insert(fs::relative(e.path(), folder).string());
      std::vector<std::tuple<std::string, bool, std::string, git_filemode_t>> updates;
      for (const auto& path : paths) {
        const fs::path file = folder / path;
        const bool present = fs::is_regular_file(file, ec);
        std::string content = present ? slurp(file) : std::string();
        if (present && has_conflict_markers(content)) {
          result.conflict_files.push_back(file.string());
          continue;
        }
        git_oid id{};
        git_filemode_t mode = GIT_FILEMODE_BLOB;
        tree_entry_id(onto_tree.get(), path, id, &mode);
        updates.emplace_back(path, present, std::move(content), mode);
      }
      if (!result.conflict_files.empty()) continue;
      git::Tree adapted = updated_tree(scratch, onto_tree.get(), updates);
      text.text = render_one(scratch.repo.get(), onto_tree.get(), adapted.get(),
                             std::vector<std::string>(paths.begin(), paths.end()));
      if (text.text.empty()) {
        result.dropped.push_back(name);
        continue;
      }
    }
    describe(text);
    patches.push_back(std::move(text));
  }
  if (!result.conflict_files.empty())
    core::fail(core::ErrorKind::conflict, "conflict markers left in {} (and {} more)", result.conflict_files.front(),
               result.conflict_files.size() - 1);
  write_series(output, onto, git::to_hex(*git_tree_id(onto_tree.get())), split_of(state.at("split").get<std::string>()),
               patches);
  result.complete = true;
  result.comparison = compare(old_series, patches);
  fs::remove_all(workdir, ec);
  return result;
}

}  // namespace poe
