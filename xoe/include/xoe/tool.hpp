// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// xoe: the Tryton and Odoo services of one host
// What the xoe executable needs from its library to start: its configuration
// keys and the seed's syntax it still accepts.

#include "core/config.hpp"
#include "core/legacy.hpp"

#include <optional>

namespace xoe {

// Every configuration key of xoe with its compiled default (docs/configuration.md).
const core::Schema& config_schema();

// The seed's command forms and the modern commands they mean (docs/xoe.md).
const core::legacy::Table& legacy_table();

// xoe started by xoe as a child of its own, not by a user: `xoe __sqlite`
// does one SQLite operation on a service's file as the service's user
// (docs/architecture.md). Returns its exit status when argv is such a
// child's, nullopt otherwise; main() asks before anything else.
std::optional<int> run_internal_child(int argc, char** argv);

}  // namespace xoe
