// SPDX-License-Identifier: GPL-3.0-or-later
#include "hunks.hpp"

#include <gtest/gtest.h>

namespace poe {
namespace {

std::string numbered(int from, int to) {
  std::string text;
  for (int i = from; i <= to; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

// "@@ -5,7 +5,7": lines 5-7 context, 8 replaced by "eight", 9-11 context.
Hunk change_line_8() {
  Hunk h;
  h.old_start = 5;
  for (int i = 5; i <= 11; ++i) h.old_lines.push_back("line " + std::to_string(i) + "\n");
  h.new_lines = h.old_lines;
  h.new_lines[3] = "eight\n";
  h.leading_context = 3;
  h.trailing_context = 3;
  return h;
}

TEST(Hunks, SplitKeepsNewlinesAndALastLineWithout) {
  EXPECT_EQ(split_lines("a\nb"), (std::vector<std::string>{"a\n", "b"}));
  EXPECT_TRUE(split_lines("").empty());
}

TEST(Hunks, PlacesAtTheNamedLine) {
  auto p = place_hunks(numbered(1, 20), {change_line_8()}, 0);
  ASSERT_TRUE(p.placed);
  EXPECT_EQ(p.max_offset, 0);
  EXPECT_NE(p.result.find("line 7\neight\nline 9\n"), std::string::npos);
}

TEST(Hunks, FindsMovedLines) {
  auto p = place_hunks("new 1\nnew 2\n" + numbered(1, 20), {change_line_8()}, 0);
  ASSERT_TRUE(p.placed);
  EXPECT_EQ(p.max_offset, 2);
  EXPECT_EQ(p.fuzz, 0);
}

TEST(Hunks, FuzzOnlyWhenAsked) {
  std::string target = numbered(1, 20);
  target.replace(target.find("line 5\n"), 7, "LINE 5\n");
  EXPECT_FALSE(place_hunks(target, {change_line_8()}, 0).placed);
  auto p = place_hunks(target, {change_line_8()}, 1);
  ASSERT_TRUE(p.placed);
  EXPECT_EQ(p.fuzz, 1);
}

TEST(Hunks, RefusesWhenTheChangedLineIsGone) {
  std::string target = numbered(1, 20);
  target.replace(target.find("line 8\n"), 7, "other\n");
  EXPECT_FALSE(place_hunks(target, {change_line_8()}, 3).placed);
}

TEST(Hunks, ConflictRangesAndMarkers) {
  const std::string merged = "a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\nd\n";
  EXPECT_EQ(conflict_ranges(merged), (std::vector<std::string>{"2-6"}));
  EXPECT_TRUE(has_conflict_markers(merged));
  EXPECT_FALSE(has_conflict_markers("a\n== not a marker\n"));
}

}  // namespace
}  // namespace poe
