// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// xoe on its host: `self-install` puts what xoe and every recipe need on
// this host (Debian packages), `self-update` installs a newer package file
// of the suite (the .deb the build makes with CPack). docs/xoe.md.

#include <filesystem>
#include <string>
#include <vector>

#include "xoe/settings.hpp"
#include "xoe/software.hpp"

namespace xoe {

// The suite's Debian package on a host or in a vserver: xoe and poe (packaging/CMakeLists.txt).
inline constexpr const char* suite_package = "oe-xoe";

// xoe's own tools and the [host] packages of the recipes of `refs` (empty:
// every recipe), split by what dpkg says is installed. Reads only. Throws
// not_found (no recipe for a ref).
DepsPlan check_self(const Settings& settings, const std::vector<core::SoftwareRef>& refs);
// Installs the missing ones with apt-get (the system's apt). Throws external.
DepsPlan self_install(const Settings& settings, const std::vector<core::SoftwareRef>& refs);

struct SelfUpdate {
  std::string from_version;  // empty: the package was not installed
  std::string to_version;
  friend bool operator==(const SelfUpdate&, const SelfUpdate&) = default;
};

// Checks that `deb` is a package file of the suite, not older than the
// installed one, then installs it with apt-get (its dependencies from the
// system's apt). Throws not_found (no file), invalid (not a package, another
// package, an older version), external (apt-get).
SelfUpdate self_update(const Settings& settings, const std::filesystem::path& deb);

}  // namespace xoe
