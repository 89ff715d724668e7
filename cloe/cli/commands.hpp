// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One function per cloe command, each in its own cmd_<verb>.cpp.

#include "core/cli.hpp"

namespace cloe::cli {

void add_doctor(core::cli::Frame& frame);
void add_template(core::cli::Frame& frame);

}  // namespace cloe::cli
