// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Placement of a new vserver (`--node auto`), as pure logic: a function of an
// inventory snapshot and a request, with no I/O, so that it is the same on
// every run and can be tested on any synthetic inventory.
//
// The rules (docs/cloe.md, "Placement"):
//   1. A drained node is never chosen.
//   2. The node must have the requested storage class.
//   3. Hard limits are never overcommitted: the memory limits of its
//      vservers plus the new one stay within the node's memory; the disk
//      quotas on the class plus the new one within the class's capacity; the
//      CPU caps (--cpu-max, percent of one CPU) within 100 x its CPUs. CPU
//      shares are relative weights, not limits, and never refuse a node.
//   4. Among the nodes that fit, the one with the lowest load after placing
//      it wins, load being the largest of its memory, disk (that class) and
//      CPU-cap fractions; ties go to the node with fewer vservers, then to
//      the smaller name. So load spreads, and the answer is deterministic
//      (it does not depend on the order of the snapshot).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cloe {

struct PlacementNode {
  std::string name;
  bool drained = false;
  std::int64_t cpus = 0;
  std::int64_t memory = 0;       // bytes
  std::int64_t memory_used = 0;  // sum of the memory limits of its vservers
  std::int64_t cpu_max_used = 0;  // sum of their CPU caps, percent of one CPU
  std::map<std::string, std::int64_t> disk;       // capacity per storage class, bytes
  std::map<std::string, std::int64_t> disk_used;  // sum of the disk quotas per class
  std::int64_t vservers = 0;
};

struct PlacementRequest {
  std::int64_t memory = 0;  // bytes (its hard limit)
  std::int64_t disk = 0;    // bytes (its disk quota)
  std::string storage;      // class
  std::int64_t cpu_max = 0;  // percent of one CPU; 0: no cap
};

struct Placement {
  std::optional<std::string> node;  // the chosen node, or none fits
  std::string reason;               // when none fits: why, for the one-line error
};

Placement place(const std::vector<PlacementNode>& nodes, const PlacementRequest& request);

// The load (0..1+) of `node` once `request` is on it, as rule 4 defines it.
double load_after(const PlacementNode& node, const PlacementRequest& request);

}  // namespace cloe
