// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// cloe node install-host NAME (the seed's `--install -host`): what a node
// needs to run vservers, made so through its link (directly for the
// referee's own node, over the pinned SSH for the others), step by step,
// each checked first: a second run changes nothing and says so.
//   packages  libvirt's LXC driver and client, iproute2, nftables, rsync,
//             e2fsprogs, util-linux (dpkg-query first; apt-get installs
//             only what is missing)
//   libvirtd  answers on the node's URI; started with systemctl where
//             systemd runs, else a precondition (a host without systemd
//             starts it as scripts/start-host-services does: the cgroup trap)
//   bridge    network.bridge exists, is up and holds the node's address
//             with the cluster's prefix (ip; not persistent across a reboot);
//             with an uplink (the node's link into the network that spans
//             the nodes), the uplink is the bridge's port and the node's
//             address and routes move from it onto the bridge (one ip -batch)
//   storage   each storage class's folder and its vservers/ (mode 0711)
#include <string>
#include <vector>

#include "cloe/inventory.hpp"

namespace cloe {

struct InstallHostStep {
  std::string name;    // packages, libvirtd, bridge, storage
  std::string detail;  // what was found, or what was done
  bool changed = false;
};

struct InstallHostResult {
  Node node;
  std::vector<InstallHostStep> steps;
  bool dry_run = false;
  bool changed() const;
};

// The Debian packages a node needs.
const std::vector<std::string>& node_packages();

// not_found (cluster, node), external (the node does not answer, a command
// failed: named), precondition (libvirtd does not run and cannot be started
// here), invalid (an uplink that is no link name), conflict (the uplink is a
// port of another bridge; a bridge name taken by another kind of link).
// dry_run: what would change, changing nothing.
InstallHostResult node_install_host(const Settings& settings, const std::string& cluster, const std::string& name,
                                    bool dry_run = false, const std::string& uplink = {});

}  // namespace cloe
