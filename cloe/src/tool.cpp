// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/tool.hpp"

#include <string_view>

#include "lxc.hpp"

namespace cloe {

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"cluster.name", core::ValueType::string, std::string{"local"},
       "The cluster this referee manages when no @cluster is given"},
      {"libvirt.uri", core::ValueType::string, std::string{"lxc:///system"},
       "libvirt URI of the referee's own node"},
      {"network.bridge", core::ValueType::string, std::string{"oebr0"}, "Bridge the vservers are attached to"},
      {"ssh.connect_timeout", core::ValueType::integer, std::int64_t{10}, "Seconds to reach a node",
       core::check_range(1, 600)},
  };
  return schema;
}

// Every cloe example of the seed, and the modern command it means.
// `@cluster` is kept as a first word and becomes --cluster NAME.
const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--install", "-host"}, {"host", "install"}},
      {{"--update"}, {"update"}},
      {{"--new", "-vserver"}, {"vserver", "create"}},
      {{"--start"}, {"start"}},
      {{"--stop"}, {"stop"}},
      {{"--save"}, {"save"}},
      {{"--backup"}, {"backup"}},
      {{"--restore"}, {"restore"}},
      {{"--command"}, {"command"}},
      {{"--cluster", "-join"}, {"cluster", "join"}},
      {{"--doctor"}, {"doctor"}},
  };
  return table;
}

std::optional<int> run_internal_child(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == lxc::enter_command) return lxc::enter_main(argc, argv);
  return std::nullopt;
}

}  // namespace cloe
