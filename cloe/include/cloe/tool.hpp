// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
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

}  // namespace cloe
