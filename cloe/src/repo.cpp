// SPDX-License-Identifier: GPL-3.0-or-later
#include "repo.hpp"

#include <fstream>

#include "core/error.hpp"

namespace cloe {

std::vector<PackageStanza> read_packages(const std::filesystem::path& dir) {
  std::ifstream in(dir / "Packages");
  if (!in) core::fail(core::ErrorKind::invalid, "{}: no Packages file: not a repository made by oe-apt-repo", dir.string());
  std::vector<PackageStanza> out;
  PackageStanza st;
  auto flush = [&] {
    if (!st.package.empty()) out.push_back(st);
    st = {};
  };
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      flush();
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos || line.starts_with(" ")) continue;  // a continuation line
    std::string key = line.substr(0, colon), value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (key == "Package") st.package = value;
    else if (key == "Version") st.version = value;
    else if (key == "Filename") st.filename = value;
    else if (key == "SHA256") st.sha256 = value;
    else if (key == "Depends") st.depends = value;
  }
  flush();
  return out;
}

}  // namespace cloe
