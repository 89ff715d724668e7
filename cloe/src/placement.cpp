// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/placement.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <tuple>

namespace cloe {
namespace {

std::int64_t at(const std::map<std::string, std::int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

double fraction(std::int64_t used, std::int64_t capacity) {
  return capacity > 0 ? static_cast<double>(used) / static_cast<double>(capacity) : 1.0;
}

// Why `node` cannot take `request`, or empty when it can.
std::string misfit(const PlacementNode& n, const PlacementRequest& r) {
  if (n.drained) return "drained";
  if (!n.disk.contains(r.storage)) return "no storage class " + r.storage;
  // Compared as subtractions so that no sum can overflow.
  if (r.memory > n.memory - n.memory_used) return "memory";
  if (r.disk > at(n.disk, r.storage) - at(n.disk_used, r.storage)) return "disk";
  if (r.cpu_max > n.cpus * 100 - n.cpu_max_used) return "cpu";
  return {};
}

}  // namespace

double load_after(const PlacementNode& n, const PlacementRequest& r) {
  double memory = fraction(n.memory_used + r.memory, n.memory);
  double disk = fraction(at(n.disk_used, r.storage) + r.disk, at(n.disk, r.storage));
  double cpu = fraction(n.cpu_max_used + r.cpu_max, n.cpus * 100);
  return std::max({memory, disk, cpu});
}

Placement place(const std::vector<PlacementNode>& nodes, const PlacementRequest& request) {
  const PlacementNode* best = nullptr;
  auto key = [&](const PlacementNode& n) { return std::make_tuple(load_after(n, request), n.vservers, n.name); };
  std::map<std::string, int> refused;  // reason -> number of nodes
  for (const PlacementNode& n : nodes) {
    if (std::string why = misfit(n, request); !why.empty()) {
      ++refused[why];
      continue;
    }
    if (!best || key(n) < key(*best)) best = &n;
  }
  if (best) return {best->name, {}};
  if (nodes.empty()) return {std::nullopt, "the cluster has no node"};
  std::string reason;
  for (const auto& [why, count] : refused)
    reason += fmt::format("{}{} node(s): {}", reason.empty() ? "" : "; ", count,
                          why == "memory" || why == "disk" || why == "cpu" ? "not enough " + why : why);
  return {std::nullopt, reason};
}

}  // namespace cloe
