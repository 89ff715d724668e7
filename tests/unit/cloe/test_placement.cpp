// SPDX-License-Identifier: GPL-3.0-or-later
// Placement as pure logic, with properties checked on synthetic 100-node
// inventories (seeded, so a failure is reproducible): never a drained node,
// never a node without the class, never an overcommitted hard limit, the
// same answer for any order of the nodes, and load that spreads.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cloe/placement.hpp"

namespace {

constexpr std::int64_t GiB = std::int64_t{1} << 30;

std::vector<cloe::PlacementNode> inventory(std::mt19937_64& rng, int count = 100) {
  std::vector<cloe::PlacementNode> nodes;
  for (int i = 0; i < count; ++i) {
    cloe::PlacementNode n;
    n.name = "node" + std::to_string(1000 + i);
    n.drained = rng() % 10 == 0;
    n.cpus = 1 + static_cast<std::int64_t>(rng() % 64);
    n.memory = (4 + static_cast<std::int64_t>(rng() % 252)) * GiB;
    n.memory_used = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n.memory + 1));
    n.cpu_max_used = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n.cpus * 100 + 1));
    for (const char* cls : {"ssd", "sata"}) {
      if (rng() % 3 == 0) continue;
      std::int64_t cap = (50 + static_cast<std::int64_t>(rng() % 4000)) * GiB;
      n.disk[cls] = cap;
      n.disk_used[cls] = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(cap + 1));
    }
    n.vservers = static_cast<std::int64_t>(rng() % 200);
    nodes.push_back(n);
  }
  return nodes;
}

cloe::PlacementRequest request(std::mt19937_64& rng) {
  cloe::PlacementRequest r;
  // One request in five is large: some of those fit nowhere.
  r.memory = (1 + static_cast<std::int64_t>(rng() % (rng() % 5 == 0 ? 300 : 32))) * GiB;
  r.disk = (1 + static_cast<std::int64_t>(rng() % 200)) * GiB;
  r.storage = rng() % 2 ? "ssd" : "sata";
  r.cpu_max = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 400);
  return r;
}

bool fits(const cloe::PlacementNode& n, const cloe::PlacementRequest& r) {
  if (n.drained || !n.disk.contains(r.storage)) return false;
  return n.memory_used + r.memory <= n.memory && n.disk_used.at(r.storage) + r.disk <= n.disk.at(r.storage) &&
         n.cpu_max_used + r.cpu_max <= n.cpus * 100;
}

const cloe::PlacementNode& named(const std::vector<cloe::PlacementNode>& nodes, const std::string& name) {
  return *std::ranges::find(nodes, name, &cloe::PlacementNode::name);
}

TEST(CloePlacement, PropertiesOnSyntheticInventories) {
  std::mt19937_64 rng(20261203);
  int placed = 0, refused = 0;
  for (int round = 0; round < 300; ++round) {
    auto nodes = inventory(rng);
    auto rq = request(rng);
    cloe::Placement p = cloe::place(nodes, rq);
    bool any = std::ranges::any_of(nodes, [&](const auto& n) { return fits(n, rq); });
    ASSERT_EQ(p.node.has_value(), any) << "round " << round << ": " << p.reason;
    if (!p.node) {
      ++refused;
      EXPECT_FALSE(p.reason.empty());
      continue;
    }
    ++placed;
    const auto& chosen = named(nodes, *p.node);
    EXPECT_FALSE(chosen.drained) << "round " << round;
    EXPECT_TRUE(fits(chosen, rq)) << "round " << round << ": overcommitted " << chosen.name;
    // Least loaded of those that fit.
    for (const auto& n : nodes)
      if (fits(n, rq)) {
        EXPECT_LE(cloe::load_after(chosen, rq), cloe::load_after(n, rq)) << n.name;
      }
    // Deterministic: any order of the snapshot, and a second call, give the same node.
    EXPECT_EQ(cloe::place(nodes, rq).node, p.node);
    auto shuffled = nodes;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(cloe::place(shuffled, rq).node, p.node) << "round " << round;
  }
  // The generator makes both outcomes, or the properties above proved little.
  EXPECT_GT(placed, 50);
  EXPECT_GT(refused, 0);
}

TEST(CloePlacement, FillingACLusterNeverOvercommitsAndSpreads) {
  std::mt19937_64 rng(7);
  auto nodes = inventory(rng);
  for (auto& n : nodes) {  // empty nodes, each with ssd
    n.memory_used = n.cpu_max_used = n.vservers = 0;
    n.disk["ssd"] = std::max<std::int64_t>(n.disk.contains("ssd") ? n.disk["ssd"] : 0, 100 * GiB);
    for (auto& [cls, used] : n.disk_used) used = 0;
    n.disk_used["ssd"] = 0;
  }
  cloe::PlacementRequest rq{2 * GiB, 10 * GiB, "ssd", 50};
  int placed = 0;
  while (true) {
    cloe::Placement p = cloe::place(nodes, rq);
    if (!p.node) break;
    auto& n = *std::ranges::find(nodes, *p.node, &cloe::PlacementNode::name);
    n.memory_used += rq.memory;
    n.disk_used["ssd"] += rq.disk;
    n.cpu_max_used += rq.cpu_max;
    ++n.vservers;
    ++placed;
    ASSERT_LE(n.memory_used, n.memory);
    ASSERT_LE(n.disk_used["ssd"], n.disk["ssd"]);
    ASSERT_LE(n.cpu_max_used, n.cpus * 100);
    ASSERT_LT(placed, 100000);
  }
  EXPECT_GT(placed, 100);
  for (const auto& n : nodes) {
    if (n.drained) {
      EXPECT_EQ(n.vservers, 0) << n.name;  // never chosen
    } else {
      EXPECT_FALSE(fits(n, rq)) << n.name << " still had room when placement said no";
      EXPECT_GT(n.vservers, 0) << n.name;  // spread: every open node got some
    }
  }
}

TEST(CloePlacement, SmallCases) {
  cloe::PlacementNode a{"a", false, 4, 8 * GiB, 0, 0, {{"ssd", 100 * GiB}}, {{"ssd", 0}}, 0};
  cloe::PlacementNode b = a;
  b.name = "b";
  cloe::PlacementRequest rq{1 * GiB, 1 * GiB, "ssd", 0};
  // Equal load: fewer vservers, then the smaller name.
  EXPECT_EQ(cloe::place({b, a}, rq).node, "a");
  a.vservers = 1;
  EXPECT_EQ(cloe::place({a, b}, rq).node, "b");
  // Shares are not a limit, a CPU cap is.
  rq.cpu_max = 401;
  EXPECT_FALSE(cloe::place({a, b}, rq).node);
  rq.cpu_max = 400;
  EXPECT_TRUE(cloe::place({a, b}, rq).node);
  // Exactly full fits; one byte more does not.
  rq = {8 * GiB, 100 * GiB, "ssd", 0};
  EXPECT_TRUE(cloe::place({a}, rq).node);
  rq.memory += 1;
  cloe::Placement p = cloe::place({a}, rq);
  EXPECT_FALSE(p.node);
  EXPECT_EQ(p.reason, "1 node(s): not enough memory");
  a.drained = true;
  rq.memory = 1;
  EXPECT_EQ(cloe::place({a}, rq).reason, "1 node(s): drained");
  rq.storage = "sata";
  EXPECT_EQ(cloe::place({b}, rq).reason, "1 node(s): no storage class sata");
  EXPECT_EQ(cloe::place({}, rq).reason, "the cluster has no node");
}

}  // namespace
