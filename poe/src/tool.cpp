// SPDX-License-Identifier: GPL-3.0-or-later
#include "poe/tool.hpp"

namespace poe {

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"store.path", core::ValueType::string, std::string{},
       "Git repository of standard versions; empty: ROOT/var/lib/oe/poe/store"},
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
