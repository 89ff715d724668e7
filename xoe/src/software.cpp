// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/software.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "apt.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "host.hpp"
#include "poe/store.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

constexpr const char* recipe_packages_file = "recipe-packages.txt";

// The packages the recipe asks for now that the fetch in `dir` was not asked
// for (none when that fetch predates the record: it is taken as current).
std::vector<std::string> packages_added_since_fetch(const Recipe& recipe, const fs::path& dir) {
  std::error_code ec;
  if (recipe.source != SourceKind::debian || !fs::exists(dir / recipe_packages_file, ec)) return {};
  std::set<std::string> asked;
  std::istringstream in(host::read_file(dir / recipe_packages_file));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) asked.insert(line);
  std::vector<std::string> added;
  for (const auto& p : recipe.packages)
    if (!asked.contains(p)) added.push_back(p);
  return added;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

constexpr fs::perms dir_mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec;
constexpr std::string_view host_dist_packages = "/usr/lib/python3/dist-packages";

std::string source_name(const Recipe& r) {
  return r.source == SourceKind::debian ? "debian:" + r.suite : "tree";
}

fs::path version_dir(const Settings& s, const std::string& software, const std::string& version) {
  return s.software_dir() / software / version;
}

std::string lock_name(const std::string& software, const std::string& version) {
  return "xoe.software." + software + "." + version;
}

bool excluded(const std::string& name, const std::vector<std::string>& globs) {
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return ::fnmatch(g.c_str(), name.c_str(), 0) == 0; });
}

// The isolated site folder: the host's dist-packages entries (but the
// excluded ones) as absolute links, then the unpacked ones as relative links
// (the folder is renamed after it is built), which win over the host's.
void build_site(const fs::path& work, const Recipe& recipe) {
  fs::path site = work / "site";
  host::remove_tree(site);
  host::make_dir(site, dir_mode);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(host_dist_packages, ec)) {
    std::string name = e.path().filename().string();
    if (excluded(name, recipe.site_exclude)) continue;
    fs::create_symlink(e.path(), site / name, ec);
    if (ec) fail(ErrorKind::io, "symlink {}: {}", (site / name).string(), ec.message());
  }
  fs::path own = work / "root/usr/lib/python3/dist-packages";
  if (!fs::is_directory(own, ec)) fail(ErrorKind::external, "the packages of {} hold no Python code", recipe.suite);
  for (const auto& e : fs::directory_iterator(own, ec)) {
    std::string name = e.path().filename().string();
    fs::remove(site / name, ec);
    fs::create_symlink(fs::path("../root/usr/lib/python3/dist-packages") / name, site / name, ec);
    if (ec) fail(ErrorKind::io, "symlink {}: {}", (site / name).string(), ec.message());
  }
}

// The full version of the trytond tree in `code` ("7.0.30"), from its __init__.py.
std::string trytond_version(const fs::path& code) {
  std::ifstream in(code / "__init__.py");
  static const std::regex version_line(R"re(^__version__\s*=\s*["']([0-9][0-9.]*)["'])re");
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, version_line)) return m[1];
  fail(ErrorKind::external, "{}: no __version__", (code / "__init__.py").string());
}


// Imports the fetched code into poe as the standard version SOFTWARE/FULLVERSION,
// unless it is there already (so the step can run again after a crash).
void import_standard(const Settings& s, const std::string& software, const fs::path& code) {
  std::string ref = software + "/" + trytond_version(code);
  auto store = poe::Store::open(poe_store(s), poe::StoreMode::create_if_missing);
  for (const auto& known : store.list())
    if (known.ref == ref) return;
  store.import_standard(ref, code, {{"__pycache__", "*.pyc", "*.pyo"}});
  core::logger("xoe")->info("imported {} into poe's store as {}", code.string(), ref);
}

bool is_url(const std::string& s) {
  return s.starts_with("https://") || s.starts_with("http://") || s.starts_with("git://") ||
         s.starts_with("ssh://") || s.starts_with("file://");
}

core::Job fetch_job(const Settings& s, const Recipe& recipe, const std::string& source,
                    std::shared_ptr<std::string> detail) {
  const fs::path final_dir = version_dir(s, recipe.software, recipe.version);
  const fs::path work = s.software_dir() / recipe.software / ("." + recipe.version + ".partial");
  core::Job job{"software.fetch", "software:" + recipe.software + "/" + recipe.version, {}};
  auto remove_work = [work] { host::remove_tree(work); };
  if (recipe.source == SourceKind::debian) {
    job.steps.push_back({"download", [&s, recipe, work] {
      auto debs = apt::download(s.deb_cache, s.apt_etc, recipe.suite, recipe.packages, s.locks.wait);
      host::make_dir(work, dir_mode);
      std::string list;
      for (const auto& d : debs) list += d.string() + "\n";
      host::write_file(work / "debs.txt", list, fs::perms::owner_read | fs::perms::owner_write);
      // What the recipe asked for, to tell later whether the recipe changed since.
      std::string asked;
      for (const auto& p : recipe.packages) asked += p + "\n";
      host::write_file(work / recipe_packages_file, asked, fs::perms::owner_read | fs::perms::owner_write |
                                                              fs::perms::group_read | fs::perms::others_read);
    }, remove_work});
    job.steps.push_back({"unpack", [work] {
      host::remove_tree(work / "root");
      host::make_dir(work / "root", dir_mode);
      std::istringstream in(host::read_file(work / "debs.txt"));
      std::string packages;
      for (std::string deb; std::getline(in, deb);)
        if (!deb.empty()) packages += apt::unpack(deb, work / "root") + "\n";
      host::write_file(work / "packages.txt", packages, fs::perms::owner_read | fs::perms::owner_write |
                                                            fs::perms::group_read | fs::perms::others_read);
    }, remove_work});
    job.steps.push_back({"site", [work, recipe] { build_site(work, recipe); }, remove_work});
    job.steps.push_back({"check", [work, recipe, detail] {
      // The code must import on this host's Python with the site folder alone.
      auto r = core::run({recipe.python, "-S", "-c", "import trytond, sys; sys.stdout.write(trytond.__version__)"},
                         {.timeout = std::chrono::seconds(60), .env_extra = {{"PYTHONPATH", (work / "site").string()}},
                          .check = false});
      if (r.exit_code != 0)
        fail(ErrorKind::external, "{}/{} does not import on this host's Python: {}", recipe.software, recipe.version,
             r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1));
      if (!r.out.starts_with(recipe.version + "."))
        fail(ErrorKind::external, "{} holds version {}, not {}", recipe.suite, r.out, recipe.version);
      std::string pk = host::read_file(work / "packages.txt");
      std::replace(pk.begin(), pk.end(), '\n', ',');
      if (!pk.empty()) pk.pop_back();
      *detail = pk;
    }, {}});
    // Each fetched version is the standard its services' differences are kept against.
    job.steps.push_back({"standard", [&s, work, recipe] {
      import_standard(s, recipe.software, work / "root/usr/lib/python3/dist-packages/trytond");
    }, {}});
  } else {
    job.steps.push_back({"source", [work, recipe, source, detail] {
      host::remove_tree(work);
      host::make_dir(work, dir_mode);
      if (is_url(source)) {
        core::run({"git", "clone", "--quiet", "--depth", "1", "--branch", recipe.git_branch, "--", source,
                   (work / "code").string()},
                  {.timeout = std::chrono::minutes(30)});
      } else {
        fs::create_symlink(fs::absolute(source), work / "code");
      }
      std::error_code ec;
      if (!fs::exists(work / "code" / "odoo-bin", ec))
        fail(ErrorKind::invalid, "{}: no odoo-bin in it: not an Odoo source tree", core::escape_for_display(source));
      *detail = source;
    }, remove_work});
  }
  job.steps.push_back({"install", [&s, work, final_dir, recipe, detail, source] {
    std::error_code ec;
    // A refresh: the earlier fetch steps aside, the new one in its place, the
    // earlier one removed (services run their own copies of the code, hard
    // links that keep their files). Resumed after a crash, whichever is left
    // is finished.
    const fs::path earlier = final_dir.parent_path() / ("." + recipe.version + ".earlier");
    if (fs::exists(work, ec) && fs::exists(final_dir, ec)) {
      host::remove_tree(earlier);
      fs::rename(final_dir, earlier, ec);
      if (ec) fail(ErrorKind::io, "rename {}: {}", final_dir.string(), ec.message());
    }
    if (!fs::exists(final_dir, ec)) {
      host::make_dir(final_dir.parent_path(), dir_mode);
      fs::rename(work, final_dir, ec);
      if (ec) fail(ErrorKind::io, "rename {}: {}", work.string(), ec.message());
    }
    host::remove_tree(earlier);
    auto db = registry::open(s);
    std::string d = *detail;
    if (d.empty() && fs::exists(final_dir / "packages.txt")) d = host::read_file(final_dir / "packages.txt");
    db.execute("INSERT OR REPLACE INTO software (software, version, path, source, detail, fetched) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               recipe.software, recipe.version, final_dir.string(), source_name(recipe), d, host::now_iso());
  }, [final_dir, &s, recipe] {
    host::remove_tree(final_dir);
    auto db = registry::open(s);
    db.execute("DELETE FROM software WHERE software = ?1 AND version = ?2", recipe.software, recipe.version);
  }});
  return job;
}

SoftwareInfo info_of(const Recipe& r, const std::optional<registry::SoftwareRow>& row) {
  SoftwareInfo i{r.software, r.version, source_name(r), false, {}, {}, {}};
  if (row) {
    i.fetched = true;
    i.path = row->path;
    i.detail = row->detail;
    i.fetched_at = row->fetched;
  }
  return i;
}

bool installed(const std::string& package) {
  auto r = core::run({"dpkg-query", "-W", "-f=${Status}", package}, {.check = false});
  return r.exit_code == 0 && r.out.find("install ok installed") != std::string::npos;
}

}  // namespace

std::vector<SoftwareInfo> list_software(const Settings& s) {
  auto recipes = load_recipes(s.recipe_dirs);
  auto db = registry::open_existing(s);
  std::vector<SoftwareInfo> out;
  for (const auto& r : recipes)
    out.push_back(info_of(r, db ? registry::find_software(*db, r.software, r.version) : std::nullopt));
  return out;
}

FetchResult fetch_software(const Settings& s, const FetchRequest& request) {
  Recipe recipe = find_recipe(s.recipe_dirs, request.ref.software, request.ref.version);
  if (recipe.source == SourceKind::debian && !request.source.empty())
    fail(ErrorKind::invalid, "{}/{} comes from Debian {}: --source is not for it", recipe.software, recipe.version,
         recipe.suite);
  if (recipe.source == SourceKind::tree && request.source.empty())
    fail(ErrorKind::invalid, "{}/{} needs --source DIR|URL (a source tree or git URL)", recipe.software,
         recipe.version);
  if (recipe.source == SourceKind::tree && !is_url(request.source)) {
    std::error_code ec;
    if (!fs::is_directory(request.source, ec))
      fail(ErrorKind::not_found, "--source {}: no such folder", core::escape_for_display(request.source));
  }
  auto db = registry::open(s);
  host::make_dir(s.software_dir() / recipe.software, dir_mode);
  auto lock = core::FileLock::acquire(s.locks, lock_name(recipe.software, recipe.version));
  core::JobRunner jobs(db);
  auto pending = jobs.find("software.fetch", "software:" + recipe.software + "/" + recipe.version);
  auto row = registry::find_software(db, recipe.software, recipe.version);
  bool unfinished = pending && pending->unfinished();
  if (row && !unfinished) {
    auto added = packages_added_since_fetch(recipe, row->path);
    if (added.empty() && !request.refresh) return {info_of(recipe, row), true, false};
    if (!request.refresh)
      fail(ErrorKind::conflict,
           "{}/{} was fetched before its recipe {} asked for {}: the version as fetched lacks them; xoe software fetch "
           "{}/{} --refresh fetches it again",
           recipe.software, recipe.version, recipe.file.string(), join_words(added), recipe.software, recipe.version);
    if (recipe.source != SourceKind::debian)
      fail(ErrorKind::invalid, "{}/{} comes from a source tree: --refresh is for Debian recipes", recipe.software,
           recipe.version);
  }
  auto detail = std::make_shared<std::string>();
  jobs.run(fetch_job(s, recipe, request.source, detail), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  return {info_of(recipe, registry::find_software(db, recipe.software, recipe.version)), false, row && !unfinished};
}

void remove_software(const Settings& s, const core::SoftwareRef& ref) {
  auto db = registry::open(s);
  auto lock = core::FileLock::acquire(s.locks, lock_name(ref.software, ref.version));
  auto row = registry::find_software(db, ref.software, ref.version);
  if (!row) fail(ErrorKind::not_found, "{}/{} is not fetched", ref.software, ref.version);
  auto q = db.query("SELECT name FROM services WHERE software = ?1 AND version = ?2 ORDER BY name", ref.software,
                    ref.version);
  std::string users;
  while (q.step()) users += (users.empty() ? "" : ", ") + q.column_text(0);
  if (!users.empty()) fail(ErrorKind::conflict, "{}/{} is used by: {}", ref.software, ref.version, users);
  // Templates of this version go with it.
  auto t = db.query("SELECT location FROM templates WHERE software = ?1 AND version = ?2 AND backend = 'sqlite'",
                    ref.software, ref.version);
  while (t.step()) host::remove_tree(t.column_text(0));
  db.execute("DELETE FROM templates WHERE software = ?1 AND version = ?2 AND backend = 'sqlite'", ref.software,
             ref.version);
  host::remove_tree(row->path);
  db.execute("DELETE FROM software WHERE software = ?1 AND version = ?2", ref.software, ref.version);
}

DepsPlan check_deps(const Settings& s, const core::SoftwareRef& ref) {
  Recipe recipe = find_recipe(s.recipe_dirs, ref.software, ref.version);
  DepsPlan plan;
  for (const auto& p : recipe.host_packages) (installed(p) ? plan.present : plan.missing).push_back(p);
  return plan;
}

DepsPlan install_deps(const Settings& s, const core::SoftwareRef& ref) {
  DepsPlan plan = check_deps(s, ref);
  if (plan.missing.empty()) return plan;
  std::vector<std::string> argv = {"apt-get", "install", "-y", "-qq", "--no-install-recommends"};
  argv.insert(argv.end(), plan.missing.begin(), plan.missing.end());
  core::run(argv, {.timeout = std::chrono::minutes(30), .env_extra = {{"DEBIAN_FRONTEND", "noninteractive"}}});
  return plan;
}

fs::path poe_store(const Settings& s) { return s.root / "var/lib/oe/poe/store"; }

Code fetched_code(const Settings& s, const std::string& software, const std::string& version) {
  auto db = registry::open_existing(s);
  std::optional<registry::SoftwareRow> row;
  if (db) row = registry::find_software(*db, software, version);
  if (!row)
    fail(ErrorKind::precondition, "{}/{} is not fetched: run xoe software fetch {}/{}", software, version, software,
         version);
  fs::path p = row->path;
  std::error_code ec;
  if (fs::exists(p / "root", ec)) return {p / "root", p / "site", p / "root/usr/lib/python3/dist-packages/trytond"};
  return {p / "code", p / "code", p / "code"};
}

std::optional<std::string> standard_ref(const Settings& s, const std::string& software, const std::string& version) {
  Code code = fetched_code(s, software, version);
  std::error_code ec;
  if (!fs::exists(code.standard / "__init__.py", ec) || !fs::exists(poe_store(s), ec)) return std::nullopt;
  std::string ref = software + "/" + trytond_version(code.standard);
  auto store = poe::Store::open(poe_store(s), poe::StoreMode::open_existing);
  for (const auto& known : store.list())
    if (known.ref == ref) return ref;
  return std::nullopt;
}

}  // namespace xoe
