// SPDX-License-Identifier: GPL-3.0-or-later
#include "hunks.hpp"

#include <algorithm>
#include <cstdlib>

namespace poe {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

namespace {

bool matches_at(const std::vector<std::string>& lines, std::size_t at, const std::vector<std::string>& want,
                std::size_t from, std::size_t count) {
  if (at + count > lines.size()) return false;
  for (std::size_t i = 0; i < count; ++i)
    if (lines[at + i] != want[from + i]) return false;
  return true;
}

}  // namespace

Placement place_hunks(std::string_view target, const std::vector<Hunk>& hunks, int max_fuzz) {
  const std::vector<std::string> lines = split_lines(target);
  const long n = static_cast<long>(lines.size());
  Placement placement;
  std::string out;
  long pos = 0;     // first line not yet copied
  long delta = 0;   // the offset of the previous hunk, where the next is looked for first
  for (const Hunk& hunk : hunks) {
    bool found = false;
    for (int f = 0; f <= max_fuzz && !found; ++f) {
      const std::size_t lead = static_cast<std::size_t>(std::min(f, hunk.leading_context));
      const std::size_t trail = static_cast<std::size_t>(std::min(f, hunk.trailing_context));
      if (lead + trail > hunk.old_lines.size() || lead + trail > hunk.new_lines.size()) continue;
      const std::size_t count = hunk.old_lines.size() - lead - trail;
      const long named = (hunk.old_lines.empty() ? hunk.old_start : hunk.old_start - 1) + static_cast<long>(lead);
      const long expected = named + delta;
      const long last = n - static_cast<long>(count);
      for (long k = 0; !found; ++k) {
        const long candidates[2] = {expected + k, expected - k};
        bool in_range = false;
        for (int side = 0; side < (k == 0 ? 1 : 2) && !found; ++side) {
          const long at = candidates[side];
          if (at < pos || at > last) continue;
          in_range = true;
          if (!matches_at(lines, static_cast<std::size_t>(at), hunk.old_lines, lead, count)) continue;
          found = true;
          for (long i = pos; i < at; ++i) out += lines[static_cast<std::size_t>(i)];
          for (std::size_t i = lead; i < hunk.new_lines.size() - trail; ++i) out += hunk.new_lines[i];
          pos = at + static_cast<long>(count);
          delta = at - named;
          placement.max_offset = std::max(placement.max_offset, static_cast<int>(std::labs(delta)));
          placement.fuzz = std::max(placement.fuzz, f);
        }
        if (!in_range && (expected + k > last) && (expected - k < pos)) break;
      }
    }
    if (!found) return {};
  }
  for (long i = pos; i < n; ++i) out += lines[static_cast<std::size_t>(i)];
  placement.placed = true;
  placement.result = std::move(out);
  return placement;
}

std::vector<std::string> conflict_ranges(std::string_view merged) {
  std::vector<std::string> ranges;
  const auto lines = split_lines(merged);
  std::size_t start = 0;
  bool open = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!open && lines[i].starts_with("<<<<<<<")) {
      open = true;
      start = i + 1;
    } else if (open && lines[i].starts_with(">>>>>>>")) {
      open = false;
      ranges.push_back(std::to_string(start) + "-" + std::to_string(i + 1));
    }
  }
  return ranges;
}

bool has_conflict_markers(std::string_view text) {
  for (const auto& line : split_lines(text))
    if (line.starts_with("<<<<<<< ") || line.starts_with(">>>>>>> ") || line == "=======\n" || line == "=======")
      return true;
  return false;
}

}  // namespace poe
