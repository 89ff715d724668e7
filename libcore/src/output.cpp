// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace core {
namespace {

std::size_t display_width(const std::string& s) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033') {  // skip colour escapes: ESC [ ... m
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
  }
  return width;
}

}  // namespace

std::string render_table(const Table& table, Colour colour) {
  std::vector<std::size_t> widths(table.headers.size(), 0);
  for (std::size_t i = 0; i < table.headers.size(); ++i) widths[i] = display_width(table.headers[i]);
  for (const auto& row : table.rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      bool last = i + 1 == widths.size();
      std::string padded = cell + (last ? "" : std::string(widths[i] - display_width(cell) + 2, ' '));
      if (header && colour == Colour::always) padded = "\033[1m" + padded + "\033[0m";
      out += padded;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(table.headers, true);
  for (const auto& row : table.rows) out += line(row, false);
  return out;
}

std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, display_width(k));
  std::string out;
  for (const auto& [k, v] : fields) out += k + ":" + std::string(width - display_width(k) + 1, ' ') + v + "\n";
  return out;
}

Colour stdout_colour() {
  if (std::getenv("NO_COLOR")) return Colour::never;
  return ::isatty(STDOUT_FILENO) ? Colour::always : Colour::never;
}

std::string paint_status(const std::string& status, Colour colour) {
  if (colour == Colour::never) return status;
  const char* code = status == "ok" ? "32" : status == "warn" ? "33" : "31";
  return fmt::format("\033[{}m{}\033[0m", code, status);
}

}  // namespace core
