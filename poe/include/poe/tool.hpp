// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// poe: each service's differences from its standard version
// What the poe executable needs from its library to start: its configuration
// keys and the seed's syntax it still accepts.

#include "core/config.hpp"
#include "core/legacy.hpp"

namespace poe {

// Every configuration key of poe with its compiled default (docs/configuration.md).
const core::Schema& config_schema();

// The seed's command forms and the modern commands they mean (docs/poe.md).
const core::legacy::Table& legacy_table();

}  // namespace poe
