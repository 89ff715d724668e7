// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Rendering for people: aligned tables, colour only on a terminal. Scripts
// use --json, which every command that shows or lists supports.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace core {

enum class Colour { never, always };

struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

// Columns padded to the widest cell (UTF-8 aware), headers in bold with colour.
std::string render_table(const Table& table, Colour colour);

// "key: value" lines, keys aligned.
std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// Colour::always when standard output is a terminal and NO_COLOR is unset.
Colour stdout_colour();

// Highlights ok/warn/fail words for people; plain text without colour.
std::string paint_status(const std::string& status, Colour colour);

}  // namespace core
