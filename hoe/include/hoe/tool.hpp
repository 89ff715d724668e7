// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// hoe: hosting contracts: customers, subscriptions, dates, usage, mails
// What the hoe executable needs from its library to start: its configuration
// keys and the seed's syntax it still accepts.

#include "core/config.hpp"
#include "core/legacy.hpp"

namespace hoe {

// Every configuration key of hoe with its compiled default (docs/configuration.md).
const core::Schema& config_schema();

// The seed's command forms and the modern commands they mean (docs/hoe.md).
const core::legacy::Table& legacy_table();

}  // namespace hoe
