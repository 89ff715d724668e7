// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private to libpoe: placing a patch's hunks in a file whose lines moved.
// libgit2 places a hunk only at the line it names; this search tries the
// nearest positions first (as GNU patch does) and, only when asked, drops up
// to `fuzz` context lines at each end of a hunk.

#include <string>
#include <string_view>
#include <vector>

namespace poe {

struct Hunk {
  int old_start = 0;                   // as in "@@ -old_start,len": 1-based
  std::vector<std::string> old_lines;  // context and removed lines, each with its '\n' when it has one
  std::vector<std::string> new_lines;  // context and added lines
  int leading_context = 0;
  int trailing_context = 0;
};

struct Placement {
  bool placed = false;
  int max_offset = 0;  // the largest distance, in lines, of a hunk from where it was named
  int fuzz = 0;        // the most context lines dropped from one end of a hunk
  std::string result;  // the file with every hunk applied (when placed)
};

// Lines of `text`, each keeping its '\n' (the last one may lack it).
std::vector<std::string> split_lines(std::string_view text);

// Places the hunks, in order and without overlap, in `target`.
Placement place_hunks(std::string_view target, const std::vector<Hunk>& hunks, int max_fuzz);

// "START-END" (1-based) of each conflict between "<<<<<<<" and ">>>>>>>"
// markers in a merged file.
std::vector<std::string> conflict_ranges(std::string_view merged);

// True when a line starts with a conflict marker ("<<<<<<< ", "=======",
// ">>>>>>> ").
bool has_conflict_markers(std::string_view text);

}  // namespace poe
