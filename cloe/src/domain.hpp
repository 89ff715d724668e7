// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The libvirt LXC domain of a vserver, as a typed description and the XML
// made from it (../shared/CLOE.md, A vserver). Every value a user gave is
// checked or escaped here: the XML is never pasted together from strings.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cloe::domain {

// One network interface on a node bridge, with a fixed address inside.
struct Interface {
  std::string bridge;             // the node's bridge device
  std::string mac;                // aa:bb:cc:dd:ee:ff
  std::string address;            // IPv4 inside the vserver
  int prefix = 24;                // its prefix length
  std::optional<std::string> gateway;  // the default route inside
  std::optional<std::string> target;   // the host side's device name
  bool operator==(const Interface&) const = default;
};

// A user namespace: root inside is `host_base` outside, for `count` ids.
struct IdMap {
  std::uint32_t host_base = 0;
  std::uint32_t count = 65536;
  bool operator==(const IdMap&) const = default;
};

struct Spec {
  std::string name;                 // an RFC 1123 label
  std::optional<std::string> uuid;  // libvirt's of a defined domain (a redefinition keeps it)
  std::string root;                 // the folder mounted as / (the overlay)
  std::string init = "/sbin/init";  // runit-init in the suite's templates
  std::uint64_t memory_kib = 1024 * 1024;
  std::optional<std::uint64_t> memory_hard_limit_kib;
  unsigned vcpus = 1;
  std::optional<std::string> cpuset;  // "0" or "0-1": the host CPUs it may use
  std::optional<unsigned> cpu_shares;  // relative weight (1024 the default)
  std::optional<unsigned> cpu_max_percent;  // a hard cap, % of one CPU
  std::optional<IdMap> idmap;
  std::vector<Interface> interfaces;
  bool operator==(const Spec&) const = default;
};

// Throws core::Error(invalid) naming the field when a value is out of its
// form: a name that is not a label, a relative root or init, a MAC or an
// address that does not parse, a cpuset with other characters than digits,
// ',' and '-', a cap outside 1..100 * vcpus, shares outside 2..262144, an
// idmap that starts at 0 or wraps.
void validate(const Spec& spec);

// The domain XML (validate() first). The period of a CPU cap is 100 ms.
std::string xml(const Spec& spec);

// The MAC of an address: 52:54:00 (the locally administered prefix libvirt
// uses) then the address's last three octets, so it is the same on every
// node (relocation keeps both).
std::string mac_for(const std::string& ipv4);

}  // namespace cloe::domain
