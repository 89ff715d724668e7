// SPDX-License-Identifier: GPL-3.0-or-later
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/validate.hpp"
#include "series_impl.hpp"

namespace poe {
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 6> status_names = {"applies", "offset", "upstream", "merges", "removed", "conflict"};

std::string module_of(const std::string& path, const RenderOptions& options) {
  if (options.split == Split::file) return path;
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() >= 3 &&
      std::find(options.module_roots.begin(), options.module_roots.end(), parts[0]) != options.module_roots.end())
    return parts[0] + "/" + parts[1];
  if (parts.size() >= 2) return parts[0];
  return "";  // files at the top of the tree
}

std::string patch_name_of(const std::string& key) {
  if (key.empty()) return "top.patch";
  std::string name = key;
  std::replace(name.begin(), name.end(), '/', '-');
  if (name.front() == '-' || name.front() == '.') name.insert(name.begin(), '_');
  if (name.size() > 200) name.resize(200);
  return name + ".patch";
}

git_diff_options diff_options(const std::vector<std::string>& paths, std::vector<char*>& storage) {
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  options.flags = GIT_DIFF_SHOW_BINARY;
  options.id_abbrev = GIT_OID_HEXSZ;
  options.context_lines = 3;
  if (!paths.empty()) {
    for (const auto& p : paths) storage.push_back(const_cast<char*>(p.c_str()));
    options.pathspec.strings = storage.data();
    options.pathspec.count = storage.size();
    options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
  }
  return options;
}

}  // namespace

std::string_view status_name(PatchStatus status) noexcept { return status_names[static_cast<std::size_t>(status)]; }

PatchStatus parse_status(std::string_view name) {
  for (std::size_t i = 0; i < status_names.size(); ++i)
    if (status_names[i] == name) return static_cast<PatchStatus>(i);
  core::fail(core::ErrorKind::invalid, "unknown patch status '{}'", core::escape_for_display(name));
}

bool CheckReport::has_conflict() const {
  return std::any_of(patches.begin(), patches.end(), [](const PatchCheck& p) { return p.status == PatchStatus::conflict; });
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) core::fail(core::ErrorKind::io, "cannot read {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void spit(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) core::fail(core::ErrorKind::io, "cannot write {}", path.string());
}

void require_absent(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (fs::symlink_status(path, ec).type() != fs::file_type::not_found)
    core::fail(core::ErrorKind::invalid, "{} '{}' exists already", what, core::escape_for_display(path.string(), 200));
}

git::Diff parse_patch(std::string_view text, std::string_view what) {
  git::init();
  git_diff* raw = nullptr;
  if (const int rc = git::call(git_diff_from_buffer, &raw, text.data(), text.size()); rc < 0)
    core::fail(core::ErrorKind::invalid, "{} is not a valid patch: {}", what, git::last_error(rc));
  git::Diff diff(raw);
  if (git_diff_num_deltas(diff.get()) == 0) core::fail(core::ErrorKind::invalid, "{} holds no change", what);
  // Parse every patch now so a truncated hunk is reported here.
  for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    git_patch* patch_raw = nullptr;
    if (const int rc = git::call(git_patch_from_diff, &patch_raw, diff.get(), i); rc < 0)
      core::fail(core::ErrorKind::invalid, "{} is not a valid patch: {}", what, git::last_error(rc));
    git::Patch patch(patch_raw);
  }
  return diff;
}

std::string patch_id_of(git_diff* diff) {
  git_oid id{};
  git::check(git::call(git_diff_patchid, &id, diff, nullptr), "compute a patch-id");
  return git::to_hex(id);
}

std::vector<std::string> files_of(git_diff* diff) {
  std::vector<std::string> files;
  for (std::size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(diff, i);
    files.push_back(delta->status == GIT_DELTA_DELETED ? delta->old_file.path : delta->new_file.path);
  }
  return files;
}

bool has_binary(git_diff* diff) {
  for (std::size_t i = 0; i < git_diff_num_deltas(diff); ++i)
    if (git_diff_get_delta(diff, i)->flags & GIT_DIFF_FLAG_BINARY) return true;
  return false;
}

void describe(PatchText& patch) {
  git::Diff diff = parse_patch(patch.text, patch.name);
  patch.files = files_of(diff.get());
  patch.patch_id = patch_id_of(diff.get());
  patch.binary = has_binary(diff.get());
}

std::vector<PatchText> render_patches(git_repository* repo, const git_tree* a, const git_tree* b,
                                      const RenderOptions& options) {
  std::vector<char*> storage;
  git_diff_options diff_opts = diff_options(options.paths, storage);
  git_diff* raw = nullptr;
  git::check(git::call(git_diff_tree_to_tree, &raw, repo, const_cast<git_tree*>(a), const_cast<git_tree*>(b), &diff_opts),
             "compare the trees");
  git::Diff diff(raw);
  std::map<std::string, PatchText> groups;
  for (std::size_t i = 0; i < git_diff_num_deltas(diff.get()); ++i) {
    git_patch* patch_raw = nullptr;
    git::check(git::call(git_patch_from_diff, &patch_raw, diff.get(), i), "render a patch");
    git::Patch patch(patch_raw);
    git::Buf buf;
    git::check(git::call(git_patch_to_buf, &buf.buf, patch.get()), "render a patch");
    const git_diff_delta* delta = git_diff_get_delta(diff.get(), i);
    const std::string path = delta->status == GIT_DELTA_DELETED ? delta->old_file.path : delta->new_file.path;
    PatchText& group = groups[module_of(path, options)];
    group.text.append(buf.view());
  }
  std::vector<PatchText> out;
  std::set<std::string> names;
  for (auto& [key, group] : groups) {
    std::string name = patch_name_of(key);
    for (int n = 2; names.contains(name); ++n) name = patch_name_of(key + "-" + std::to_string(n));
    names.insert(name);
    group.name = name;
    describe(group);
    out.push_back(std::move(group));
  }
  return out;
}

std::string render_one(git_repository* repo, const git_tree* a, const git_tree* b, const std::vector<std::string>& paths) {
  std::vector<char*> storage;
  git_diff_options diff_opts = diff_options(paths, storage);
  git_diff* raw = nullptr;
  git::check(git::call(git_diff_tree_to_tree, &raw, repo, const_cast<git_tree*>(a), const_cast<git_tree*>(b), &diff_opts),
             "compare the trees");
  git::Diff diff(raw);
  git::Buf buf;
  git::check(git::call(git_diff_to_buf, &buf.buf, diff.get(), GIT_DIFF_FORMAT_PATCH), "render a patch");
  return std::string(buf.view());
}

Series write_series(const fs::path& output, const std::string& base, const std::string& base_tree, Split split,
                    const std::vector<PatchText>& patches) {
  require_absent(output, "output folder");
  const fs::path target = fs::absolute(output).lexically_normal();
  const fs::path parent = target.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    core::fail(core::ErrorKind::invalid, "the folder of '{}' does not exist", core::escape_for_display(target.string(), 200));
  std::string tmpl = (parent / ("." + target.filename().string() + ".poe-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) core::fail_errno(core::ErrorKind::io, "create a folder beside " + target.string(), errno);
  const fs::path tmp = tmpl;
  try {
    Series series{target, base, base_tree, split == Split::module ? "module" : "file", {}};
    std::string order;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : patches) {
      spit(tmp / p.name, p.text);
      order += p.name + "\n";
      list.push_back({{"name", p.name},
                      {"patch_id", p.patch_id},
                      {"files", p.files},
                      {"status", status_name(p.status)},
                      {"binary", p.binary}});
      series.patches.push_back({p.name, p.patch_id, p.files, p.status, p.binary});
    }
    spit(tmp / "series", order);
    const nlohmann::json doc{{"version", 1}, {"base", base}, {"base_tree", base_tree}, {"split", series.split},
                             {"patches", list}};
    spit(tmp / "poe.json", doc.dump(2) + "\n");
    ::chmod(tmp.c_str(), 0755);
    if (::rename(tmp.c_str(), target.c_str()) < 0) core::fail_errno(core::ErrorKind::io, "rename to " + target.string(), errno);
    return series;
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

Series read_series(const fs::path& folder) {
  const std::string shown = core::escape_for_display(folder.string(), 200);
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) core::fail(core::ErrorKind::invalid, "series '{}' is not a folder", shown);
  if (!fs::is_regular_file(folder / "series", ec)) core::fail(core::ErrorKind::invalid, "series '{}' has no series file", shown);
  if (!fs::is_regular_file(folder / "poe.json", ec)) core::fail(core::ErrorKind::invalid, "series '{}' has no poe.json", shown);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(slurp(folder / "poe.json"));
  } catch (const nlohmann::json::exception& e) {
    core::fail(core::ErrorKind::invalid, "{}/poe.json: {}", shown, e.what());
  }
  Series series;
  series.folder = fs::absolute(folder).lexically_normal();
  try {
    if (doc.at("version").get<int>() != 1) core::fail(core::ErrorKind::invalid, "{}/poe.json: unknown version", shown);
    series.base = doc.at("base").get<std::string>();
    series.base_tree = doc.at("base_tree").get<std::string>();
    series.split = doc.at("split").get<std::string>();
    for (const auto& p : doc.at("patches")) {
      SeriesPatch patch;
      patch.name = p.at("name").get<std::string>();
      patch.patch_id = p.at("patch_id").get<std::string>();
      patch.files = p.at("files").get<std::vector<std::string>>();
      patch.status = parse_status(p.at("status").get<std::string>());
      patch.binary = p.at("binary").get<bool>();
      series.patches.push_back(std::move(patch));
    }
  } catch (const nlohmann::json::exception& e) {
    core::fail(core::ErrorKind::invalid, "{}/poe.json does not describe a series: {}", shown, e.what());
  }
  core::validate_software_ref(series.base, "base standard in poe.json");
  git::from_hex(series.base_tree);
  if (series.split != "module" && series.split != "file")
    core::fail(core::ErrorKind::invalid, "{}/poe.json: unknown split '{}'", shown, core::escape_for_display(series.split));

  std::vector<std::string> order;
  std::istringstream lines(slurp(folder / "series"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#') continue;
    order.push_back(line);
  }
  if (order.size() != series.patches.size())
    core::fail(core::ErrorKind::invalid, "{}: the series file names {} patches, poe.json {}", shown, order.size(),
               series.patches.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& entry = series.patches[i];
    if (order[i] != entry.name)
      core::fail(core::ErrorKind::invalid, "{}: patch {} is '{}' in the series file but '{}' in poe.json", shown, i + 1,
                 core::escape_for_display(order[i]), core::escape_for_display(entry.name));
    if (!core::is_safe_name(entry.name) || !entry.name.ends_with(".patch"))
      core::fail(core::ErrorKind::invalid, "{}: bad patch name '{}'", shown, core::escape_for_display(entry.name));
    const fs::path file = folder / entry.name;
    if (!fs::is_regular_file(file, ec))
      core::fail(core::ErrorKind::invalid, "{}: patch '{}' is missing", shown, entry.name);
    const std::string text = slurp(file);
    git::Diff diff = parse_patch(text, "patch '" + entry.name + "'");
    if (files_of(diff.get()) != entry.files)
      core::fail(core::ErrorKind::invalid, "{}: patch '{}' touches other files than poe.json says", shown, entry.name);
    if (patch_id_of(diff.get()) != entry.patch_id)
      core::fail(core::ErrorKind::invalid, "{}: patch '{}' does not match its patch-id in poe.json (changed or truncated)",
                 shown, entry.name);
  }
  return series;
}

}  // namespace poe
