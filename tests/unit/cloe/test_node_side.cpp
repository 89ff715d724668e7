// SPDX-License-Identifier: GPL-3.0-or-later
// `cloe __node OP ARG...` (node_side.hpp), what the referee runs on a node
// reached over SSH: every argument is checked before anything is done, and
// a refusal is exit 2 with nothing made.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../core/tempdir.hpp"
#include "node_side.hpp"

namespace {

int node(std::vector<std::string> args) {
  args.insert(args.begin(), {"cloe", "__node"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cloe::node_side::main(static_cast<int>(args.size()), argv.data());
}

TEST(CloeNodeSide, BadArgumentsAreRefusedBeforeAnythingIsMade) {
  test::TempDir dir;
  std::string storage = (dir.path() / "ssd").string();
  std::string tpl = (dir.path() / "tpl").string();
  EXPECT_EQ(node({}), 2);
  EXPECT_EQ(node({"nosuch"}), 2);
  // Paths: absolute, without "..".
  EXPECT_EQ(node({"layers-mount", "ssd", "v1", tpl, "4194304", "65536", "67108864"}), 2);
  EXPECT_EQ(node({"layers-mount", storage + "/../x", "v1", tpl, "4194304", "65536", "67108864"}), 2);
  EXPECT_EQ(node({"layers-mount", storage, "v1", "rootfs", "4194304", "65536", "67108864"}), 2);
  // Names: labels.
  EXPECT_EQ(node({"layers-mount", storage, "../v1", tpl, "4194304", "65536", "67108864"}), 2);
  EXPECT_EQ(node({"layers-remove", storage, "V_1"}), 2);
  // Numbers: whole, in range.
  EXPECT_EQ(node({"layers-mount", storage, "v1", tpl, "-1", "65536", "67108864"}), 2);
  EXPECT_EQ(node({"layers-mount", storage, "v1", tpl, "4194304", "0", "67108864"}), 2);
  EXPECT_EQ(node({"layers-mount", storage, "v1", tpl, "4294967295", "65536", "67108864"}), 2);
  EXPECT_EQ(node({"layers-grow", storage, "v1", "12M"}), 2);
  EXPECT_EQ(node({"lxc-stop", "lxc:///system", "v1", "0"}), 2);
  EXPECT_EQ(node({"lxc-set-live", "lxc:///system", "v1", "x", "-", "-"}), 2);
  // The URI: lxc:// only.
  EXPECT_EQ(node({"lxc-state", "qemu:///system", "v1"}), 2);
  EXPECT_EQ(node({"lxc-state", "lxc:///system"}), 2);                 // a name missing
  EXPECT_EQ(node({"lxc-state", "lxc:///system", "v1", "extra"}), 2);  // one too many
  EXPECT_FALSE(std::filesystem::exists(storage));
}

TEST(CloeNodeSide, PingAnswersTheProtocol) {
  testing::internal::CaptureStdout();
  int rc = node({"ping"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, std::string(cloe::node_side::ping_answer) + "\n");
  EXPECT_EQ(node({"ping", "extra"}), 2);
}

TEST(CloeNodeSide, LayersMountedAnswersNoForAnUnmountedVserver) {
  test::TempDir dir;
  testing::internal::CaptureStdout();
  int rc = node({"layers-mounted", (dir.path() / "ssd").string(), "v1"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "no\n");
}

}  // namespace
