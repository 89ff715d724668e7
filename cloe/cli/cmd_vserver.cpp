// SPDX-License-Identifier: GPL-3.0-or-later
// cloe vserver create NAME [...]; list; show NAME; start|stop|restart NAME; destroy NAME [--force]; set NAME [...]
#include "cloe/vserver.hpp"
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {
namespace {

nlohmann::json vserver_json(const Vserver& v) {
  return {{"cluster", v.cluster},
          {"name", v.name},
          {"node", v.node},
          {"ip", v.ip},
          {"mac", v.mac},
          {"template", v.template_name},
          {"storage", v.storage},
          {"cpu_shares", v.cpu_shares},
          {"cpu_max", v.cpu_max},
          {"memory", v.memory},
          {"disk", v.disk},
          {"id_base", v.id_base},
          {"state", vserver_state_name(v.state)},
          {"domain", v.domain_state},
          {"groups", v.groups},
          {"created", v.created}};
}

void print_vserver(core::cli::Frame& frame, const Vserver& v, nlohmann::json extra = nlohmann::json::object()) {
  if (frame.globals().json) {
    nlohmann::json j = {{"version", 1}, {"vserver", vserver_json(v)}};
    j.update(extra);
    core::cli::Frame::out(j.dump(2) + "\n");
    return;
  }
  std::string groups;
  for (const auto& g : v.groups) groups += (groups.empty() ? "" : ", ") + g;
  core::cli::Frame::out(core::render_fields({
      {"name", v.name},
      {"cluster", v.cluster},
      {"node", v.node},
      {"state", std::string(vserver_state_name(v.state)) + " (libvirt: " + v.domain_state + ")"},
      {"address", v.ip + " (MAC " + v.mac + ")"},
      {"template", v.template_name},
      {"storage", v.storage},
      {"cpu", fmt::format("shares {}, cap {}", v.cpu_shares, v.cpu_max == 0 ? "none" : std::to_string(v.cpu_max) + "%")},
      {"memory", format_size(v.memory)},
      {"disk", format_size(v.disk)},
      {"ids", fmt::format("{}+65536 (root inside is host id {})", v.id_base, v.id_base)},
      {"groups", groups.empty() ? "(none)" : groups},
      {"created", v.created},
  }));
}

}  // namespace

void add_vserver(core::cli::Frame& frame, const ClusterOption& cluster) {
  CLI::App* group = frame.group(frame.app(), "vserver", "Create, start, stop, change and destroy vservers (libvirt LXC)");

  struct CreateOptions {
    VserverCreateRequest rq;
    std::string node = "auto", ip;
    bool no_start = false;
  };
  auto o = std::make_shared<CreateOptions>();
  CLI::App* create = frame.command(
      *group, "create",
      "Make a vserver: an address and id range of the cluster's, its layers on a node's storage class, its libvirt "
      "LXC domain; started unless --no-start (a killed create is resumed by the same command)",
      core::cli::Effect::mutates, [&frame, o, cluster] {
        Settings s = settings(frame);
        VserverCreateRequest rq = o->rq;
        rq.cluster = cluster_name(s, *cluster);
        rq.node = o->node;
        if (!o->ip.empty()) rq.ip = o->ip;
        rq.start = !o->no_start;
        Vserver v = vserver_create(s, rq);
        if (frame.globals().json)
          print_vserver(frame, v);
        else
          core::cli::Frame::out(fmt::format("vserver {} {} on node {} at {} ({} memory, {} disk)\n", v.name,
                                            v.state == VserverState::running ? "running" : "created", v.node, v.ip,
                                            format_size(v.memory), format_size(v.disk)));
        return core::exit_code::ok;
      });
  create->add_option("name", o->rq.name, "Vserver name (an RFC 1123 label)")->required();
  create->add_option("--node", o->node, "auto (placement) or a node's name")->default_str("auto");
  create->add_option("--template", o->rq.template_name, "Template (cloe template list)")->default_str("base");
  create->add_option("--cpu-shares", o->rq.cpu_shares, "CPU weight, 2..262144")->default_str("1024");
  create->add_option("--cpu-max", o->rq.cpu_max, "CPU cap, percent of one CPU (0: none)")->default_str("0");
  create->add_option("--memory", o->rq.memory, "Memory limit, a size")->default_str("1G");
  create->add_option("--disk", o->rq.disk, "Disk quota, a size (at least 64M)")->default_str("4G");
  create->add_option("--storage", o->rq.storage, "Storage class of its layer")->default_str("ssd");
  create->add_option("--group", o->rq.groups, "A group it belongs to (repeatable)");
  create->add_option("--ip", o->ip, "A free address of the cluster's pool (default: the first free one)");
  create->add_flag("--no-start", o->no_start, "Define it, do not start it");

  struct ListOptions {
    std::string node, group;
  };
  auto lo = std::make_shared<ListOptions>();
  CLI::App* list = frame.command(*group, "list", "The vservers of the cluster, with libvirt's state of each",
                                 core::cli::Effect::reads, [&frame, lo, cluster] {
    Settings s = settings(frame);
    VserverListRequest rq;
    rq.cluster = cluster_name(s, *cluster);
    if (!lo->node.empty()) rq.node = lo->node;
    if (!lo->group.empty()) rq.group = lo->group;
    std::vector<Vserver> all = vserver_list(s, rq);
    if (frame.globals().json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& v : all) arr.push_back(vserver_json(v));
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"vservers", arr}}.dump(2) + "\n");
      return core::exit_code::ok;
    }
    core::Table table{{"NAME", "NODE", "IP", "STATE", "DOMAIN", "MEMORY", "DISK", "CPU", "GROUPS"}, {}};
    for (const auto& v : all) {
      std::string groups;
      for (const auto& g : v.groups) groups += (groups.empty() ? "" : ",") + g;
      table.rows.push_back({v.name, v.node, v.ip, vserver_state_name(v.state), v.domain_state, format_size(v.memory),
                            format_size(v.disk),
                            fmt::format("{}{}", v.cpu_shares, v.cpu_max ? "/" + std::to_string(v.cpu_max) + "%" : ""),
                            groups});
    }
    core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
    return core::exit_code::ok;
  });
  list->add_option("--node", lo->node, "Only those on this node");
  list->add_option("--group", lo->group, "Only those of this group");

  auto sname = std::make_shared<std::string>();
  CLI::App* show = frame.command(*group, "show", "One vserver in detail", core::cli::Effect::reads, [&frame, sname, cluster] {
    Settings s = settings(frame);
    print_vserver(frame, vserver_show(s, cluster_name(s, *cluster), *sname));
    return core::exit_code::ok;
  });
  show->add_option("name", *sname, "Vserver name")->required();

  auto start_name = std::make_shared<std::string>();
  CLI::App* start = frame.command(
      *group, "start", "Mount its layers, start its domain and wait until a command runs inside",
      core::cli::Effect::mutates, [&frame, start_name, cluster] {
        Settings s = settings(frame);
        Vserver v = vserver_start(s, cluster_name(s, *cluster), *start_name);
        if (frame.globals().json)
          print_vserver(frame, v);
        else
          core::cli::Frame::out(fmt::format("vserver {} running at {}\n", v.name, v.ip));
        return core::exit_code::ok;
      });
  start->add_option("name", *start_name, "Vserver name")->required();

  struct StopOptions {
    std::string name;
    std::int64_t timeout = 30;
  };
  for (bool restart : {false, true}) {
    auto so = std::make_shared<StopOptions>();
    CLI::App* stop = frame.command(
        *group, restart ? "restart" : "stop",
        restart ? "A clean stop (forced off after --timeout), then a start"
                : "A clean stop (SIGINT to its init: runit stops its services), forced off after --timeout seconds; "
                  "its layers unmounted",
        core::cli::Effect::mutates, [&frame, so, cluster, restart] {
          Settings s = settings(frame);
          std::string c = cluster_name(s, *cluster);
          VserverStopResult r = vserver_stop(s, c, so->name, so->timeout);
          nlohmann::json extra = {{"was_running", r.was_running}, {"forced", r.forced}, {"seconds", r.seconds}};
          Vserver v = restart ? vserver_start(s, c, so->name) : r.vserver;
          if (frame.globals().json) {
            print_vserver(frame, v, extra);
          } else {
            std::string how = !r.was_running ? "was not running" : r.forced ? fmt::format("forced off after {} s", so->timeout)
                                                                            : fmt::format("stopped in {:.1f} s", r.seconds);
            core::cli::Frame::out(fmt::format("vserver {} {}{}\n", v.name, how, restart ? ", started again" : ""));
          }
          return core::exit_code::ok;
        });
    stop->add_option("name", so->name, "Vserver name")->required();
    stop->add_option("--timeout", so->timeout, "Seconds to wait for a clean stop before forcing it off")->default_str("30");
  }

  auto d = std::make_shared<VserverDestroyRequest>();
  CLI::App* destroy = frame.command(
      *group, "destroy",
      "Remove a vserver for good: its domain, its layers and files, its record (address and ids free again); a "
      "running one only with --force. Rolls back a create that was killed",
      core::cli::Effect::mutates, [&frame, d, cluster] {
        Settings s = settings(frame);
        VserverDestroyRequest rq = *d;
        rq.cluster = cluster_name(s, *cluster);
        vserver_destroy(s, rq);
        if (frame.globals().json)
          core::cli::Frame::out(
              nlohmann::json{{"version", 1}, {"removed", {{"vserver", rq.name}, {"cluster", rq.cluster}}}}.dump(2) + "\n");
        else
          core::cli::Frame::out(fmt::format("vserver {} destroyed\n", rq.name));
        return core::exit_code::ok;
      });
  destroy->add_option("name", d->name, "Vserver name")->required();
  destroy->add_flag("--force", d->force, "Also when it runs (forced off)");

  struct SetOptions {
    VserverSetRequest rq;
    std::int64_t shares = -1, cpu_max = -1;
    std::string memory, disk;
  };
  auto so = std::make_shared<SetOptions>();
  CLI::App* set = frame.command(
      *group, "set",
      "Change the quotas of a vserver: checked against its node, written to its definition, applied at once when it "
      "runs (a disk only grows)",
      core::cli::Effect::mutates, [&frame, so, cluster] {
        Settings s = settings(frame);
        VserverSetRequest rq = so->rq;
        rq.cluster = cluster_name(s, *cluster);
        if (so->shares >= 0) rq.cpu_shares = so->shares;
        if (so->cpu_max >= 0) rq.cpu_max = so->cpu_max;
        if (!so->memory.empty()) rq.memory = so->memory;
        if (!so->disk.empty()) rq.disk = so->disk;
        VserverSetResult r = vserver_set(s, rq);
        if (frame.globals().json) {
          print_vserver(frame, r.vserver, {{"changed", r.changed}, {"live", r.live}, {"pending", r.pending}});
        } else if (r.changed.empty()) {
          core::cli::Frame::out(fmt::format("vserver {}: unchanged\n", rq.name));
        } else {
          core::cli::Frame::out(fmt::format("vserver {}: {} changed{}{}\n", rq.name, fmt::join(r.changed, ", "),
                                            r.live ? " (applied to the running vserver)" : "",
                                            r.pending.empty() ? "" : fmt::format("; {} at its next start",
                                                                                 fmt::join(r.pending, ", "))));
        }
        return core::exit_code::ok;
      });
  set->add_option("name", so->rq.name, "Vserver name")->required();
  set->add_option("--cpu-shares", so->shares, "CPU weight, 2..262144");
  set->add_option("--cpu-max", so->cpu_max, "CPU cap, percent of one CPU (0: none)");
  set->add_option("--memory", so->memory, "Memory limit, a size");
  set->add_option("--disk", so->disk, "Disk quota, a size (only larger)");
}

}  // namespace cloe::cli
