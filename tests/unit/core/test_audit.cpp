// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/audit.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tempdir.hpp"

TEST(Audit, OneJsonLinePerCommand) {
  test::TempDir dir;
  core::Paths paths(dir.path());
  paths.prepare_for_writing();
  core::audit(paths, {"xoe", {"service", "create", "acme"}, 0, {}});
  core::audit(paths, {"xoe", {"service", "remove", "acme"}, 3, "service 'acme' not found"});
  std::ifstream in(paths.log() / "audit.jsonl");
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["tool"], "xoe");
  EXPECT_EQ(lines[0]["command"], (std::vector<std::string>{"service", "create", "acme"}));
  EXPECT_EQ(lines[0]["exit"], 0);
  EXPECT_FALSE(lines[0].contains("error"));
  EXPECT_EQ(lines[1]["exit"], 3);
  EXPECT_EQ(lines[1]["error"], "service 'acme' not found");
  EXPECT_TRUE(lines[1].contains("time"));
  EXPECT_TRUE(lines[1].contains("user"));
}
