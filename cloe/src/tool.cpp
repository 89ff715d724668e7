// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/tool.hpp"

#include <string_view>

#include "core/lock.hpp"
#include "lxc.hpp"
#include "node_side.hpp"

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
      {"ssh.identity", core::ValueType::string, std::string{},
       "The referee's private SSH key for the nodes (empty: ROOT/var/lib/oe/cloe/ssh/id_ed25519)"},
      {"ssh.user", core::ValueType::string, std::string{"root"}, "The user cloe logs in as on the nodes"},
      {"ssh.control_persist", core::ValueType::integer, std::int64_t{60},
       "Seconds a multiplexed SSH connection to a node stays open after its last use",
       core::check_range(0, 3600)},
      {"backup.keep", core::ValueType::integer, std::int64_t{7},
       "Backups of a vserver kept in its repository (cloe backup --retention overrides it)", core::check_range(1, 1000)},
      {"backup.keep_saves", core::ValueType::integer, std::int64_t{3}, "Saves of a vserver kept (cloe save)",
       core::check_range(1, 1000)},
      {"template.deb_cache", core::ValueType::string, std::string{},
       "Cache of downloaded .deb files for the software fetched into templates (empty: ROOT/var/cache/oe/debs, "
       "xoe's own on this host)"},
      {"node.binary", core::ValueType::string, std::string{"/usr/bin/cloe"},
       "The cloe program on the nodes reached over SSH (the oe-cloe package), which does the node-side work"},
      {"node.templates", core::ValueType::string, std::string{"/var/lib/oe/cloe/templates"},
       "The folder on the nodes reached over SSH that holds the templates copied to them"},
      {"locks.wait", core::ValueType::integer, std::int64_t{core::FileLock::default_wait.count()},
       "Seconds a command waits for a lock another command holds before it exits 4 (0: not at all; --wait, "
       "--no-wait)",
       core::check_range(0, 86400)},
  };
  return schema;
}

// Every cloe example of the seed, and the modern command it means.
// `@cluster` is kept as a first word and becomes --cluster NAME.
const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--install", "-host"}, {"node", "install-host"}},
      {{"--update"}, {"update"}},
      {{"--new", "-vserver"}, {"vserver", "create"}},
      {{"--start"}, {"start"}},
      {{"--stop"}, {"stop"}},
      {{"--save"}, {"save"}},
      {{"--backup"}, {"backup"}},
      {{"--restore"}, {"restore"}},
      {{"--command"}, {"command", "--seed"}},
      {{"--cluster", "-join"}, {"cluster", "join"}},
      {{"--doctor"}, {"doctor"}},
  };
  return table;
}

std::optional<int> run_internal_child(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == lxc::enter_command) return lxc::enter_main(argc, argv);
  if (argc >= 2 && std::string_view(argv[1]) == node_side::command) return node_side::main(argc, argv);
  return std::nullopt;
}

}  // namespace cloe
