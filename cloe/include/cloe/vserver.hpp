// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Vservers: libvirt LXC domains on the nodes of a cluster, recorded in the
// inventory (../shared/CLOE.md, A vserver; docs/cloe.md, Vservers).
//
// A vserver has a fixed address from its cluster's pool and the MAC made
// from it, its own range of 65536 host ids (root inside is the first; the
// same on every node), a template seen read-only through an idmapped mount
// under its own writable layer (an ext4 image whose size is its disk quota)
// on a storage class of its node, and its CPU shares, CPU cap and memory
// limit in the domain's XML. Every mutating call checks its whole request
// first (nothing changes when a part is wrong), holds the vserver's lock
// ("cloe.vserver.NAME") and, for what it allocates, the cluster's, and runs
// as a journaled job (kinds cloe.vserver.create, .destroy, .set): killed at
// any step, the next run of the same command resumes it (create, set) or
// finishes it (destroy); `vserver destroy` of a vserver whose create was
// killed rolls the create back. Errors are core::Error:
//   invalid    a name that is not a label, a size or quota that does not
//              parse or is out of range, an address outside the pool
//   not_found  an unknown cluster, node, template, storage class or vserver
//   conflict   the name or address is taken, no node fits (the message says
//              why), destroy of a running vserver without force, a lock held
//   external   libvirt or a mount failed (its message)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"

namespace cloe {

enum class VserverState { creating, stopped, running, destroying };
const char* vserver_state_name(VserverState state) noexcept;

struct VserverCreateRequest {
  std::string cluster;
  std::string name;                  // an RFC 1123 label
  std::optional<std::string> node;   // nullopt or "auto": placement (placement.hpp)
  std::string template_name = "base";
  std::int64_t cpu_shares = 1024;    // relative weight, 2..262144
  std::int64_t cpu_max = 0;          // hard cap, percent of one CPU; 0: none
  std::string memory = "1G";         // a size: its memory limit
  std::string disk = "4G";           // a size: its disk quota (>= 64M)
  std::string storage = "ssd";       // the storage class of its layer
  std::vector<std::string> groups;   // labels (letters, digits, '-', '_')
  std::optional<std::string> ip;     // a free address of the pool; default the first free one
  bool start = true;                 // start it once made
};

struct Vserver {
  std::string cluster;
  std::string name;
  std::string node;
  std::string ip;
  std::string mac;
  std::string template_name;
  std::string storage;
  std::int64_t cpu_shares = 1024;
  std::int64_t cpu_max = 0;
  std::int64_t memory = 0;  // bytes
  std::int64_t disk = 0;    // bytes
  std::int64_t id_base = 0;
  VserverState state = VserverState::creating;  // as recorded
  std::string domain_state;  // as libvirt tells now: running, shut off, absent (show/list only)
  std::vector<std::string> groups;
  std::string created;
};

// Makes the vserver: records it (address, MAC, id range, node), makes its
// layers, defines its domain and (unless !start) starts it and waits until
// a command runs inside. Resumes an interrupted create of the same name.
Vserver vserver_create(const Settings& settings, const VserverCreateRequest& request);

struct VserverListRequest {
  std::string cluster;
  std::optional<std::string> node;
  std::optional<std::string> group;
};
std::vector<Vserver> vserver_list(const Settings& settings, const VserverListRequest& request);
Vserver vserver_show(const Settings& settings, const std::string& cluster, const std::string& name);

// Mounts its layers when needed, starts the domain and waits until a command
// runs inside. A running vserver is left alone.
Vserver vserver_start(const Settings& settings, const std::string& cluster, const std::string& name);

struct VserverStopResult {
  Vserver vserver;
  bool was_running = false;
  bool forced = false;  // the clean stop timed out: it was forced off
  double seconds = 0;
};
// A clean stop (SIGINT to its init: runit stops its services), then its
// layers unmounted. When it still runs after `timeout` seconds it is forced
// off, and the result says so.
VserverStopResult vserver_stop(const Settings& settings, const std::string& cluster, const std::string& name,
                               std::int64_t timeout = 30);

struct VserverDestroyRequest {
  std::string cluster;
  std::string name;
  bool force = false;  // also a running vserver (forced off); without it, conflict
};
// Removes the domain, its layers (its files: gone for good) and its record;
// the address and id range are free again.
void vserver_destroy(const Settings& settings, const VserverDestroyRequest& request);

struct VserverSetRequest {
  std::string cluster;
  std::string name;
  std::optional<std::int64_t> cpu_shares;
  std::optional<std::int64_t> cpu_max;
  std::optional<std::string> memory;
  std::optional<std::string> disk;  // may only grow (the image grows, the filesystem with it)
};
struct VserverSetResult {
  Vserver vserver;
  std::vector<std::string> changed;  // "cpu_shares", "cpu_max", "memory", "disk"
  bool live = false;                 // applied to the running vserver too
  std::vector<std::string> pending;  // changed, applied at its next start ("disk": it grows unmounted)
};
// Changes quotas: checked against the node's capacity, written to the
// inventory and the domain's definition, and applied at once when it runs
// (CPU and memory); a disk grows while its image is unmounted, so that of a
// running vserver at its next start (pending).
VserverSetResult vserver_set(const Settings& settings, const VserverSetRequest& request);

// Runs ARGV inside the vserver as its root, in its cgroups (lxc.hpp): the
// command line cloe runs for it, for the callers that start processes
// themselves (cloe xoe, command_client's Runner).
std::vector<std::string> vserver_enter_argv(const Settings& settings, const Vserver& vserver,
                                            const std::vector<std::string>& argv);

}  // namespace cloe
