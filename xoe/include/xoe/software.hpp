// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The software catalogue: the versions xoe has recipes for, and the code of
// each version fetched under ROOT/var/lib/oe/xoe/software/SOFTWARE/VERSION/.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/validate.hpp"
#include "xoe/recipe.hpp"
#include "xoe/settings.hpp"

namespace xoe {

struct SoftwareInfo {
  std::string software;
  std::string version;
  std::string source;  // "debian:trixie" or "tree"
  bool fetched = false;
  std::filesystem::path path;  // the version's folder when fetched
  std::string detail;          // debian: "tryton-server 7.0.30-1+deb13u2, ..."; tree: where it came from
  std::string fetched_at;
  friend bool operator==(const SoftwareInfo&, const SoftwareInfo&) = default;
};

// Every recipe, with what is fetched. Reads only.
std::vector<SoftwareInfo> list_software(const Settings& settings);

struct FetchRequest {
  core::SoftwareRef ref;
  std::string source;  // tree recipes: a folder holding odoo-bin, or a git URL
  bool refresh = false;  // fetch a version fetched already again (its recipe's packages changed)
  friend bool operator==(const FetchRequest&, const FetchRequest&) = default;
};

struct FetchResult {
  SoftwareInfo info;
  bool already = false;  // it was fetched before; nothing was done
  bool refreshed = false;  // fetched again over an earlier fetch (--refresh)
  friend bool operator==(const FetchResult&, const FetchResult&) = default;
};

// Fetches the code of a software version as its recipe says, as a journaled
// job ("software.fetch"): built in a temporary folder and renamed into place,
// so a failed or killed fetch leaves nothing (the next run resumes or starts
// over). Throws not_found (no recipe), invalid (a source where none is
// expected, or none where one is), external (apt, git), precondition.
FetchResult fetch_software(const Settings& settings, const FetchRequest& request);

// Removes a fetched version. Throws not_found when it is not fetched and
// conflict while a service uses it.
void remove_software(const Settings& settings, const core::SoftwareRef& ref);

struct DepsPlan {
  std::vector<std::string> present;
  std::vector<std::string> missing;
  friend bool operator==(const DepsPlan&, const DepsPlan&) = default;
};
// The recipe's host packages, split by what dpkg says is installed. Reads only.
DepsPlan check_deps(const Settings& settings, const core::SoftwareRef& ref);
// Installs the missing ones with apt-get install (system apt). Returns the plan it acted on.
DepsPlan install_deps(const Settings& settings, const core::SoftwareRef& ref);

// Paths of a fetched version used to run it: {code}, {site}; and the
// folder that is the standard version in poe's store (Tryton: the trytond
// package, which holds the modules; Odoo: the source tree). A service runs
// its own copy of `standard` (docs/xoe.md, "Each service's code").
struct Code {
  std::filesystem::path code;
  std::filesystem::path site;
  std::filesystem::path standard;
};
// Throws precondition "tryton/7.0 is not fetched: run xoe software fetch tryton/7.0".
Code fetched_code(const Settings& settings, const std::string& software, const std::string& version);

// The standard version in poe's store of a fetched version ("tryton/7.0.30"),
// or nullopt when it is not there (an Odoo tree). Reads only.
std::optional<std::string> standard_ref(const Settings& settings, const std::string& software,
                                        const std::string& version);

// poe's store of standard versions under this root (poe's default place).
std::filesystem::path poe_store(const Settings& settings);

}  // namespace xoe
