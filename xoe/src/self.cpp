// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/self.hpp"

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "xoe/recipe.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

// What xoe itself runs: runit, tar + zstd (backups), psql and pg_dump, the
// Python the Tryton recipes use, useradd, cron (the nightly job).
const std::vector<std::string> own_packages = {"runit", "tar",    "zstd",  "postgresql-client",
                                               "python3", "passwd", "cron"};

std::string installed_version(const std::string& package) {
  auto r = core::run({"dpkg-query", "-W", "-f=${Status}\t${Version}", package}, {.check = false});
  if (r.exit_code != 0 || r.out.find("install ok installed") == std::string::npos) return {};
  return r.out.substr(r.out.find('\t') + 1);
}

void apt_install(const std::vector<std::string>& what) {
  std::vector<std::string> argv = {"apt-get", "install", "-y", "-qq", "--no-install-recommends"};
  argv.insert(argv.end(), what.begin(), what.end());
  core::run(argv, {.timeout = std::chrono::minutes(30), .env_extra = {{"DEBIAN_FRONTEND", "noninteractive"}}});
}

}  // namespace

DepsPlan check_self(const Settings& s, const std::vector<core::SoftwareRef>& refs) {
  std::vector<std::string> all = own_packages;
  // database.host empty: xoe runs its own cluster, with Debian's server.
  if (s.own_cluster) all.push_back("postgresql");
  // Services as systemd units: logrotate rotates their logs.
  if (s.supervisor != "runit" && systemd_booted()) all.push_back("logrotate");
  std::vector<Recipe> recipes;
  if (refs.empty()) recipes = load_recipes(s.recipe_dirs);
  for (const auto& ref : refs) recipes.push_back(find_recipe(s.recipe_dirs, ref.software, ref.version));
  for (const auto& r : recipes)
    for (const auto& p : r.host_packages)
      if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
  DepsPlan plan;
  for (const auto& p : all) (installed_version(p).empty() ? plan.missing : plan.present).push_back(p);
  return plan;
}

DepsPlan self_install(const Settings& s, const std::vector<core::SoftwareRef>& refs) {
  DepsPlan plan = check_self(s, refs);
  if (!plan.missing.empty()) apt_install(plan.missing);
  core::logger("xoe")->info("self-install: {} packages installed, {} present", plan.missing.size(), plan.present.size());
  return plan;
}

SelfUpdate self_update(const Settings&, const fs::path& deb_in) {
  std::error_code ec;
  fs::path deb = fs::absolute(deb_in).lexically_normal();
  if (!fs::is_regular_file(deb, ec)) fail(ErrorKind::not_found, "no package file {}", core::escape_for_display(deb.string()));
  auto f = core::run({"dpkg-deb", "--showformat=${Package}\t${Version}", "--show", deb.string()}, {.check = false});
  if (f.exit_code != 0 || f.out.find('\t') == std::string::npos)
    fail(ErrorKind::invalid, "{}: not a Debian package file", core::escape_for_display(deb.filename().string()));
  std::string package = f.out.substr(0, f.out.find('\t')), version = f.out.substr(f.out.find('\t') + 1);
  if (package != suite_package)
    fail(ErrorKind::invalid, "{} holds the package {}, not {}", core::escape_for_display(deb.filename().string()),
         core::escape_for_display(package), suite_package);
  SelfUpdate out{installed_version(suite_package), version};
  if (!out.from_version.empty()) {
    auto older = core::run({"dpkg", "--compare-versions", version, "lt", out.from_version}, {.check = false});
    if (older.exit_code == 0)
      fail(ErrorKind::invalid, "{} {} is older than the installed {}", suite_package, version, out.from_version);
  }
  apt_install({deb.string()});
  core::logger("xoe")->info("self-update: {} {} -> {}", suite_package, out.from_version.empty() ? "-" : out.from_version,
                            version);
  return out;
}

}  // namespace xoe
