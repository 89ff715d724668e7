// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <optional>
// cloe: cluster resources: nodes, vservers, IPs, web vhosts, firewall, backups
// What the cloe executable needs from its library to start: its configuration
// keys and the seed's syntax it still accepts.

#include "core/config.hpp"
#include "core/legacy.hpp"

namespace cloe {

// Every configuration key of cloe with its compiled default (docs/configuration.md).
const core::Schema& config_schema();

// The seed's command forms and the modern commands they mean (docs/cloe.md).
const core::legacy::Table& legacy_table();

// cloe started by cloe as a child of its own, not by a user: `cloe __enter
// URI NAME ARGV...` runs ARGV inside a vserver as its root (docs/cloe.md).
// Returns its exit status when argv is such a child's, nullopt otherwise;
// main() asks before anything else.
std::optional<int> run_internal_child(int argc, char** argv);

}  // namespace cloe
