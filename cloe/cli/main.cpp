// SPDX-License-Identifier: GPL-3.0-or-later
// cloe: the executable. Binds the command line to the library; the one place
// that catches core::Error and turns it into an exit code. `@CLUSTER` as the
// first word (the seed's syntax) means --cluster CLUSTER.

#include "cloe/tool.hpp"
#include "commands.hpp"
#include "core/cli.hpp"

namespace cloe::cli {

Settings settings(core::cli::Frame& frame) { return make_settings(frame.paths(), frame.config()); }

}  // namespace cloe::cli

int main(int argc, char** argv) {
  // The child that runs a command inside a vserver (lxc.hpp): before the frame.
  if (auto status = cloe::run_internal_child(argc, argv)) return *status;
  core::cli::Frame frame("cloe", "cloe: cluster resources: nodes, vservers, IPs, web vhosts, firewall, backups",
                         cloe::config_schema(), cloe::legacy_table(), core::legacy::AtCluster::yes);
  try {
    auto cluster = std::make_shared<std::optional<std::string>>();
    frame.app().add_option("--cluster", *cluster, "The cluster to act on (the seed's @CLUSTER; default cluster.name)");
    core::cli::add_config_commands(frame);
    cloe::cli::add_doctor(frame);
    cloe::cli::add_template(frame);
    cloe::cli::add_cluster(frame, cluster);
    cloe::cli::add_node(frame, cluster);
    cloe::cli::add_vserver(frame, cluster);
    cloe::cli::add_service(frame, cluster);
    cloe::cli::add_command(frame, cluster);
    cloe::cli::add_backup(frame, cluster);
    cloe::cli::add_update(frame, cluster);
    return frame.run(argc, argv);
  } catch (const core::Error& error) {
    return frame.report(error);
  } catch (const std::exception& error) {
    return frame.report(core::Error(core::ErrorKind::internal, error.what()));
  }
}
