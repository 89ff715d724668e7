// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One function per cloe command, each in its own cmd_<verb>.cpp.

#include <memory>
#include <optional>
#include <string>

#include "cloe/inventory.hpp"
#include "core/cli.hpp"

namespace cloe::cli {

// The global --cluster NAME (the seed's @NAME), shared by the commands.
using ClusterOption = std::shared_ptr<std::optional<std::string>>;

Settings settings(core::cli::Frame& frame);

void add_doctor(core::cli::Frame& frame);
void add_template(core::cli::Frame& frame);
void add_cluster(core::cli::Frame& frame, const ClusterOption& cluster);
void add_node(core::cli::Frame& frame, const ClusterOption& cluster);
void add_vserver(core::cli::Frame& frame, const ClusterOption& cluster);
void add_service(core::cli::Frame& frame, const ClusterOption& cluster);
void add_command(core::cli::Frame& frame, const ClusterOption& cluster);
void add_backup(core::cli::Frame& frame, const ClusterOption& cluster);
void add_update(core::cli::Frame& frame, const ClusterOption& cluster);

}  // namespace cloe::cli
