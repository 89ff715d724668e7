// SPDX-License-Identifier: GPL-3.0-or-later
// Each service's own copy of its code: the standard version's tree, hard
// linked (a file changed by a patch is a new file, never an edit of the
// shared one), plus the service's poe series applied with libpoe.
#include "code.hpp"

#include <cerrno>
#include <map>
#include <system_error>

#include "core/error.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "poe/series.hpp"
#include "poe/store.hpp"
#include "xoe/recipe.hpp"

namespace fs = std::filesystem;

namespace xoe::detail {

using core::ErrorKind;
using core::fail;

namespace {

// Copies the folder `from` into the new folder `to` with hard links (a copy
// when `to` is on another file system). Compiled Python (__pycache__) comes
// along: a .pyc names its source's mtime and size, which a hard link shares.
void link_tree(const fs::path& from, const fs::path& to) {
  fs::create_directory(to, from);
  for (const auto& entry : fs::directory_iterator(from)) {
    const fs::path target = to / entry.path().filename();
    const auto status = entry.symlink_status();
    if (fs::is_symlink(status)) {
      fs::copy_symlink(entry.path(), target);
    } else if (fs::is_directory(status)) {
      link_tree(entry.path(), target);
    } else if (fs::is_regular_file(status)) {
      std::error_code ec;
      fs::create_hard_link(entry.path(), target, ec);
      if (ec == std::errc::cross_device_link) {
        fs::copy_file(entry.path(), target);
      } else if (ec) {
        fail(ErrorKind::io, "link {}: {}", target.string(), ec.message());
      }
    }
  }
}

}  // namespace

void copy_series(const fs::path& from, const fs::path& to) {
  poe::Series series = poe::read_series(from);  // a corrupt series is refused before anything is copied
  host::make_dir(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                         fs::perms::others_exec);
  std::vector<std::string> files = {"series"};
  if (fs::exists(from / "poe.json")) files.push_back("poe.json");
  for (const auto& p : series.patches) files.push_back(p.name);
  for (const auto& f : files) fs::copy_file(from / f, to / f, fs::copy_options::overwrite_existing);
}

bool same_series(const std::optional<fs::path>& a, const std::optional<fs::path>& b) {
  if (!a || !b) return !a && !b;
  auto files = [](const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) out[e.path().filename().string()] = host::read_file(e.path());
    return out;
  };
  return files(*a) == files(*b);
}

fs::path code_dir(const Settings& s, const std::string& name) { return s.services_dir() / name / "code"; }

Code service_code(const Settings& s, const std::string& name, const std::string& software, const std::string& version) {
  Code v = fetched_code(s, software, version);
  fs::path dir = code_dir(s, name);
  std::error_code ec;
  if (!fs::is_directory(dir / "tree", ec)) return v;  // a service made before each had its own copy
  return code_in(v, dir);
}

Code code_in(const Code& version, const fs::path& dir) {
  if (version.site == version.code) return {dir / "tree", dir / "tree", dir / "tree"};
  return {version.code, dir / "site", dir / "tree"};
}

std::optional<fs::path> service_series(const Settings& s, const std::string& name) {
  fs::path dir = code_dir(s, name) / "series";
  std::error_code ec;
  if (fs::is_regular_file(dir / "series", ec)) return dir;
  return std::nullopt;
}

void check_series_for(const Settings& s, const std::string& software, const std::string& version,
                      const fs::path& series) {
  (void)poe::read_series(series);
  if (!standard_ref(s, software, version))
    fail(ErrorKind::precondition, "{}/{} is not a standard version in poe's store: a series needs one", software,
         version);
}

// Compiles the Python files of `dir` that have no current .pyc (as root:
// the services' users cannot write their code, so their servers would
// otherwise compile every module in memory at each start).
void compile_python(const Settings& s, const std::string& software, const std::string& version, const fs::path& dir) {
  Recipe recipe = find_recipe(s.recipe_dirs, software, version);
  if (recipe.python.empty()) return;
  auto r = core::run({recipe.python, "-m", "compileall", "-q", "-j", "0", dir.string()},
                     {.timeout = std::chrono::minutes(10), .check = false});
  if (r.exit_code != 0)  // a file that does not compile is the code's business, not the copy's
    core::logger("xoe")->warn("compileall {}: exit {}", dir.string(), r.exit_code);
}

std::size_t build_code(const Settings& s, const std::string& software, const std::string& version,
                       const std::optional<fs::path>& series, const fs::path& into) {
  Code v = fetched_code(s, software, version);
  // The standard never changes once fetched: compiled once per version, then
  // marked (compileall would otherwise stat every file of it at each create).
  fs::path compiled = s.software_dir() / software / version / ".compiled";
  std::error_code ec;
  auto lock = core::FileLock::acquire(s.locks, "xoe.compile." + software + "-" + version);
  if (!fs::exists(compiled, ec)) {
    compile_python(s, software, version, v.standard);
    host::write_file(compiled, "", fs::perms::owner_read | fs::perms::owner_write);
  }
  host::remove_tree(into);
  auto dmode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
               fs::perms::others_exec;
  host::make_dir(into, dmode);
  link_tree(v.standard, into / "tree");
  std::size_t changed = 0;
  if (series) {
    auto ref = standard_ref(s, software, version);
    if (!ref)
      fail(ErrorKind::precondition, "{}/{} is not a standard version in poe's store: a series needs one", software,
           version);
    copy_series(*series, into / "series");
    auto store = poe::Store::open(poe_store(s), poe::StoreMode::open_existing);
    poe::ApplyRequest rq;
    rq.series = into / "series";
    rq.standard = *ref;
    rq.in_place = into / "tree";
    auto r = poe::apply_series(store, rq);
    changed = r.files_changed;
    core::logger("xoe")->info("applied {} patches ({} files) of {} onto {}", r.patches, r.files_changed,
                              series->string(), *ref);
  }
  if (changed > 0) compile_python(s, software, version, into / "tree");
  if (v.site != v.code) {
    // The version's site folder, with the standard's package replaced by this copy.
    host::make_dir(into / "site", dmode);
    const std::string own = v.standard.filename().string();
    for (const auto& e : fs::directory_iterator(v.site)) {
      const std::string name = e.path().filename().string();
      if (name == own) {
        fs::create_symlink("../tree", into / "site" / name);
        continue;
      }
      fs::path target = fs::read_symlink(e.path());
      if (target.is_relative()) target = (v.site / target).lexically_normal();
      fs::create_symlink(target, into / "site" / name);
    }
  }
  return changed;
}

}  // namespace xoe::detail
