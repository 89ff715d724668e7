// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/inventory.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fmt/chrono.h>
#include <sstream>

#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/log.hpp"
#include "core/sqlite.hpp"
#include "core/validate.hpp"
#include "inventory_db.hpp"
#include "transport.hpp"

namespace fs = std::filesystem;

namespace cloe {
namespace {

using core::ErrorKind;

std::string now_iso() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  in_addr a{};
  std::string s(text);
  if (s.empty() || s.size() > 15 || ::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string format_ipv4(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24U, (ip >> 16U) & 255U, (ip >> 8U) & 255U, ip & 255U);
}

struct Network {
  std::uint32_t base = 0;
  int prefix = 0;
  std::uint32_t mask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
  std::uint32_t broadcast() const { return base | ~mask(); }
  bool contains_host(std::uint32_t ip) const { return (ip & mask()) == base && ip != base && ip != broadcast(); }
  std::string text() const { return format_ipv4(base) + "/" + std::to_string(prefix); }
};

Network parse_network(std::string_view text) {
  auto slash = text.find('/');
  auto bad = [&](std::string_view why) {
    core::fail(ErrorKind::invalid, "--network '{}': {}", core::escape_for_display(text), why);
  };
  if (slash == std::string_view::npos) bad("not a CIDR (e.g. 10.200.0.0/24)");
  auto ip = parse_ipv4(text.substr(0, slash));
  std::string_view p = text.substr(slash + 1);
  if (!ip || p.empty() || p.size() > 2 || !std::ranges::all_of(p, ::isdigit)) bad("not a CIDR (e.g. 10.200.0.0/24)");
  Network n{*ip, std::stoi(std::string(p))};
  if (n.prefix < 8 || n.prefix > 29) bad("the prefix must be /8 to /29");
  if ((*ip & n.mask()) != *ip) bad("host bits are set (the network is " + format_ipv4(*ip & n.mask()) + ")");
  return n;
}

std::uint32_t parse_address(std::string_view text, std::string_view what) {
  auto ip = parse_ipv4(text);
  if (!ip) core::fail(ErrorKind::invalid, "{} '{}': not an IPv4 address", what, core::escape_for_display(text));
  return *ip;
}

core::sqlite::Database open_rw(const Settings& s) { return inventory::open(s); }

Cluster cluster_from_db(core::sqlite::Database& db, const std::string& name) {
  auto q = db.query(
      "SELECT name, network, gateway, pool_first, pool_last, created, "
      "(SELECT count(*) FROM nodes n WHERE n.cluster = c.name), "
      "(SELECT count(*) FROM vservers v WHERE v.cluster = c.name) FROM clusters c WHERE name = ?1",
      name);
  if (!q.step()) core::fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", name);
  Cluster c;
  c.name = q.column_text(0);
  c.network = q.column_text(1);
  c.gateway = q.column_text(2);
  c.pool_first = q.column_text(3);
  c.pool_last = q.column_text(4);
  c.created = q.column_text(5);
  c.nodes = q.column_int64(6);
  c.vservers = q.column_int64(7);
  c.pool_size = static_cast<std::int64_t>(*parse_ipv4(c.pool_last)) - *parse_ipv4(c.pool_first) + 1;
  c.pool_used = c.vservers;
  return c;
}

std::vector<Node> nodes_from_db(core::sqlite::Database& db, const std::string& cluster,
                                const std::optional<std::string>& only = std::nullopt) {
  std::vector<Node> out;
  auto q = db.query(
      "SELECT name, address, ssh_port, transport, host_key, fingerprint, cpus, memory, drained, created, "
      "(SELECT count(*) FROM vservers v WHERE v.cluster = n.cluster AND v.node = n.name), "
      "(SELECT coalesce(sum(memory), 0) FROM vservers v WHERE v.cluster = n.cluster AND v.node = n.name), "
      "(SELECT coalesce(sum(cpu_max), 0) FROM vservers v WHERE v.cluster = n.cluster AND v.node = n.name) "
      "FROM nodes n WHERE cluster = ?1 AND (?2 IS NULL OR name = ?2) ORDER BY name",
      cluster, only);
  while (q.step()) {
    Node n;
    n.cluster = cluster;
    n.name = q.column_text(0);
    n.address = q.column_text(1);
    n.ssh_port = q.column_int64(2);
    n.transport = q.column_text(3) == "local" ? Transport::local : Transport::ssh;
    n.host_key = q.column_text(4);
    n.fingerprint = q.column_text(5);
    n.cpus = q.column_int64(6);
    n.memory = q.column_int64(7);
    n.drained = q.column_int64(8) != 0;
    n.created = q.column_text(9);
    n.vservers = q.column_int64(10);
    n.memory_used = q.column_int64(11);
    n.cpu_max_used = q.column_int64(12);
    out.push_back(std::move(n));
  }
  for (Node& n : out) {
    auto s = db.query(
        "SELECT class, path, disk, (SELECT coalesce(sum(disk), 0) FROM vservers v WHERE v.cluster = s.cluster "
        "AND v.node = s.node AND v.storage = s.class) FROM node_storage s WHERE cluster = ?1 AND node = ?2 "
        "ORDER BY class",
        cluster, n.name);
    while (s.step()) n.storage.push_back({s.column_text(0), s.column_text(1), s.column_int64(2), s.column_int64(3)});
  }
  return out;
}

// "ssd=/a,sata=/b" -> [(ssd,/a), (sata,/b)], each class a label, each path absolute and clean.
std::vector<std::pair<std::string, std::string>> parse_pairs(std::string_view text, std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
      core::fail(ErrorKind::invalid, "{} '{}': expected CLASS=VALUE[,CLASS=VALUE...]", what,
                 core::escape_for_display(text));
    std::string cls(item.substr(0, eq));
    core::validate_label(cls, "storage class");
    if (std::ranges::any_of(out, [&](const auto& p) { return p.first == cls; }))
      core::fail(ErrorKind::invalid, "{} '{}': class {} given twice", what, core::escape_for_display(text), cls);
    out.emplace_back(cls, std::string(item.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

std::vector<StorageClass> parse_storage(const std::optional<std::string>& text) {
  std::vector<StorageClass> out;
  for (auto& [cls, path] : parse_pairs(text.value_or("ssd=/var/lib/oe/storage/ssd"), "--storage")) {
    fs::path p(path);
    if (!p.is_absolute() || p.lexically_normal() != p || path.find_first_of("\n\r\t ") != std::string::npos ||
        (path.size() > 1 && path.back() == '/'))
      core::fail(ErrorKind::invalid, "--storage '{}': the path of {} must be absolute and plain",
                 core::escape_for_display(*text), cls);
    out.push_back({cls, path, 0, 0});
  }
  return out;
}

// Capacity from the node: what the request left out.
void probe(transport::NodeLink& link, const NodeAddRequest& rq, Node& n, const std::map<std::string, std::int64_t>& disks) {
  core::RunOptions o;
  o.timeout = std::chrono::seconds(30);
  // Always one command, even with everything given: the node must answer
  // (and show the pinned key) before it is recorded.
  core::RunResult r = link.run({"nproc"}, o);
  if (!rq.cpus) {
    try {
      n.cpus = std::stoll(r.out);
    } catch (const std::exception&) {
      core::fail(ErrorKind::external, "node {}: nproc printed no number", n.name);
    }
    n.probed.push_back("cpus");
  }
  if (!rq.memory) {
    r = link.run({"cat", "/proc/meminfo"}, o);
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("MemTotal:", 0) == 0) n.memory = std::stoll(line.substr(9)) * 1024;
    if (n.memory <= 0) core::fail(ErrorKind::external, "node {}: no MemTotal in /proc/meminfo", n.name);
    n.probed.push_back("memory");
  }
  for (StorageClass& sc : n.storage) {
    if (auto it = disks.find(sc.name); it != disks.end()) {
      sc.disk = it->second;
      continue;
    }
    core::RunOptions d = o;
    d.check = false;
    r = link.run({"df", "-P", "-B1", "--", sc.path}, d);
    if (r.exit_code != 0)
      core::fail(ErrorKind::invalid, "--storage: {} ({}) is not a folder on node {} (df failed)", sc.name, sc.path,
                 n.name);
    std::istringstream in(r.out);
    std::string header, fsname;
    std::getline(in, header);
    std::int64_t size = 0;
    in >> fsname >> size;
    if (size <= 0) core::fail(ErrorKind::external, "node {}: df printed no size for {}", n.name, sc.path);
    sc.disk = size;
    n.probed.push_back("disk:" + sc.name);
  }
}

}  // namespace

Settings make_settings(const core::Paths& paths, const core::Config& config) {
  Settings s;
  s.root = paths.root();
  s.data = paths.data();
  s.state = paths.data("cloe");
  s.run = paths.run() / "cloe";
  s.locks = {paths.locks(), std::chrono::seconds(config.get_int("locks.wait"))};
  s.default_cluster = config.get_string("cluster.name");
  std::string identity = config.get_string("ssh.identity");
  s.ssh_identity = identity.empty() ? paths.data("cloe") / "ssh" / "id_ed25519" : fs::path(identity);
  s.ssh_user = config.get_string("ssh.user");
  s.connect_timeout = config.get_int("ssh.connect_timeout");
  s.control_persist = config.get_int("ssh.control_persist");
  s.libvirt_uri = config.get_string("libvirt.uri");
  s.bridge = config.get_string("network.bridge");
  s.templates = paths.data("cloe") / "templates";
  s.node_binary = config.get_string("node.binary");
  s.node_templates = config.get_string("node.templates");
  return s;
}

std::int64_t parse_size(std::string_view value, std::string_view what) {
  auto bad = [&]() {
    core::fail(ErrorKind::invalid, "{} '{}': not a size (a whole number with K, M, G or T, e.g. 512M, 4G)", what,
               core::escape_for_display(value));
  };
  std::size_t i = 0;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  if (i == 0 || i > 18) bad();
  std::int64_t n = std::stoll(std::string(value.substr(0, i)));
  std::string_view unit = value.substr(i);
  int shift = 0;
  if (!unit.empty()) {
    const std::string_view units = "KMGT";
    auto u = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (u == std::string_view::npos) bad();
    shift = 10 * static_cast<int>(u + 1);
    std::string_view tail = unit.substr(1);
    if (!tail.empty() && tail != "B" && tail != "iB") bad();
  }
  if (n == 0 || n > (std::int64_t{1} << (62 - shift))) bad();
  return n << shift;
}

std::string format_size(std::int64_t bytes) {
  const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  double value = static_cast<double>(bytes);
  while (u < 4 && value >= 1024) {
    value /= 1024;
    ++u;
  }
  if (u == 0 || bytes % (std::int64_t{1} << (10 * u)) == 0) return fmt::format("{}{}", bytes >> (10 * u), units[u]);
  return fmt::format("{:.1f}{}", value, units[u]);
}

const char* transport_name(Transport t) noexcept { return t == Transport::local ? "local" : "ssh"; }

std::string cluster_name(const Settings& settings, const std::optional<std::string>& given) {
  std::string name = given.value_or(settings.default_cluster);
  core::validate_label(name, given ? "--cluster" : "cluster.name");
  return name;
}

Cluster cluster_init(const Settings& s, const ClusterInitRequest& rq) {
  core::validate_label(rq.name, "cluster name");
  Network net = parse_network(rq.network);
  std::uint32_t gw = rq.gateway ? parse_address(*rq.gateway, "--gateway") : net.base + 1;
  if (!net.contains_host(gw))
    core::fail(ErrorKind::invalid, "--gateway {}: not a host address of {}", format_ipv4(gw), net.text());
  std::uint32_t hosts = net.broadcast() - net.base - 1;
  std::uint32_t first = net.base + 1 + hosts / 2, last = net.broadcast() - 1;
  if (rq.pool) {
    auto dash = rq.pool->find('-');
    if (dash == std::string::npos)
      core::fail(ErrorKind::invalid, "--pool '{}': expected FIRST-LAST", core::escape_for_display(*rq.pool));
    first = parse_address(rq.pool->substr(0, dash), "--pool");
    last = parse_address(rq.pool->substr(dash + 1), "--pool");
    if (!net.contains_host(first) || !net.contains_host(last) || last < first)
      core::fail(ErrorKind::invalid, "--pool {}: not a range of host addresses of {}",
                 core::escape_for_display(*rq.pool), net.text());
  }
  if (gw >= first && gw <= last)
    core::fail(ErrorKind::invalid, "--gateway {}: inside the pool {}-{}", format_ipv4(gw), format_ipv4(first),
               format_ipv4(last));
  auto lock = core::FileLock::acquire(s.locks, "cloe.cluster." + rq.name);
  auto db = open_rw(s);
  {
    core::sqlite::Transaction tx(db);
    if (db.query("SELECT 1 FROM clusters WHERE name = ?1", rq.name).step())
      core::fail(ErrorKind::conflict, "cluster {} exists already", rq.name);
    db.execute("INSERT INTO clusters (name, network, gateway, pool_first, pool_last, created) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               rq.name, net.text(), format_ipv4(gw), format_ipv4(first), format_ipv4(last), now_iso());
    tx.commit();
  }
  core::logger("cloe")->info("cluster {} initialised: network {}, gateway {}", rq.name, net.text(), format_ipv4(gw));
  return cluster_from_db(db, rq.name);
}

std::vector<Cluster> cluster_list(const Settings& s) {
  std::vector<Cluster> out;
  auto db = inventory::open_existing(s);
  if (!db) return out;
  std::vector<std::string> names;
  for (auto q = db->query("SELECT name FROM clusters ORDER BY name"); q.step();) names.push_back(q.column_text(0));
  for (const auto& n : names) out.push_back(cluster_from_db(*db, n));
  return out;
}

Cluster cluster_show(const Settings& s, const std::string& name) {
  core::validate_label(name, "cluster name");
  auto db = inventory::open_existing(s);
  if (!db) core::fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", name);
  return cluster_from_db(*db, name);
}

Node node_add(const Settings& s, const NodeAddRequest& rq) {
  // The whole request is checked before anything is read from the node or written.
  core::validate_label(rq.cluster, "cluster name");
  core::validate_label(rq.name, "node name");
  std::uint32_t ip = parse_address(rq.address, "--address");
  if (rq.ssh_port < 1 || rq.ssh_port > 65535) core::fail(ErrorKind::invalid, "--ssh-port {}: not a port", rq.ssh_port);
  Node n;
  n.cluster = rq.cluster;
  n.name = rq.name;
  n.address = format_ipv4(ip);
  n.ssh_port = rq.ssh_port;
  n.transport = rq.transport;
  n.storage = parse_storage(rq.storage);
  if (rq.cpus) {
    if (*rq.cpus < 1 || *rq.cpus > 65536) core::fail(ErrorKind::invalid, "--cpus {}: not a number of CPUs", *rq.cpus);
    n.cpus = *rq.cpus;
  }
  if (rq.memory) n.memory = parse_size(*rq.memory, "--memory");
  std::map<std::string, std::int64_t> disks;
  if (rq.disk) {
    if (rq.disk->find('=') == std::string::npos) {
      std::int64_t size = parse_size(*rq.disk, "--disk");
      for (const auto& sc : n.storage) disks[sc.name] = size;
    } else {
      for (auto& [cls, size] : parse_pairs(*rq.disk, "--disk")) {
        if (!std::ranges::any_of(n.storage, [&](const StorageClass& sc) { return sc.name == cls; }))
          core::fail(ErrorKind::invalid, "--disk: {} is not one of the node's storage classes", cls);
        disks[cls] = parse_size(size, "--disk " + cls);
      }
    }
  }
  std::optional<std::string> given_key;
  if (rq.host_key) {
    if (rq.transport == Transport::local) core::fail(ErrorKind::invalid, "--host-key: a local node has no SSH host key");
    given_key = transport::parse_host_key(*rq.host_key, "--host-key");
  }
  if (rq.accept_host_key && (rq.accept_host_key->rfind("SHA256:", 0) != 0 || rq.accept_host_key->size() < 20))
    core::fail(ErrorKind::invalid, "--accept-host-key '{}': not a SHA256:... fingerprint",
               core::escape_for_display(*rq.accept_host_key));

  auto lock = core::FileLock::acquire(s.locks, "cloe.cluster." + rq.cluster);
  auto existing = inventory::open_existing(s);
  if (!existing) core::fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", rq.cluster);
  Cluster c = cluster_from_db(*existing, rq.cluster);
  Network net = parse_network(c.network);
  if (!net.contains_host(ip))
    core::fail(ErrorKind::invalid, "--address {}: outside the network {} of cluster {}", n.address, c.network, c.name);
  if (ip >= *parse_ipv4(c.pool_first) && ip <= *parse_ipv4(c.pool_last))
    core::fail(ErrorKind::invalid, "--address {}: inside the vservers' pool {}-{} of cluster {}", n.address,
               c.pool_first, c.pool_last, c.name);
  if (n.address == c.gateway) core::fail(ErrorKind::invalid, "--address {}: the cluster's gateway", n.address);
  std::vector<Node> others = nodes_from_db(*existing, rq.cluster);
  for (const Node& o : others) {
    if (o.name == n.name) core::fail(ErrorKind::conflict, "node {} exists already in cluster {}", n.name, c.name);
    if (o.address == n.address)
      core::fail(ErrorKind::conflict, "--address {}: already node {} of cluster {}", n.address, o.name, c.name);
    if (o.transport == Transport::local && n.transport == Transport::local)
      core::fail(ErrorKind::conflict, "--local: cluster {} has its local node already ({})", c.name, o.name);
  }
  existing.reset();

  if (n.transport == Transport::ssh) {
    if (given_key) {
      n.host_key = *given_key;
      n.fingerprint = transport::fingerprint(n.host_key);
    } else {
      std::vector<std::string> seen = transport::scan_host_keys(s, n.address, n.ssh_port);
      for (const auto& k : seen)
        if (rq.accept_host_key && transport::fingerprint(k) == *rq.accept_host_key) n.host_key = k;
      if (n.host_key.empty()) {
        std::string fp = transport::fingerprint(seen.front());
        std::string type = seen.front().substr(0, seen.front().find(' '));
        if (rq.accept_host_key)
          core::fail(ErrorKind::conflict,
                     "node {} ({}): no host key has fingerprint {}; it shows {} {}: refused", n.name, n.address,
                     *rq.accept_host_key, type, fp);
        core::fail(ErrorKind::conflict,
                   "node {} ({}) shows host key {} {}; check it on the node (ssh-keygen -lf "
                   "/etc/ssh/ssh_host_ed25519_key.pub) and re-run with --accept-host-key {}",
                   n.name, n.address, type, fp, fp);
      }
      n.fingerprint = transport::fingerprint(n.host_key);
    }
    // The pinned key goes into a known_hosts of its own for the probe, so
    // that the cluster's file only ever holds recorded nodes.
    Settings probe_settings = s;
    probe_settings.state = s.run / "probe" / (rq.cluster + "." + rq.name);
    Node probe_node = n;
    transport::write_known_hosts(probe_settings, rq.cluster, {probe_node});
    std::unique_ptr<transport::NodeLink> link = transport::link(probe_settings, probe_node);
    try {
      probe(*link, rq, n, disks);
    } catch (...) {
      link->close();
      std::error_code ec;
      fs::remove_all(probe_settings.state, ec);
      throw;
    }
    link->close();  // its control socket named the probe's known_hosts
    std::error_code ec;
    fs::remove_all(probe_settings.state, ec);
  } else {
    auto link = transport::link(s, n);
    probe(*link, rq, n, disks);
  }

  auto db = open_rw(s);
  core::JobRunner jobs(db);
  const std::string key = "node:" + rq.cluster + "." + rq.name;
  core::Job job{"cloe.node.add", key, {}};
  job.steps.push_back({"record",
                       [&] {
                         core::sqlite::Transaction tx(db);
                         if (db.query("SELECT 1 FROM nodes WHERE cluster = ?1 AND name = ?2", n.cluster, n.name).step())
                           return;  // recorded by an interrupted run
                         db.execute("INSERT INTO nodes (cluster, name, address, ssh_port, transport, host_key, "
                                    "fingerprint, cpus, memory, drained, created) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10)",
                                    n.cluster, n.name, n.address, n.ssh_port, std::string(transport_name(n.transport)),
                                    n.host_key, n.fingerprint, n.cpus, n.memory, now_iso());
                         for (const auto& sc : n.storage)
                           db.execute("INSERT INTO node_storage (cluster, node, class, path, disk) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5)",
                                      n.cluster, n.name, sc.name, sc.path, sc.disk);
                         tx.commit();
                       },
                       [&] {
                         db.execute("DELETE FROM nodes WHERE cluster = ?1 AND name = ?2", n.cluster, n.name);
                       }});
  job.steps.push_back({"known_hosts",
                       [&] { transport::write_known_hosts(s, n.cluster, nodes_from_db(db, n.cluster)); },
                       [&] { transport::write_known_hosts(s, n.cluster, nodes_from_db(db, n.cluster)); }});
  jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  core::logger("cloe")->info("node {} added to cluster {} ({}, {} CPUs, {} memory)", n.name, n.cluster, n.address,
                             n.cpus, format_size(n.memory));
  std::vector<std::string> probed = n.probed;
  Node out = nodes_from_db(db, n.cluster, n.name).at(0);
  out.probed = probed;
  return out;
}

std::vector<Node> node_list(const Settings& s, const std::string& cluster) {
  core::validate_label(cluster, "cluster name");
  auto db = inventory::open_existing(s);
  if (!db) core::fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", cluster);
  cluster_from_db(*db, cluster);
  return nodes_from_db(*db, cluster);
}

Node node_show(const Settings& s, const std::string& cluster, const std::string& name) {
  core::validate_label(name, "node name");
  std::vector<Node> all = node_list(s, cluster);
  for (auto& n : all)
    if (n.name == name) return n;
  core::fail(ErrorKind::not_found, "no node {} in cluster {} (see cloe node list)", name, cluster);
}

Node node_drain(const Settings& s, const std::string& cluster, const std::string& name, bool drained) {
  node_show(s, cluster, name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.cluster." + cluster);
  auto db = open_rw(s);
  db.execute("UPDATE nodes SET drained = ?1 WHERE cluster = ?2 AND name = ?3", drained ? 1 : 0, cluster, name);
  core::logger("cloe")->info("node {} of cluster {} {}", name, cluster, drained ? "drained" : "undrained");
  return nodes_from_db(db, cluster, name).at(0);
}

void node_remove(const Settings& s, const std::string& cluster, const std::string& name) {
  Node n = node_show(s, cluster, name);
  auto lock = core::FileLock::acquire(s.locks, "cloe.cluster." + cluster);
  auto db = open_rw(s);
  n = nodes_from_db(db, cluster, name).at(0);
  if (n.vservers > 0)
    core::fail(ErrorKind::conflict, "node {} of cluster {} still holds {} vserver(s): move or destroy them first", name,
               cluster, n.vservers);
  core::JobRunner jobs(db);
  core::Job job{"cloe.node.remove", "node:" + cluster + "." + name, {}};
  job.steps.push_back({"disconnect", [&] { transport::link(s, n)->close(); }, {}});
  job.steps.push_back({"forget", [&] {
                         db.execute("DELETE FROM nodes WHERE cluster = ?1 AND name = ?2", cluster, name);
                       }, {}});
  job.steps.push_back({"known_hosts", [&] { transport::write_known_hosts(s, cluster, nodes_from_db(db, cluster)); }, {}});
  jobs.run(job, core::JobPolicy::resume);
  core::logger("cloe")->info("node {} removed from cluster {}", name, cluster);
}

NodeCheck node_check(const Settings& s, const std::string& cluster, const std::string& name) {
  NodeCheck check;
  check.node = node_show(s, cluster, name);
  std::error_code ec;
  if (check.node.transport == Transport::ssh && !fs::exists(s.known_hosts(cluster), ec)) {
    // The inventory is the truth; the file is rebuilt from it.
    auto db = inventory::open_existing(s);
    transport::write_known_hosts(s, cluster, nodes_from_db(*db, cluster));
  }
  auto link = transport::link(s, check.node);
  Node seen = check.node;
  for (auto& sc : seen.storage) sc.disk = 0;
  probe(*link, NodeAddRequest{}, seen, {});
  check.cpus = seen.cpus;
  check.memory = seen.memory;
  for (const auto& sc : seen.storage) check.disk[sc.name] = sc.disk;
  return check;
}

namespace inventory {

std::string now() { return now_iso(); }
Cluster cluster(core::sqlite::Database& db, const std::string& name) { return cluster_from_db(db, name); }
std::vector<Node> nodes(core::sqlite::Database& db, const std::string& cluster, const std::optional<std::string>& only) {
  return nodes_from_db(db, cluster, only);
}
std::optional<std::uint32_t> ipv4(std::string_view text) { return parse_ipv4(text); }
std::string ipv4_text(std::uint32_t ip) { return format_ipv4(ip); }
int network_prefix(const Cluster& c) { return parse_network(c.network).prefix; }

}  // namespace inventory
}  // namespace cloe
