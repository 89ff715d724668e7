// SPDX-License-Identifier: GPL-3.0-or-later
#include "poe/tool.hpp"

namespace poe {

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"store.path", core::ValueType::string, std::string{},
       "Git repository of standard versions; empty: ROOT/var/lib/oe/poe/store"},
      {"tree.ignore", core::ValueType::list, std::vector<std::string>{"__pycache__", "*.pyc", "*.pyo", ".git"},
       "Names (fnmatch patterns of one path component) left out when a folder is read"},
      {"diff.module_roots", core::ValueType::list, std::vector<std::string>{"modules", "addons"},
       "Folders whose children are modules: one patch per child (poe diff --split module)"},
      {"check.rename_limit", core::ValueType::integer, std::int64_t{100000},
       "Rename detection limit when following files into a new version", core::check_range(1000, 10000000)},
      {"check.fuzz", core::ValueType::integer, std::int64_t{0},
       "Default fuzz for poe check (0: never; fuzz is always reported)", core::check_range(0, 3)},
  };
  return schema;
}

// The seed's five steps of poe, as options.
const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--compare"}, {"diff"}},
      {{"--diff"}, {"diff"}},
      {{"--validate"}, {"check"}},
      {{"--check"}, {"check"}},
      {{"--adapt"}, {"adapt"}},
      {{"--apply"}, {"apply"}},
      {{"--import"}, {"standard", "import"}},
  };
  return table;
}

}  // namespace poe
