// SPDX-License-Identifier: GPL-3.0-or-later
// cloe cluster init NAME [--network CIDR] [--gateway IP] [--pool FIRST-LAST]; cluster list; cluster show [NAME]
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {
namespace {

nlohmann::json cluster_json(const Cluster& c) {
  return {{"name", c.name},           {"network", c.network},     {"gateway", c.gateway},
          {"pool", {{"first", c.pool_first}, {"last", c.pool_last}, {"size", c.pool_size}, {"used", c.pool_used}}},
          {"nodes", c.nodes},         {"vservers", c.vservers},   {"created", c.created}};
}

void print_cluster(core::cli::Frame& frame, const Cluster& c) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"cluster", cluster_json(c)}}.dump(2) + "\n");
    return;
  }
  core::cli::Frame::out(core::render_fields({
      {"name", c.name},
      {"network", c.network},
      {"gateway", c.gateway},
      {"pool", fmt::format("{}-{} ({} used of {})", c.pool_first, c.pool_last, c.pool_used, c.pool_size)},
      {"nodes", std::to_string(c.nodes)},
      {"vservers", std::to_string(c.vservers)},
      {"created", c.created},
  }));
}

}  // namespace

void add_cluster(core::cli::Frame& frame, const ClusterOption& cluster) {
  CLI::App* group = frame.group(frame.app(), "cluster", "Record and show clusters");

  auto rq = std::make_shared<ClusterInitRequest>();
  auto gateway = std::make_shared<std::string>();
  auto pool = std::make_shared<std::string>();
  CLI::App* init = frame.command(*group, "init", "Record a new cluster: its vserver network, gateway and IP pool",
                                 core::cli::Effect::mutates, [&frame, rq, gateway, pool] {
                                   if (!gateway->empty()) rq->gateway = *gateway;
                                   if (!pool->empty()) rq->pool = *pool;
                                   Cluster c = cluster_init(settings(frame), *rq);
                                   if (frame.globals().json)
                                     print_cluster(frame, c);
                                   else
                                     core::cli::Frame::out(fmt::format("cluster {} initialised: network {}, gateway "
                                                                       "{}, pool {}-{}\n",
                                                                       c.name, c.network, c.gateway, c.pool_first,
                                                                       c.pool_last));
                                   return core::exit_code::ok;
                                 });
  init->add_option("name", rq->name, "Cluster name (an RFC 1123 label)")->required();
  init->add_option("--network", rq->network, "The vserver network spanning the nodes, CIDR")
      ->default_str(rq->network);
  init->add_option("--gateway", *gateway, "The network's gateway (default: its first host address)");
  init->add_option("--pool", *pool, "The vservers' addresses, FIRST-LAST (default: the upper half of the network)");

  frame.command(*group, "list", "Every cluster", core::cli::Effect::reads, [&frame] {
    std::vector<Cluster> all = cluster_list(settings(frame));
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& c : all) list.push_back(cluster_json(c));
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"clusters", list}}.dump(2) + "\n");
      return core::exit_code::ok;
    }
    core::Table table{{"NAME", "NETWORK", "GATEWAY", "POOL", "NODES", "VSERVERS"}, {}};
    for (const auto& c : all)
      table.rows.push_back({c.name, c.network, c.gateway, c.pool_first + "-" + c.pool_last, std::to_string(c.nodes),
                            std::to_string(c.vservers)});
    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
    return core::exit_code::ok;
  });

  auto name = std::make_shared<std::string>();
  CLI::App* show = frame.command(*group, "show", "One cluster in detail (default: --cluster, else cluster.name)",
                                 core::cli::Effect::reads, [&frame, name, cluster] {
                                   Settings s = settings(frame);
                                   std::string n = name->empty() ? cluster_name(s, *cluster) : *name;
                                   print_cluster(frame, cluster_show(s, n));
                                   return core::exit_code::ok;
                                 });
  show->add_option("name", *name, "Cluster name");
}

}  // namespace cloe::cli
