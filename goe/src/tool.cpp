// SPDX-License-Identifier: GPL-3.0-or-later
#include "goe/tool.hpp"

namespace goe {

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"http.listen", core::ValueType::string, std::string{"127.0.0.1"}, "Address the panel listens on"},
      {"http.port", core::ValueType::integer, std::int64_t{8070}, "Port the panel listens on",
       core::check_range(1, 65535)},
      {"http.session_minutes", core::ValueType::integer, std::int64_t{60},
       "A panel session expires after this many minutes unused", core::check_range(1, 7 * 24 * 60)},
  };
  return schema;
}

const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--start"}, {"serve"}},
  };
  return table;
}

}  // namespace goe
