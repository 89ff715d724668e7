// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/vserver.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "cloe/placement.hpp"
#include "cloe/template.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "domain.hpp"
#include "inventory_db.hpp"
#include "layers.hpp"
#include "lxc.hpp"
#include "node_side.hpp"
#include "transport.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace cloe {
namespace {

using core::ErrorKind;
using core::fail;

// The host ids of vservers: range k is [first + k * 65536, + 65536). The
// first range starts well above the ids of host users and of Debian's
// /etc/subuid ranges (100000 + 65536 n for the first users).
constexpr std::int64_t id_first = 65536LL * 64;  // 4194304
constexpr std::int64_t id_count = 65536;
constexpr std::int64_t disk_min = 64LL << 20;

const char* state_text(VserverState s) noexcept {
  switch (s) {
    case VserverState::creating: return "creating";
    case VserverState::stopped: return "stopped";
    case VserverState::running: return "running";
    case VserverState::destroying: return "destroying";
  }
  return "creating";
}

VserverState state_of(const std::string& s) {
  if (s == "stopped") return VserverState::stopped;
  if (s == "running") return VserverState::running;
  if (s == "destroying") return VserverState::destroying;
  return VserverState::creating;
}

std::string job_key(const std::string& cluster, const std::string& name) { return "vserver:" + cluster + "." + name; }

std::vector<Vserver> rows(core::sqlite::Database& db, const std::string& cluster, const std::optional<std::string>& name,
                          const std::optional<std::string>& node, const std::optional<std::string>& group) {
  std::vector<Vserver> out;
  auto q = db.query(
      "SELECT name, node, ip, mac, template, storage, cpu_shares, cpu_max, memory, disk, id_base, state, created "
      "FROM vservers v WHERE cluster = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR node = ?3) AND "
      "(?4 IS NULL OR EXISTS (SELECT 1 FROM vserver_groups g WHERE g.vserver = v.name AND g.group_name = ?4)) "
      "ORDER BY name",
      cluster, name, node, group);
  while (q.step()) {
    Vserver v;
    v.cluster = cluster;
    v.name = q.column_text(0);
    v.node = q.column_text(1);
    v.ip = q.column_text(2);
    v.mac = q.column_text(3);
    v.template_name = q.column_text(4);
    v.storage = q.column_text(5);
    v.cpu_shares = q.column_int64(6);
    v.cpu_max = q.column_int64(7);
    v.memory = q.column_int64(8);
    v.disk = q.column_int64(9);
    v.id_base = q.column_int64(10);
    v.state = state_of(q.column_text(11));
    v.created = q.column_text(12);
    out.push_back(std::move(v));
  }
  for (Vserver& v : out) {
    auto g = db.query("SELECT group_name FROM vserver_groups WHERE vserver = ?1 ORDER BY group_name", v.name);
    while (g.step()) v.groups.push_back(g.column_text(0));
  }
  return out;
}

std::optional<Vserver> row(core::sqlite::Database& db, const std::string& cluster, const std::string& name) {
  auto all = rows(db, cluster, name, std::nullopt, std::nullopt);
  if (all.empty()) return std::nullopt;
  return all.front();
}

// Where a vserver lives: its node, the libvirt URI there, its layers, its
// template. On the referee's own node cloe does the work itself; on a node
// reached over SSH the cloe installed there does it (`NODE_BINARY __node
// OP ...`, node_side.hpp) through the node's link: the node's libvirtd is
// reached from the node itself (lxc:///system there), never by libvirt's
// own ssh transport (docs/cloe.md, Remote nodes).
struct Place {
  Node node;
  std::string uri;  // as the program that uses it sees it: the referee's, or the node's own
  layers::Layers layers;
  fs::path template_root;  // on the node
  std::shared_ptr<transport::NodeLink> link;
  std::string binary;  // cloe on the node (remote)
  bool remote() const { return link && link->remote(); }
};

Place place_of(const Settings& s, core::sqlite::Database& db, const Vserver& v) {
  auto nodes = inventory::nodes(db, v.cluster, v.node);
  if (nodes.empty()) fail(ErrorKind::internal, "vserver {}: its node {} is not in the inventory", v.name, v.node);
  Place p;
  p.node = nodes.front();
  p.link = transport::link(s, p.node);
  auto sc = std::find_if(p.node.storage.begin(), p.node.storage.end(), [&](const auto& c) { return c.name == v.storage; });
  if (sc == p.node.storage.end())
    fail(ErrorKind::internal, "vserver {}: node {} has no storage class {}", v.name, p.node.name, v.storage);
  p.layers = layers::of(sc->path, v.name);
  if (p.remote()) {
    if (!fs::path(s.node_binary).is_absolute())
      fail(ErrorKind::invalid, "node.binary '{}': not an absolute path", core::escape_for_display(s.node_binary));
    if (!fs::path(s.node_templates).is_absolute())
      fail(ErrorKind::invalid, "node.templates '{}': not an absolute path", core::escape_for_display(s.node_templates));
    p.uri = "lxc:///system";
    p.binary = s.node_binary;
    p.template_root = fs::path(s.node_templates) / v.template_name / "rootfs";
  } else {
    p.uri = s.libvirt_uri;
    p.template_root = s.templates / v.template_name / "rootfs";
  }
  return p;
}

// `cloe __node OP ARGS...` on the node; its stdout. A failure there comes
// back with the node's one-line message.
std::string node_call(const Place& p, std::vector<std::string> args, std::optional<std::string> stdin_data = {},
                      std::chrono::seconds timeout = 300s) {
  args.insert(args.begin(), {p.binary, "__node"});
  core::RunOptions o;
  o.timeout = timeout;
  o.check = false;
  o.stdin_data = std::move(stdin_data);
  core::RunResult r = p.link->run(args, o);
  if (r.exit_code != 0) {
    std::string msg = r.err;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    if (auto nl = msg.rfind('\n'); nl != std::string::npos) msg = msg.substr(nl + 1);
    fail(ErrorKind::external, "node {}: {}", p.node.name,
         msg.empty() ? fmt::format("{} __node {} exited with status {}", p.binary, args[2], r.exit_code) : msg);
  }
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

// Before anything is written for a vserver on a node reached over SSH: the
// node answers (external otherwise) and its cloe speaks the same node
// protocol (precondition otherwise: not installed, or another version).
void check_node(const Place& p) {
  if (!p.remote()) return;
  core::RunResult r = p.link->run({p.binary, std::string(node_side::command), "ping"}, {.timeout = 60s, .check = false});
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (r.exit_code != 0 || out != node_side::ping_answer)
    fail(ErrorKind::precondition,
         "node {}: {} does not answer as cloe's node side ({}; install the referee's oe-cloe there, or set "
         "node.binary)",
         p.node.name, p.binary,
         r.exit_code == 127 ? std::string("not found") : fmt::format("exit {}, '{}'", r.exit_code, core::escape_for_display(out)));
}

std::string storage_of(const Place& p) { return p.layers.dir.parent_path().parent_path().string(); }
std::string name_of(const Place& p) { return p.layers.dir.filename().string(); }

lxc::State dom_state(const Place& p, const std::string& name) {
  if (!p.remote()) return lxc::state(p.uri, name);
  std::string w = node_call(p, {"lxc-state", p.uri, name}, {}, 60s);
  if (w == "running") return lxc::State::running;
  if (w == "shut_off") return lxc::State::shut_off;
  if (w == "absent") return lxc::State::absent;
  return lxc::State::other;
}

void dom_define(const Place& p, const std::string& xml) {
  if (!p.remote()) return lxc::define(p.uri, xml);
  node_call(p, {"lxc-define", p.uri}, xml, 60s);
}

std::optional<std::string> dom_uuid(const Place& p, const std::string& name) {
  if (!p.remote()) return lxc::uuid(p.uri, name);
  std::string u = node_call(p, {"lxc-uuid", p.uri, name}, {}, 60s);
  if (u.empty()) return std::nullopt;
  return u;
}

void dom_start(const Place& p, const std::string& name) {
  if (!p.remote()) return lxc::start(p.uri, name);
  node_call(p, {"lxc-start", p.uri, name}, {}, 120s);
}

bool dom_stop(const Place& p, const std::string& name, std::chrono::seconds timeout) {
  if (!p.remote()) return lxc::stop(p.uri, name, timeout);
  return node_call(p, {"lxc-stop", p.uri, name, std::to_string(timeout.count())}, {}, timeout + 60s) == "stopped";
}

void dom_destroy(const Place& p, const std::string& name) {
  if (!p.remote()) return lxc::destroy(p.uri, name);
  node_call(p, {"lxc-destroy", p.uri, name}, {}, 120s);
}

void dom_undefine(const Place& p, const std::string& name) {
  if (!p.remote()) return lxc::undefine(p.uri, name);
  node_call(p, {"lxc-undefine", p.uri, name}, {}, 60s);
}

void dom_set_live(const Place& p, const std::string& name, std::optional<unsigned> shares,
                  std::optional<unsigned> cpu_max, std::optional<unsigned long long> memory_kib) {
  if (!p.remote()) return lxc::set_live(p.uri, name, shares, cpu_max, memory_kib);
  auto opt = [](auto v) { return v ? std::to_string(*v) : std::string("-"); };
  node_call(p, {"lxc-set-live", p.uri, name, opt(shares), opt(cpu_max), opt(memory_kib)}, {}, 60s);
}

void layers_mount(const Place& p, std::int64_t base, std::int64_t disk) {
  if (!p.remote())
    return layers::mount(p.layers, p.template_root, static_cast<std::uint32_t>(base),
                         static_cast<std::uint32_t>(id_count), static_cast<std::uint64_t>(disk));
  node_call(p, {"layers-mount", storage_of(p), name_of(p), p.template_root.string(), std::to_string(base),
                std::to_string(id_count), std::to_string(disk)});
}

void layers_unmount(const Place& p) {
  if (!p.remote()) return layers::unmount(p.layers);
  node_call(p, {"layers-unmount", storage_of(p), name_of(p)});
}

void layers_remove(const Place& p) {
  if (!p.remote()) return layers::remove(p.layers);
  node_call(p, {"layers-remove", storage_of(p), name_of(p)});
}

bool layers_mounted(const Place& p) {
  if (!p.remote()) return layers::is_mount_point(p.layers.layer);
  return node_call(p, {"layers-mounted", storage_of(p), name_of(p)}, {}, 60s) == "yes";
}

void layers_grow(const Place& p, std::int64_t bytes) {
  if (!p.remote()) return layers::grow(p.layers, bytes);
  node_call(p, {"layers-grow", storage_of(p), name_of(p), std::to_string(bytes)}, {}, 900s);
}

// The template on a remote node (docs/cloe.md, Remote nodes): copied to
// node.templates/NAME with rsync over the node's SSH when the checksum in
// the node's template.json is not the referee's, rootfs first, template.json
// last (a copy cut short has none, or the old one, and is copied again), under
// a lock per node and template. Another build there is not copied over
// while other vservers of the inventory on that node use it (their lower
// layer): conflict. The referee's own node uses the referee's folder.
void ensure_template(const Settings& s, core::sqlite::Database& db, const Place& p, const Vserver& v) {
  if (!p.remote()) return;
  const std::string& name = v.template_name;
  TemplateInfo tpl = find_template(core::Paths(s.root), name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.template-copy." + v.cluster + "." + p.node.name + "." + name);
  fs::path there = fs::path(s.node_templates) / name;
  auto r = p.link->run({"cat", "--", (there / "template.json").string()}, {.timeout = 60s, .check = false});
  if (r.exit_code == 0) {
    std::string have;
    try {
      have = nlohmann::json::parse(r.out).value("checksum", std::string());
    } catch (const nlohmann::json::exception&) {
      // unreadable: another build
    }
    if (have == tpl.checksum) return;
    std::vector<std::string> users;
    auto q = db.query("SELECT name FROM vservers WHERE cluster = ?1 AND node = ?2 AND template = ?3 AND name != ?4 "
                      "ORDER BY name",
                      v.cluster, p.node.name, name, v.name);
    while (q.step()) users.push_back(q.column_text(0));
    if (!users.empty())
      fail(ErrorKind::conflict,
           "template {} on node {} is another build than the referee's (checksum {}, the referee's {}): not copied "
           "over it while {} use(s) it",
           name, p.node.name, core::escape_for_display(have.substr(0, 12)), tpl.checksum.substr(0, 12),
           fmt::format("{}", fmt::join(users, ", ")));
  }
  auto t0 = std::chrono::steady_clock::now();
  fs::path here = s.templates / name;
  p.link->put_tree(here / "rootfs", (there / "rootfs").string());
  p.link->run({"mkdir", "-p", "--", there.string()}, {.timeout = 60s, .check = true});
  std::string json_text;
  {
    std::ifstream in(here / "template.json");
    json_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string tmp = (there / "template.json.partial").string();
  // Written from stdin, then renamed: two argument vectors, no shell.
  p.link->run({"dd", "of=" + tmp, "status=none"}, {.timeout = 60s, .stdin_data = json_text, .check = true});
  p.link->run({"mv", "-f", "--", tmp, (there / "template.json").string()}, {.timeout = 60s, .check = true});
  core::logger("cloe")->info("template {} copied to node {} in {:.1f} s", name, p.node.name,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

domain::Spec spec_of(const Settings& s, const Cluster& c, const Place& p, const Vserver& v) {
  domain::Spec spec;
  spec.name = v.name;
  spec.uuid = dom_uuid(p, v.name);
  spec.root = p.layers.root.string();
  spec.memory_kib = static_cast<std::uint64_t>(v.memory / 1024);
  spec.memory_hard_limit_kib = spec.memory_kib;
  spec.vcpus = static_cast<unsigned>(std::max<std::int64_t>(1, p.node.cpus));
  spec.cpu_shares = static_cast<unsigned>(v.cpu_shares);
  if (v.cpu_max > 0) spec.cpu_max_percent = static_cast<unsigned>(v.cpu_max);
  spec.idmap = domain::IdMap{static_cast<std::uint32_t>(v.id_base), static_cast<std::uint32_t>(id_count)};
  spec.interfaces.push_back({s.bridge, v.mac, v.ip, inventory::network_prefix(c), c.gateway, std::nullopt});
  domain::validate(spec);
  return spec;
}

std::string self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) fail(ErrorKind::internal, "cannot find cloe's own program: {}", ec.message());
  return p.string();
}

// Waits until a command runs inside (its init has made its root and namespaces).
void wait_ready(const Place& p, const std::string& name, std::chrono::seconds limit = 60s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last;
  std::vector<std::string> argv = {p.remote() ? p.binary : self_exe(), std::string(lxc::enter_command), p.uri, name,
                                   "true"};
  while (true) {
    auto r = p.link->run(argv, {.timeout = 20s, .check = false});
    if (r.exit_code == 0) return;
    last = r.err.substr(0, r.err.find('\n'));
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "vserver {} runs no command {} s after its start: {}", name, limit.count(), last);
    std::this_thread::sleep_for(100ms);
  }
}

void check_quotas(std::int64_t shares, std::int64_t cpu_max) {
  if (shares < 2 || shares > 262144) fail(ErrorKind::invalid, "--cpu-shares {}: between 2 and 262144", shares);
  if (cpu_max < 0 || cpu_max > 100 * 1024)
    fail(ErrorKind::invalid, "--cpu-max {}: a percent of one CPU, 0 (no cap) to 100 times the CPUs", cpu_max);
}

void check_group(const std::string& g) {
  if (g.empty() || g.size() > 63 || g.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    fail(ErrorKind::invalid, "group '{}': lower-case letters, digits, '-' and '_', 1 to 63 of them",
         core::escape_for_display(g));
}

PlacementNode placement_node(const Node& n, const std::optional<std::string>& without = std::nullopt,
                             const Vserver* old = nullptr) {
  PlacementNode p;
  p.name = n.name;
  p.drained = n.drained;
  p.cpus = n.cpus;
  p.memory = n.memory;
  p.memory_used = n.memory_used;
  p.cpu_max_used = n.cpu_max_used;
  p.vservers = n.vservers;
  for (const auto& sc : n.storage) {
    p.disk[sc.name] = sc.disk;
    p.disk_used[sc.name] = sc.disk_used;
  }
  if (without && old) {  // the vserver's own share, for a change of its quotas
    p.memory_used -= old->memory;
    p.cpu_max_used -= old->cpu_max;
    p.disk_used[old->storage] -= old->disk;
    p.vservers -= 1;
  }
  return p;
}

// The job that makes vserver `v` (recorded by its first step). Its steps are
// idempotent; the undos remove what they made.
core::Job create_job(const Settings& s, core::sqlite::Database& db, Vserver& v, const std::function<void()>& record,
                     bool start) {
  core::Job job{"cloe.vserver.create", job_key(v.cluster, v.name), {}};
  job.steps.push_back({"record", record, [&db, &v] {
                         db.execute("DELETE FROM vservers WHERE cluster = ?1 AND name = ?2", v.cluster, v.name);
                       }});
  job.steps.push_back({"template", [&] { ensure_template(s, db, place_of(s, db, v), v); }, {}});
  job.steps.push_back({"layers",
                       [&] {
                         Place p = place_of(s, db, v);
                         layers_mount(p, v.id_base, v.disk);
                       },
                       [&] {
                         if (!row(db, v.cluster, v.name)) return;  // never recorded: nothing was made
                         layers_remove(place_of(s, db, v));
                       }});
  job.steps.push_back({"domain",
                       [&] {
                         Place p = place_of(s, db, v);
                         dom_define(p, domain::xml(spec_of(s, inventory::cluster(db, v.cluster), p, v)));
                       },
                       [&] {
                         if (!row(db, v.cluster, v.name)) return;
                         Place p = place_of(s, db, v);
                         dom_destroy(p, v.name);
                         dom_undefine(p, v.name);
                       }});
  job.steps.push_back({"start",
                       [&, start] {
                         Place p = place_of(s, db, v);
                         if (!start) {  // stopped as after a stop: nothing mounted until its start
                           layers_unmount(p);
                           return;
                         }
                         dom_start(p, v.name);
                         wait_ready(p, v.name);
                       },
                       [&] {
                         if (!row(db, v.cluster, v.name)) return;
                         dom_destroy(place_of(s, db, v), v.name);
                       }});
  job.steps.push_back({"ready", [&, start] {
                         db.execute("UPDATE vservers SET state = ?1 WHERE cluster = ?2 AND name = ?3",
                                    std::string(start ? "running" : "stopped"), v.cluster, v.name);
                       },
                       {}});
  return job;
}

Vserver with_domain_state(const Settings& s, core::sqlite::Database& db, Vserver v) {
  try {
    Place p = place_of(s, db, v);
    switch (dom_state(p, v.name)) {
      case lxc::State::running: v.domain_state = "running"; break;
      case lxc::State::shut_off: v.domain_state = "shut off"; break;
      case lxc::State::absent: v.domain_state = "absent"; break;
      case lxc::State::other: v.domain_state = "other"; break;
    }
  } catch (const core::Error& e) {
    v.domain_state = "unknown";
  }
  return v;
}

core::sqlite::Database open_cluster(const Settings& s, const std::string& cluster) {
  core::validate_label(cluster, "cluster name");
  {
    // Read-only first: an unknown cluster creates no database.
    auto existing = inventory::open_existing(s);
    if (!existing) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", cluster);
    inventory::cluster(*existing, cluster);
  }
  auto db = inventory::open(s);
  inventory::cluster(db, cluster);
  return db;
}

Vserver must_row(core::sqlite::Database& db, const std::string& cluster, const std::string& name) {
  core::validate_label(name, "vserver name");
  auto v = row(db, cluster, name);
  if (!v) fail(ErrorKind::not_found, "no vserver {} in cluster {} (see cloe vserver list)", name, cluster);
  return *v;
}

}  // namespace

const char* vserver_state_name(VserverState state) noexcept { return state_text(state); }

Vserver vserver_create(const Settings& s, const VserverCreateRequest& rq) {
  // The whole request first: nothing is written when a part is wrong.
  core::validate_label(rq.name, "vserver name");
  auto db = open_cluster(s, rq.cluster);
  if (rq.node && *rq.node != "auto") core::validate_label(*rq.node, "node name");
  core::validate_label(rq.storage, "storage class");
  check_quotas(rq.cpu_shares, rq.cpu_max);
  std::int64_t memory = parse_size(rq.memory, "--memory");
  std::int64_t disk = parse_size(rq.disk, "--disk");
  if (memory < (16LL << 20)) fail(ErrorKind::invalid, "--memory {}: at least 16M", rq.memory);
  if (disk < disk_min) fail(ErrorKind::invalid, "--disk {}: at least 64M", rq.disk);
  for (const auto& g : rq.groups) check_group(g);
  std::optional<std::uint32_t> want_ip;
  if (rq.ip) {
    want_ip = inventory::ipv4(*rq.ip);
    if (!want_ip) fail(ErrorKind::invalid, "--ip '{}': not an IPv4 address", core::escape_for_display(*rq.ip));
  }
  TemplateInfo tpl = find_template(core::Paths(s.root), rq.template_name);

  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + rq.name);
  core::JobRunner jobs(db);
  Vserver v;
  v.cluster = rq.cluster;
  v.name = rq.name;
  auto unfinished = jobs.find("cloe.vserver.create", job_key(rq.cluster, rq.name));
  bool resuming = unfinished && unfinished->unfinished();
  if (auto have = row(db, rq.cluster, rq.name)) {
    if (!resuming)
      fail(ErrorKind::conflict, "vserver {} exists already in cluster {}", rq.name, rq.cluster);
    v = *have;  // an interrupted create: finished with what it recorded
    core::logger("cloe")->info("resuming the create of vserver {} (node {}, {})", v.name, v.node, v.ip);
  } else {
    // The name is taken in another cluster (vserver names are one namespace: libvirt's).
    if (db.query("SELECT 1 FROM vservers WHERE name = ?1", rq.name).step())
      fail(ErrorKind::conflict, "vserver name {} is taken in another cluster", rq.name);
  }

  // What it gets (node, address, ids), chosen under the cluster's lock,
  // which the record step releases once the row holds them: a refusal here
  // writes nothing, not even a job.
  std::optional<core::FileLock> cluster_lock;
  if (!resuming || !row(db, rq.cluster, rq.name)) {
    cluster_lock.emplace(core::FileLock::acquire(s.locks, "cloe.cluster." + rq.cluster));
    Cluster c = inventory::cluster(db, rq.cluster);
    // The node: the one asked for, or placement's choice.
    std::vector<Node> nodes = inventory::nodes(db, rq.cluster);
    PlacementRequest prq{memory, disk, rq.storage, rq.cpu_max};
    std::vector<PlacementNode> candidates;
    for (const auto& n : nodes)
      if (!rq.node || *rq.node == "auto" || n.name == *rq.node) candidates.push_back(placement_node(n));
    if (rq.node && *rq.node != "auto") {
      if (candidates.empty()) fail(ErrorKind::not_found, "no node {} in cluster {} (see cloe node list)", *rq.node, rq.cluster);
      if (candidates.front().drained) fail(ErrorKind::conflict, "node {} is drained", *rq.node);
      if (!candidates.front().disk.contains(rq.storage))
        fail(ErrorKind::not_found, "node {} has no storage class {}", *rq.node, rq.storage);
    }
    if (candidates.empty()) fail(ErrorKind::conflict, "cluster {} has no node (see cloe node add)", rq.cluster);
    Placement pl = place(candidates, prq);
    if (!pl.node) fail(ErrorKind::conflict, "no node of cluster {} fits vserver {}: {}", rq.cluster, rq.name, pl.reason);
    // The address: the one asked for (free, in the pool), or the first free one.
    std::uint32_t first = *inventory::ipv4(c.pool_first), last = *inventory::ipv4(c.pool_last);
    std::vector<std::uint32_t> used;
    auto q = db.query("SELECT ip FROM vservers WHERE cluster = ?1", rq.cluster);
    while (q.step()) used.push_back(*inventory::ipv4(q.column_text(0)));
    std::optional<std::uint32_t> ip;
    if (want_ip) {
      if (*want_ip < first || *want_ip > last)
        fail(ErrorKind::invalid, "--ip {}: outside the pool of cluster {} ({}-{})", *rq.ip, rq.cluster, c.pool_first,
             c.pool_last);
      if (std::ranges::find(used, *want_ip) != used.end())
        fail(ErrorKind::conflict, "--ip {}: held by another vserver of cluster {}", *rq.ip, rq.cluster);
      ip = want_ip;
    } else {
      for (std::uint32_t a = first; a <= last && !ip; ++a)
        if (std::ranges::find(used, a) == used.end()) ip = a;
      if (!ip) fail(ErrorKind::conflict, "the pool of cluster {} ({}-{}) is used up", rq.cluster, c.pool_first, c.pool_last);
    }
    // The id range: the lowest free one (the same on every node: one namespace for the referee).
    std::int64_t base = id_first;
    auto ids = db.query("SELECT id_base FROM vservers ORDER BY id_base");
    while (ids.step() && ids.column_int64(0) == base) base += id_count;
    v.node = *pl.node;
    v.ip = inventory::ipv4_text(*ip);
    v.mac = domain::mac_for(v.ip);
    v.template_name = tpl.name;
    v.storage = rq.storage;
    v.cpu_shares = rq.cpu_shares;
    v.cpu_max = rq.cpu_max;
    v.memory = memory;
    v.disk = disk;
    v.id_base = base;
    v.created = inventory::now();
  }
  auto record = [&] {
    if (auto have = row(db, rq.cluster, rq.name)) {  // recorded by an interrupted run
      v = *have;
      cluster_lock.reset();
      return;
    }
    if (!cluster_lock) fail(ErrorKind::internal, "vserver {}: nothing allocated to record", v.name);
    core::sqlite::Transaction tx(db);
    db.execute("INSERT OR IGNORE INTO templates (name, suite, packages, sha256, bytes, created) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               tpl.name, tpl.suite, fmt::format("{}", fmt::join(tpl.packages, ",")), tpl.checksum,
               static_cast<std::int64_t>(tpl.bytes), tpl.built_at);
    db.execute("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, cpu_shares, cpu_max, memory, "
               "disk, id_base, state, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
               "'creating', ?13)",
               v.name, v.cluster, v.node, v.ip, v.mac, v.template_name, v.storage, v.cpu_shares, v.cpu_max, v.memory,
               v.disk, v.id_base, v.created);
    for (const auto& g : rq.groups)
      db.execute("INSERT OR IGNORE INTO vserver_groups (vserver, group_name) VALUES (?1, ?2)", v.name, g);
    tx.commit();
    cluster_lock.reset();
  };
  // A node reached over SSH must answer, with its cloe, before anything is
  // written (the record step is the first write): one line otherwise.
  check_node(place_of(s, db, v));
  core::Job job = create_job(s, db, v, record, rq.start);
  jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  core::logger("cloe")->info("vserver {} created on node {} ({}, ids {}+{})", v.name, v.node, v.ip, v.id_base, id_count);
  return with_domain_state(s, db, must_row(db, rq.cluster, rq.name));
}

std::vector<Vserver> vserver_list(const Settings& s, const VserverListRequest& rq) {
  core::validate_label(rq.cluster, "cluster name");
  if (rq.node) core::validate_label(*rq.node, "node name");
  if (rq.group) check_group(*rq.group);
  auto db = inventory::open_existing(s);
  if (!db) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", rq.cluster);
  inventory::cluster(*db, rq.cluster);
  std::vector<Vserver> out;
  for (auto& v : rows(*db, rq.cluster, std::nullopt, rq.node, rq.group)) out.push_back(with_domain_state(s, *db, v));
  return out;
}

Vserver vserver_show(const Settings& s, const std::string& cluster, const std::string& name) {
  core::validate_label(cluster, "cluster name");
  core::validate_label(name, "vserver name");
  auto db = inventory::open_existing(s);
  if (!db) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", cluster);
  inventory::cluster(*db, cluster);
  return with_domain_state(s, *db, must_row(*db, cluster, name));
}

Vserver vserver_start(const Settings& s, const std::string& cluster, const std::string& name) {
  auto db = open_cluster(s, cluster);
  Vserver v = must_row(db, cluster, name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + name);
  v = must_row(db, cluster, name);
  if (v.state == VserverState::creating || v.state == VserverState::destroying)
    fail(ErrorKind::conflict, "vserver {} is {}: run cloe vserver {} {} again to finish it", name, state_text(v.state),
         v.state == VserverState::creating ? "create" : "destroy", name);
  Place p = place_of(s, db, v);
  if (dom_state(p, name) != lxc::State::running) {
    ensure_template(s, db, p, v);
    layers_grow(p, v.disk);  // a disk set larger while it ran
    layers_mount(p, v.id_base, v.disk);
    dom_define(p, domain::xml(spec_of(s, inventory::cluster(db, cluster), p, v)));
    dom_start(p, name);
  }
  wait_ready(p, name);
  db.execute("UPDATE vservers SET state = 'running' WHERE cluster = ?1 AND name = ?2", cluster, name);
  core::logger("cloe")->info("vserver {} started", name);
  return with_domain_state(s, db, must_row(db, cluster, name));
}

VserverStopResult vserver_stop(const Settings& s, const std::string& cluster, const std::string& name,
                               std::int64_t timeout) {
  if (timeout < 1 || timeout > 3600) fail(ErrorKind::invalid, "--timeout {}: 1 to 3600 seconds", timeout);
  auto db = open_cluster(s, cluster);
  must_row(db, cluster, name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + name);
  Vserver v = must_row(db, cluster, name);
  if (v.state == VserverState::creating || v.state == VserverState::destroying)
    fail(ErrorKind::conflict, "vserver {} is {}: run cloe vserver {} {} again to finish it", name, state_text(v.state),
         v.state == VserverState::creating ? "create" : "destroy", name);
  Place p = place_of(s, db, v);
  VserverStopResult r;
  auto t0 = std::chrono::steady_clock::now();
  r.was_running = dom_state(p, name) == lxc::State::running;
  if (r.was_running && !dom_stop(p, name, std::chrono::seconds(timeout))) {
    core::logger("cloe")->warn("vserver {} did not stop within {} s: forced off", name, timeout);
    dom_destroy(p, name);
    r.forced = true;
  }
  layers_unmount(p);
  db.execute("UPDATE vservers SET state = 'stopped' WHERE cluster = ?1 AND name = ?2", cluster, name);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.vserver = with_domain_state(s, db, must_row(db, cluster, name));
  core::logger("cloe")->info("vserver {} stopped{}", name, r.forced ? " (forced off)" : "");
  return r;
}

void vserver_destroy(const Settings& s, const VserverDestroyRequest& rq) {
  auto db = open_cluster(s, rq.cluster);
  must_row(db, rq.cluster, rq.name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + rq.name);
  Vserver v = must_row(db, rq.cluster, rq.name);
  core::JobRunner jobs(db);
  // A create that was killed: rolled back with its own undos.
  auto created = jobs.find("cloe.vserver.create", job_key(rq.cluster, rq.name));
  if (created && created->unfinished()) {
    auto record = [] {};
    core::Job job = create_job(s, db, v, record, true);
    jobs.rollback(job);
    core::logger("cloe")->info("the unfinished create of vserver {} rolled back", v.name);
    return;
  }
  Place p = place_of(s, db, v);
  // A node reached over SSH must answer before the mark is written.
  check_node(p);
  if (!rq.force && v.state != VserverState::destroying && dom_state(p, v.name) == lxc::State::running)
    fail(ErrorKind::conflict, "vserver {} runs: stop it first, or destroy it with --force", v.name);
  core::Job job{"cloe.vserver.destroy", job_key(rq.cluster, rq.name), {}};
  job.steps.push_back({"mark", [&] {
                         db.execute("UPDATE vservers SET state = 'destroying' WHERE cluster = ?1 AND name = ?2",
                                    v.cluster, v.name);
                       },
                       {}});
  job.steps.push_back({"domain", [&] {
                         dom_destroy(p, v.name);
                         dom_undefine(p, v.name);
                       },
                       {}});
  job.steps.push_back({"layers", [&] { layers_remove(p); }, {}});
  job.steps.push_back({"forget", [&] {
                         db.execute("DELETE FROM vservers WHERE cluster = ?1 AND name = ?2", v.cluster, v.name);
                       },
                       {}});
  jobs.run(job, core::JobPolicy::resume);
  core::logger("cloe")->info("vserver {} destroyed; {} and ids {}+{} are free", v.name, v.ip, v.id_base, id_count);
}

namespace {

// A set is a journaled job (kind cloe.vserver.set): `record` writes the new
// quotas into the inventory, and every later step reads them from the row, so
// a set killed at any step is finished by the next set of that vserver
// (whatever it asks for, before its own change). A larger disk: the image
// grows, then its filesystem, while unmounted (online growth needs
// CAP_SYS_RESOURCE, which a node may not give); a mounted one grows at its
// next start. A running domain gets the new values live as well.
core::Job set_job(const Settings& s, core::sqlite::Database& db, const std::string& cluster, const std::string& name,
                  std::function<void()> record, bool disk_changed, VserverSetResult& r) {
  core::Job job{"cloe.vserver.set", job_key(cluster, name), {}};
  job.steps.push_back({"record", std::move(record), {}});
  job.steps.push_back({"disk", [&s, &db, &r, cluster, name, disk_changed] {
                         Vserver v = must_row(db, cluster, name);
                         Place p = place_of(s, db, v);
                         if (layers_mounted(p)) {
                           if (disk_changed) r.pending.push_back("disk");
                         } else {
                           layers_grow(p, v.disk);
                         }
                       },
                       {}});
  job.steps.push_back({"define", [&s, &db, cluster, name] {
                         Vserver v = must_row(db, cluster, name);
                         Place p = place_of(s, db, v);
                         if (dom_state(p, v.name) != lxc::State::absent)
                           dom_define(p, domain::xml(spec_of(s, inventory::cluster(db, cluster), p, v)));
                       },
                       {}});
  job.steps.push_back({"live", [&s, &db, &r, cluster, name] {
                         Vserver v = must_row(db, cluster, name);
                         Place p = place_of(s, db, v);
                         if (dom_state(p, v.name) != lxc::State::running) return;
                         dom_set_live(p, v.name, static_cast<unsigned>(v.cpu_shares), static_cast<unsigned>(v.cpu_max),
                                      static_cast<unsigned long long>(v.memory / 1024));
                         r.live = true;
                       },
                       {}});
  return job;
}

}  // namespace

VserverSetResult vserver_set(const Settings& s, const VserverSetRequest& rq) {
  auto db = open_cluster(s, rq.cluster);
  Vserver old = must_row(db, rq.cluster, rq.name);
  Vserver v = old;
  VserverSetResult r;
  if (rq.cpu_shares) v.cpu_shares = *rq.cpu_shares;
  if (rq.cpu_max) v.cpu_max = *rq.cpu_max;
  check_quotas(v.cpu_shares, v.cpu_max);
  if (rq.memory) {
    v.memory = parse_size(*rq.memory, "--memory");
    if (v.memory < (16LL << 20)) fail(ErrorKind::invalid, "--memory {}: at least 16M", *rq.memory);
  }
  if (rq.disk) {
    v.disk = parse_size(*rq.disk, "--disk");
    if (v.disk < old.disk)
      fail(ErrorKind::invalid, "--disk {}: smaller than its disk ({}); a disk only grows", *rq.disk,
           format_size(old.disk));
  }
  core::JobRunner jobs(db);
  auto earlier = jobs.find("cloe.vserver.set", job_key(rq.cluster, rq.name));
  bool unfinished = earlier && earlier->unfinished();
  if (v.cpu_shares != old.cpu_shares) r.changed.push_back("cpu_shares");
  if (v.cpu_max != old.cpu_max) r.changed.push_back("cpu_max");
  if (v.memory != old.memory) r.changed.push_back("memory");
  if (v.disk != old.disk) r.changed.push_back("disk");
  if (r.changed.empty() && !unfinished) {
    r.vserver = with_domain_state(s, db, old);
    return r;
  }
  auto lock = core::FileLock::acquire(s.locks, "cloe.vserver." + rq.name);
  auto cluster_lock = core::FileLock::acquire(s.locks, "cloe.cluster." + rq.cluster);
  old = must_row(db, rq.cluster, rq.name);
  if (old.state == VserverState::creating || old.state == VserverState::destroying)
    fail(ErrorKind::conflict, "vserver {} is {}", rq.name, state_text(old.state));
  Place p = place_of(s, db, old);
  // A node reached over SSH must answer before anything is written.
  check_node(p);
  earlier = jobs.find("cloe.vserver.set", job_key(rq.cluster, rq.name));
  if (earlier && earlier->unfinished()) {
    // Killed or failed earlier: its quotas (in the row once recorded) first.
    VserverSetResult done;
    jobs.run(set_job(s, db, rq.cluster, rq.name, [] {}, true, done), core::JobPolicy::resume);
    core::logger("cloe")->info("vserver {}: the unfinished set of its quotas finished", rq.name);
    old = must_row(db, rq.cluster, rq.name);
    if (r.changed.empty()) {
      r.pending = done.pending;
      r.live = done.live;
      r.vserver = with_domain_state(s, db, old);
      return r;
    }
  }
  // Its node must hold the new limits, without counting the old ones.
  Node node = inventory::nodes(db, rq.cluster, old.node).at(0);
  PlacementNode pn = placement_node(node, old.name, &old);
  pn.drained = false;  // a drained node keeps its vservers and may change them
  Placement fit = place({pn}, {v.memory, v.disk, v.storage, v.cpu_max});
  if (!fit.node) fail(ErrorKind::conflict, "node {} cannot hold vserver {} so: {}", node.name, rq.name, fit.reason);
  auto record = [&] {
    db.execute("UPDATE vservers SET cpu_shares = ?1, cpu_max = ?2, memory = ?3, disk = ?4 WHERE cluster = ?5 AND name = ?6",
               v.cpu_shares, v.cpu_max, v.memory, v.disk, rq.cluster, rq.name);
  };
  jobs.run(set_job(s, db, rq.cluster, rq.name, record, v.disk != old.disk, r), core::JobPolicy::resume);
  core::logger("cloe")->info("vserver {}: {} changed{}", v.name, fmt::format("{}", fmt::join(r.changed, ", ")),
                             r.live ? " (live)" : "");
  r.vserver = with_domain_state(s, db, must_row(db, rq.cluster, rq.name));
  return r;
}

std::vector<std::string> vserver_enter_argv(const Settings& s, const Vserver& v, const std::vector<std::string>& argv) {
  auto db = inventory::open_existing(s);
  if (!db) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", v.cluster);
  Place p = place_of(s, *db, v);
  std::vector<std::string> out = {p.remote() ? p.binary : self_exe(), std::string(lxc::enter_command), p.uri, v.name};
  out.insert(out.end(), argv.begin(), argv.end());
  return p.link->command_argv(out);
}

}  // namespace cloe
