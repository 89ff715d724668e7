// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Logging: one named spdlog logger per tier ("core", "poe", "xoe", "cloe",
// "hoe", "goe"). Libraries only fetch their logger; main() owns the sinks.

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <vector>

namespace core {

enum class Verbosity { quiet, normal, verbose, debug };

// The logger of a tier; never null (falls back to a logger on the default
// sinks when main() has not set logging up, as in unit tests).
std::shared_ptr<spdlog::logger> logger(std::string_view name);

// Called once by main(): every tier's logger writes to standard error at the
// level `verbosity` gives (quiet: errors, normal: warnings, verbose: info,
// debug: debug). Output on stdout stays the command's result alone.
void setup_logging(std::string_view tool, Verbosity verbosity);

}  // namespace core
