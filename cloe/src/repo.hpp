// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A flat Debian repository made by packaging/oe-apt-repo (the suite's own
// packages, served to templates and vservers): its Packages file.
#include <filesystem>
#include <string>
#include <vector>

namespace cloe {

// One stanza of a Packages file, the fields cloe reads.
struct PackageStanza {
  std::string package, version, filename, sha256, depends;
};

// The stanzas of DIR/Packages; invalid when there is none.
std::vector<PackageStanza> read_packages(const std::filesystem::path& dir);

}  // namespace cloe
