// SPDX-License-Identifier: GPL-3.0-or-later
// cloe node add NAME --address IP [...]; node list; node show NAME [--check]; node drain NAME [--undo]; node remove NAME
#include "cloe/host.hpp"
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {
namespace {

nlohmann::json node_json(const Node& n) {
  nlohmann::json storage = nlohmann::json::array();
  for (const auto& sc : n.storage)
    storage.push_back({{"class", sc.name}, {"path", sc.path}, {"disk", sc.disk}, {"disk_used", sc.disk_used}});
  return {{"cluster", n.cluster},
          {"name", n.name},
          {"address", n.address},
          {"ssh_port", n.ssh_port},
          {"transport", transport_name(n.transport)},
          {"host_key", n.host_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.host_key)},
          {"fingerprint", n.fingerprint.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.fingerprint)},
          {"cpus", n.cpus},
          {"memory", n.memory},
          {"memory_used", n.memory_used},
          {"cpu_max_used", n.cpu_max_used},
          {"storage", storage},
          {"drained", n.drained},
          {"vservers", n.vservers},
          {"created", n.created}};
}

std::string storage_text(const Node& n) {
  std::string out;
  for (const auto& sc : n.storage)
    out += (out.empty() ? "" : ", ") + fmt::format("{}={} ({})", sc.name, sc.path, format_size(sc.disk));
  return out;
}

void print_node(core::cli::Frame& frame, const Node& n) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"node", node_json(n)}}.dump(2) + "\n");
    return;
  }
  core::cli::Frame::out(core::render_fields({
      {"name", n.name},
      {"cluster", n.cluster},
      {"address", n.address},
      {"transport", n.transport == Transport::local ? "local (direct execution)"
                                                   : fmt::format("ssh, port {}", n.ssh_port)},
      {"host key", n.host_key.empty() ? "(none)" : n.fingerprint},
      {"cpus", std::to_string(n.cpus)},
      {"memory", format_size(n.memory) + " (" + format_size(n.memory_used) + " held by vservers)"},
      {"storage", storage_text(n)},
      {"drained", n.drained ? "yes" : "no"},
      {"vservers", std::to_string(n.vservers)},
      {"created", n.created},
  }));
}

}  // namespace

void add_node(core::cli::Frame& frame, const ClusterOption& cluster) {
  CLI::App* group = frame.group(frame.app(), "node", "Record, show, drain and remove the nodes of a cluster");

  struct AddOptions {
    NodeAddRequest rq;
    bool local = false;
    std::string storage, host_key, accept, memory, disk;
    std::int64_t cpus = 0;
  };
  auto o = std::make_shared<AddOptions>();
  CLI::App* add = frame.command(
      *group, "add",
      "Record a node: reach it (SSH with its pinned host key, or directly with --local), probe what capacity "
      "is not given (nproc, /proc/meminfo, df)",
      core::cli::Effect::mutates, [&frame, o, cluster] {
        Settings s = settings(frame);
        NodeAddRequest rq = o->rq;
        rq.cluster = cluster_name(s, *cluster);
        if (o->local) rq.transport = Transport::local;
        if (!o->storage.empty()) rq.storage = o->storage;
        if (!o->host_key.empty()) rq.host_key = o->host_key;
        if (!o->accept.empty()) rq.accept_host_key = o->accept;
        if (!o->memory.empty()) rq.memory = o->memory;
        if (!o->disk.empty()) rq.disk = o->disk;
        if (o->cpus != 0) rq.cpus = o->cpus;
        Node n = node_add(s, rq);
        if (frame.globals().json) {
          nlohmann::json j = {{"version", 1}, {"node", node_json(n)}, {"probed", n.probed}};
          core::cli::Frame::out(j.dump(2) + "\n");
        } else {
          std::string probed;
          for (const auto& p : n.probed) probed += (probed.empty() ? "" : ", ") + p;
          core::cli::Frame::out(fmt::format("node {} added to cluster {}: {}, {} CPUs, {} memory, {}{}\n", n.name,
                                            n.cluster, n.address, n.cpus, format_size(n.memory), storage_text(n),
                                            probed.empty() ? "" : " (probed: " + probed + ")"));
        }
        return core::exit_code::ok;
      });
  add->add_option("name", o->rq.name, "Node name (an RFC 1123 label)")->required();
  add->add_option("--address", o->rq.address, "Its IPv4 address on the cluster's network")->required();
  add->add_option("--ssh-port", o->rq.ssh_port, "Its sshd's port")->default_str("22");
  add->add_flag("--local", o->local, "The referee itself: direct execution, no SSH");
  add->add_option("--storage", o->storage,
                  "Storage classes and their folders on the node, CLASS=PATH,... (default ssd=/var/lib/oe/storage/ssd)");
  add->add_option("--host-key", o->host_key, "Its SSH host key, TYPE BASE64 (a line of ssh_host_*_key.pub): pinned");
  add->add_option("--accept-host-key", o->accept,
                  "Pin the key ssh-keyscan shows when its fingerprint is this SHA256:...");
  add->add_option("--cpus", o->cpus, "CPUs for vservers (default: nproc on the node)");
  add->add_option("--memory", o->memory, "Memory for vservers, a size (default: MemTotal on the node)");
  add->add_option("--disk", o->disk, "Disk per class, CLASS=SIZE,... or one SIZE (default: df of each folder)");

  frame.command(*group, "list", "The nodes of the cluster", core::cli::Effect::reads, [&frame, cluster] {
    Settings s = settings(frame);
    std::vector<Node> all = node_list(s, cluster_name(s, *cluster));
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& n : all) list.push_back(node_json(n));
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"nodes", list}}.dump(2) + "\n");
      return core::exit_code::ok;
    }
    core::Table table{{"NAME", "ADDRESS", "TRANSPORT", "CPUS", "MEMORY", "STORAGE", "DRAINED", "VSERVERS"}, {}};
    for (const auto& n : all)
      table.rows.push_back({n.name, n.address, transport_name(n.transport), std::to_string(n.cpus),
                            format_size(n.memory), storage_text(n), n.drained ? "yes" : "no",
                            std::to_string(n.vservers)});
    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
    return core::exit_code::ok;
  });

  struct ShowOptions {
    std::string name;
    bool check = false;
  };
  auto so = std::make_shared<ShowOptions>();
  CLI::App* show = frame.command(
      *group, "show", "One node in detail; --check reaches it and shows what it has now", core::cli::Effect::reads,
      [&frame, so, cluster] {
        Settings s = settings(frame);
        std::string c = cluster_name(s, *cluster);
        if (!so->check) {
          print_node(frame, node_show(s, c, so->name));
          return core::exit_code::ok;
        }
        NodeCheck check = node_check(s, c, so->name);
        if (frame.globals().json) {
          nlohmann::json j = {{"version", 1},
                              {"node", node_json(check.node)},
                              {"seen", {{"reachable", true}, {"cpus", check.cpus}, {"memory", check.memory},
                                        {"disk", check.disk}}}};
          core::cli::Frame::out(j.dump(2) + "\n");
        } else {
          print_node(frame, check.node);
          std::string disks;
          for (const auto& [cls, size] : check.disk) disks += (disks.empty() ? "" : ", ") + cls + "=" + format_size(size);
          core::cli::Frame::out(fmt::format("seen now: reachable, {} CPUs, {} memory, {}\n", check.cpus,
                                            format_size(check.memory), disks));
        }
        return core::exit_code::ok;
      });
  show->add_option("name", so->name, "Node name")->required();
  show->add_flag("--check", so->check, "Reach the node (its pinned host key) and probe it");

  struct DrainOptions {
    std::string name;
    bool undo = false;
  };
  auto d = std::make_shared<DrainOptions>();
  CLI::App* drain = frame.command(
      *group, "drain", "Keep new vservers off a node (its vservers stay); --undo takes it back",
      core::cli::Effect::mutates, [&frame, d, cluster] {
        Settings s = settings(frame);
        Node n = node_drain(s, cluster_name(s, *cluster), d->name, !d->undo);
        if (frame.globals().json)
          print_node(frame, n);
        else
          core::cli::Frame::out(fmt::format("node {} {}\n", n.name, n.drained ? "drained" : "open for new vservers"));
        return core::exit_code::ok;
      });
  drain->add_option("name", d->name, "Node name")->required();
  drain->add_flag("--undo", d->undo, "Open the node for new vservers again");

  auto rname = std::make_shared<std::string>();
  CLI::App* remove = frame.command(
      *group, "remove", "Forget a node that holds no vserver (its host key leaves the cluster's known_hosts)",
      core::cli::Effect::mutates, [&frame, rname, cluster] {
        Settings s = settings(frame);
        std::string c = cluster_name(s, *cluster);
        node_remove(s, c, *rname);
        if (frame.globals().json)
          core::cli::Frame::out(nlohmann::json{{"version", 1}, {"removed", *rname}, {"cluster", c}}.dump(2) + "\n");
        else
          core::cli::Frame::out(fmt::format("node {} removed from cluster {}\n", *rname, c));
        return core::exit_code::ok;
      });
  remove->add_option("name", *rname, "Node name")->required();

  struct InstallOptions {
    std::string name;
    std::string uplink;
    bool dry_run = false;
  };
  auto io = std::make_shared<InstallOptions>();
  CLI::App* install = frame.command(
      *group, "install-host",
      "Make a node ready for vservers: packages, libvirtd, the bridge with its address, the storage folders "
      "(each step checked first: a second run changes nothing)",
      core::cli::Effect::mutates, [&frame, io, cluster] {
        Settings s = settings(frame);
        InstallHostResult r = node_install_host(s, cluster_name(s, *cluster), io->name, io->dry_run, io->uplink);
        if (frame.globals().json) {
          nlohmann::json steps = nlohmann::json::array();
          for (const auto& st : r.steps)
            steps.push_back({{"step", st.name}, {"detail", st.detail}, {"changed", st.changed}});
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"node", r.node.name},
                                               {"dry_run", r.dry_run},
                                               {"changed", r.changed()},
                                               {"steps", steps}}
                                    .dump(2) +
                                "\n");
          return core::exit_code::ok;
        }
        core::Table table{{"STEP", r.dry_run ? "PLAN" : "CHANGED", "DETAIL"}, {}};
        for (const auto& st : r.steps) table.rows.push_back({st.name, st.changed ? "yes" : "no", st.detail});
        core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
        core::cli::Frame::out(fmt::format("node {}: {}\n", r.node.name,
                                          r.dry_run ? (r.changed() ? "changes planned (--dry-run: none made)"
                                                                   : "ready, nothing to change")
                                                    : (r.changed() ? "ready" : "ready, nothing changed")));
        return core::exit_code::ok;
      });
  install->add_option("name", io->name, "Node name")->required();
  install->add_flag("--dry-run", io->dry_run, "Show what would change, change nothing");
  install->add_option("--uplink", io->uplink,
                      "The node's link into the network that spans the nodes: made the bridge's port, the node's "
                      "address and routes moved from it onto the bridge");
}

}  // namespace cloe::cli
