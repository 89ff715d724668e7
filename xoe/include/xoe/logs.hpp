// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The services' logs: svlogd writes ROOT/var/log/oe/xoe/NAME/current, each
// line stamped (-tt: "2024-05-01_12:34:56.12345 ", -ttt: ISO 8601, -t:
// TAI64N "@4000000066321234abcdef00 "), and rotates it by renaming it to
// @TAI64N.s (or .u) when it is full. docs/xoe.md.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

struct LogLine {
  std::optional<std::string> time;  // UTC, ISO 8601 with the stamp's fraction ("2024-05-01T12:34:56.12345Z")
  std::string text;                 // the line without its stamp
  friend bool operator==(const LogLine&, const LogLine&) = default;
};

// Splits svlogd's stamp (any of its three formats) from a line. A line
// without one is all text. Pure.
LogLine parse_log_line(std::string_view line);

// The last `count` lines of the log folder `dir`: `current`, preceded by the
// rotated files (newest first) when it holds fewer. Reads only.
std::vector<std::string> last_log_lines(const std::filesystem::path& dir, std::size_t count);

struct ServiceLog {
  std::string service;
  std::filesystem::path file;      // DIR/current
  std::vector<std::string> lines;  // oldest first, as svlogd wrote them
  friend bool operator==(const ServiceLog&, const ServiceLog&) = default;
};

// The last `count` lines of a service's log. Throws not_found (no service).
ServiceLog read_service_log(const Settings& settings, const std::string& name, std::size_t count);

// Calls `print` with the last `count` lines, then with each batch of lines
// svlogd appends, polling every `poll`, until `keep_going` returns false.
// Follows a rotation (the rest of the renamed file, then the new `current`)
// and waits for a log that does not exist yet. Throws not_found (no service).
void follow_service_log(const Settings& settings, const std::string& name, std::size_t count,
                        const std::function<void(const std::vector<std::string>&)>& print,
                        const std::function<bool()>& keep_going,
                        std::chrono::milliseconds poll = std::chrono::milliseconds(200));

}  // namespace xoe
