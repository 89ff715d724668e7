// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/legacy.hpp"

#include <algorithm>
#include <cctype>

namespace core::legacy {
namespace {

bool same_word(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Global options and how many values follow them.
int global_option_values(const std::string& word) {
  if (word == "--root" || word == "--set") return 1;
  if (word == "--json" || word == "-q" || word == "--quiet" || word == "--verbose") return 0;
  if (word.size() >= 2 && word[0] == '-' && word[1] == 'v' &&
      word.find_first_not_of('v', 1) == std::string::npos)
    return 0;  // -v, -vv
  if (word.rfind("--root=", 0) == 0 || word.rfind("--set=", 0) == 0) return 0;
  return -1;
}

}  // namespace

std::vector<std::string> translate(const Table& table, std::vector<std::string> args, AtCluster at_cluster) {
  std::vector<std::string> out;
  std::size_t i = 0;
  auto keep_globals = [&] {
    while (i < args.size()) {
      int values = global_option_values(args[i]);
      if (values < 0) break;
      for (int k = 0; k <= values && i < args.size(); ++k) out.push_back(args[i++]);
    }
  };
  keep_globals();
  if (at_cluster == AtCluster::yes && i < args.size() && args[i].size() > 1 && args[i][0] == '@') {
    out.push_back("--cluster");
    out.push_back(args[i].substr(1));
    ++i;
    keep_globals();
  }
  const Rule* best = nullptr;
  for (const auto& rule : table) {
    if (rule.legacy.empty() || i + rule.legacy.size() > args.size()) continue;
    bool match = true;
    for (std::size_t k = 0; k < rule.legacy.size() && match; ++k) match = same_word(rule.legacy[k], args[i + k]);
    if (match && (!best || rule.legacy.size() > best->legacy.size())) best = &rule;
  }
  if (best) {
    out.insert(out.end(), best->modern.begin(), best->modern.end());
    i += best->legacy.size();
  }
  out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

}  // namespace core::legacy
