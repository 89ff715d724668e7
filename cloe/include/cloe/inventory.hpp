// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// cloe's inventory: clusters and their nodes, kept in the referee's database
// (ROOT/var/lib/oe/referee.db, schema tier "cloe"; hoe adds its own tier to
// the same file). Typed requests in, typed results out; every mutating call
// checks its whole request first (nothing is written when one part is
// wrong), takes the cluster's lock (core::FileLock "cloe.cluster.NAME") and
// runs as a journaled job (core::JobRunner, kinds "cloe.node.add",
// "cloe.node.remove"). Errors are core::Error:
//   invalid    a name that is not an RFC 1123 label, an address outside the
//              cluster's network, a size or a storage list that does not parse
//   not_found  an unknown cluster or node
//   conflict   the name or address is taken, a node that still holds
//              vservers, a host key not accepted (the message shows the
//              fingerprint seen), the cluster's lock held
//   external   the node does not answer, or shows another host key than
//              the pinned one (named in the message)
// docs/cloe.md describes the commands built on these calls.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/lock.hpp"
#include "core/paths.hpp"

namespace cloe {

// What every cloe operation needs to know, typed; built once by the executable.
struct Settings {
  std::filesystem::path root;    // the suite's root
  std::filesystem::path data;    // ROOT/var/lib/oe: the referee's database lives here
  std::filesystem::path state;   // ROOT/var/lib/oe/cloe: known_hosts per cluster
  std::filesystem::path run;     // ROOT/run/oe/cloe: SSH control sockets
  core::LockDir locks;           // ROOT/run/oe/locks
  std::string default_cluster;   // cluster.name
  std::filesystem::path ssh_identity;  // ssh.identity: the referee's private key for the nodes
  std::string ssh_user = "root";       // ssh.user
  std::int64_t connect_timeout = 10;   // ssh.connect_timeout, seconds
  std::int64_t control_persist = 60;   // ssh.control_persist, seconds
  std::string libvirt_uri = "lxc:///system";  // libvirt.uri: the referee's own node
  std::string bridge = "oebr0";                // network.bridge: the node bridge vservers are on
  std::filesystem::path templates;             // ROOT/var/lib/oe/cloe/templates
  std::string node_binary = "/usr/bin/cloe";    // node.binary: cloe on a node reached over SSH
  std::string node_templates = "/var/lib/oe/cloe/templates";  // node.templates: the templates there

  std::filesystem::path database() const { return data / "referee.db"; }
  std::filesystem::path known_hosts(const std::string& cluster) const { return state / "known_hosts" / cluster; }
  std::filesystem::path control_dir() const { return run / "ssh"; }
};

Settings make_settings(const core::Paths& paths, const core::Config& config);

// ---------------------------------------------------------------- sizes

// "512M", "4G", "2GiB", "1T", "1048576" (bytes): a whole number, then an
// optional binary unit K, M, G, T (optionally followed by "iB" or "B").
// Throws ErrorKind::invalid "WHAT 'VALUE': not a size (...)" otherwise, and
// for zero or a value beyond 2^62.
std::int64_t parse_size(std::string_view value, std::string_view what);
// For people: 4294967296 -> "4G", 1610612736 -> "1.5G", 1000 -> "1000" (an
// exact unit without decimals, else one decimal of the largest unit).
std::string format_size(std::int64_t bytes);

// ---------------------------------------------------------------- clusters

struct ClusterInitRequest {
  std::string name;
  std::string network = "10.200.0.0/24";  // CIDR of the vserver network spanning the nodes
  std::optional<std::string> gateway;     // default: the network's first host address
  std::optional<std::string> pool;        // "FIRST-LAST"; default: the upper half of the hosts
};

struct Cluster {
  std::string name;
  std::string network;  // "10.200.0.0/24"
  std::string gateway;
  std::string pool_first, pool_last;  // the vservers' addresses
  std::int64_t pool_size = 0;
  std::int64_t pool_used = 0;  // addresses held by vservers
  std::int64_t nodes = 0;
  std::int64_t vservers = 0;
  std::string created;  // ISO 8601, UTC
};

// Records a new cluster. conflict when NAME exists.
Cluster cluster_init(const Settings& settings, const ClusterInitRequest& request);
std::vector<Cluster> cluster_list(const Settings& settings);
// not_found when NAME is not a cluster.
Cluster cluster_show(const Settings& settings, const std::string& name);

// ---------------------------------------------------------------- nodes

enum class Transport { ssh, local };
const char* transport_name(Transport t) noexcept;

struct StorageClass {
  std::string name;  // "ssd", "sata": a label
  std::string path;  // absolute path on the node
  std::int64_t disk = 0;       // bytes offered to vservers
  std::int64_t disk_used = 0;  // sum of the disk quotas of the vservers on it
  friend bool operator==(const StorageClass&, const StorageClass&) = default;
};

struct NodeAddRequest {
  std::string cluster;
  std::string name;
  std::string address;            // IPv4 address inside the cluster's network, outside its pool
  std::int64_t ssh_port = 22;
  Transport transport = Transport::ssh;  // local: the referee itself, direct execution
  // "CLASS=PATH,CLASS=PATH"; default "ssd=/var/lib/oe/storage/ssd" (absolute paths on the node)
  std::optional<std::string> storage;
  std::optional<std::string> host_key;         // "TYPE BASE64" as in a .pub file: pinned as given
  std::optional<std::string> accept_host_key;  // "SHA256:..." of the key ssh-keyscan shows
  // Capacity; what is not given is probed on the node (nproc, /proc/meminfo, df).
  std::optional<std::int64_t> cpus;
  std::optional<std::string> memory;  // a size
  std::optional<std::string> disk;    // "CLASS=SIZE,..." or one SIZE for every class
};

struct Node {
  std::string cluster;
  std::string name;
  std::string address;
  std::int64_t ssh_port = 22;
  Transport transport = Transport::ssh;
  std::string host_key;     // "TYPE BASE64"; empty for a local node
  std::string fingerprint;  // "SHA256:..."; empty for a local node
  std::int64_t cpus = 0;
  std::int64_t memory = 0;       // bytes
  std::int64_t memory_used = 0;  // sum of the vservers' memory limits
  std::int64_t cpu_max_used = 0;  // sum of the vservers' CPU caps, percent of one CPU
  std::vector<StorageClass> storage;
  bool drained = false;
  std::int64_t vservers = 0;
  std::vector<std::string> probed;  // what node add measured on the node ("cpus", "memory", "disk:ssd")
  std::string created;
};

// Checks the request, reaches the node (over SSH with the pinned key, or
// directly when local), probes what capacity was not given, and records it.
// Without --host-key the key is the one ssh-keyscan shows, and it is taken
// only when accept_host_key names its fingerprint (else conflict, with the
// fingerprint in the message).
Node node_add(const Settings& settings, const NodeAddRequest& request);
std::vector<Node> node_list(const Settings& settings, const std::string& cluster);
Node node_show(const Settings& settings, const std::string& cluster, const std::string& name);
// drained: placement never chooses the node; its vservers stay. Returns the node.
Node node_drain(const Settings& settings, const std::string& cluster, const std::string& name, bool drained);
// Refused (conflict) while vservers are on it. Its pinned key leaves the
// cluster's known_hosts; its SSH control connection is closed.
void node_remove(const Settings& settings, const std::string& cluster, const std::string& name);

// What the node shows now, through its link (the pinned key; external when
// it does not answer or shows another key): its CPUs, memory and the size of
// each storage class's filesystem. Reads only.
struct NodeCheck {
  Node node;  // as recorded
  std::int64_t cpus = 0;
  std::int64_t memory = 0;
  std::map<std::string, std::int64_t> disk;  // class -> bytes of its filesystem
};
NodeCheck node_check(const Settings& settings, const std::string& cluster, const std::string& name);

// The cluster NAME of a request: the one given, else cluster.name. Checks the
// label (invalid) but not that it exists.
std::string cluster_name(const Settings& settings, const std::optional<std::string>& given);

}  // namespace cloe
