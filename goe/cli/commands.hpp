// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// goe's commands, one file each, registered by main().
#include "core/cli.hpp"

namespace goe::cli {

void add_serve(core::cli::Frame& frame);
void add_user(core::cli::Frame& frame);

}  // namespace goe::cli
