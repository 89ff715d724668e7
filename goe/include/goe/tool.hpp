// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// goe: a web panel over xoe
// What the goe executable needs from its library to start: its configuration
// keys and the seed's syntax it still accepts.

#include "core/config.hpp"
#include "core/legacy.hpp"

namespace goe {

// Every configuration key of goe with its compiled default (docs/configuration.md).
const core::Schema& config_schema();

// The seed's command forms and the modern commands they mean (docs/goe.md).
const core::legacy::Table& legacy_table();

}  // namespace goe
