// SPDX-License-Identifier: GPL-3.0-or-later
#include "domain.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cctype>

#include "core/error.hpp"

namespace cloe::domain {

using core::ErrorKind;
using core::fail;

namespace {

bool is_label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  return true;
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_mac(const std::string& s) {
  if (s.size() != 17) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i % 3 == 2) {
      if (s[i] != ':') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool is_device(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// Text and attribute values of the XML: the five entities.
std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool is_absolute_clean(const std::string& p) {
  if (p.empty() || p.front() != '/') return false;
  for (char c : p)
    if (static_cast<unsigned char>(c) < 0x20) return false;
  return p.find("/../") == std::string::npos && !p.ends_with("/..");
}

}  // namespace

void validate(const Spec& s) {
  if (!is_label(s.name)) fail(ErrorKind::invalid, "vserver name {:?} is not an RFC 1123 label", s.name);
  if (s.uuid && (s.uuid->size() != 36 || s.uuid->find_first_not_of("0123456789abcdef-") != std::string::npos))
    fail(ErrorKind::invalid, "vserver {}: uuid {:?} is not a UUID", s.name, *s.uuid);
  if (!is_absolute_clean(s.root)) fail(ErrorKind::invalid, "vserver {}: root {:?} is not an absolute path", s.name, s.root);
  if (!is_absolute_clean(s.init)) fail(ErrorKind::invalid, "vserver {}: init {:?} is not an absolute path", s.name, s.init);
  if (s.memory_kib < 16 * 1024) fail(ErrorKind::invalid, "vserver {}: memory under 16 MiB", s.name);
  if (s.vcpus == 0 || s.vcpus > 1024) fail(ErrorKind::invalid, "vserver {}: {} CPUs", s.name, s.vcpus);
  if (s.cpuset) {
    if (s.cpuset->empty() || s.cpuset->find_first_not_of("0123456789,-") != std::string::npos)
      fail(ErrorKind::invalid, "vserver {}: cpuset {:?} is not a list of CPUs", s.name, *s.cpuset);
  }
  if (s.cpu_shares && (*s.cpu_shares < 2 || *s.cpu_shares > 262144))
    fail(ErrorKind::invalid, "vserver {}: CPU shares {} outside 2..262144", s.name, *s.cpu_shares);
  if (s.cpu_max_percent && (*s.cpu_max_percent < 1 || *s.cpu_max_percent > 100 * s.vcpus))
    fail(ErrorKind::invalid, "vserver {}: CPU cap {}% outside 1..{}", s.name, *s.cpu_max_percent, 100 * s.vcpus);
  if (s.idmap) {
    if (s.idmap->host_base == 0 || s.idmap->count == 0 ||
        std::uint64_t{s.idmap->host_base} + s.idmap->count > std::uint64_t{0xFFFFFFFF})
      fail(ErrorKind::invalid, "vserver {}: id range {}+{} is not a range of unprivileged ids", s.name,
           s.idmap->host_base, s.idmap->count);
  }
  for (const auto& i : s.interfaces) {
    if (!is_device(i.bridge)) fail(ErrorKind::invalid, "vserver {}: bridge {:?} is not a device name", s.name, i.bridge);
    if (!is_mac(i.mac)) fail(ErrorKind::invalid, "vserver {}: MAC {:?} does not parse", s.name, i.mac);
    if (!is_ipv4(i.address)) fail(ErrorKind::invalid, "vserver {}: address {:?} is not IPv4", s.name, i.address);
    if (i.prefix < 1 || i.prefix > 32) fail(ErrorKind::invalid, "vserver {}: prefix /{}", s.name, i.prefix);
    if (i.gateway && !is_ipv4(*i.gateway))
      fail(ErrorKind::invalid, "vserver {}: gateway {:?} is not IPv4", s.name, *i.gateway);
    if (i.target && !is_device(*i.target))
      fail(ErrorKind::invalid, "vserver {}: device {:?} is not a device name", s.name, *i.target);
  }
}

std::string xml(const Spec& s) {
  validate(s);
  std::string x = "<domain type='lxc'>\n";
  x += fmt::format("  <name>{}</name>\n", esc(s.name));
  if (s.uuid) x += fmt::format("  <uuid>{}</uuid>\n", esc(*s.uuid));
  x += fmt::format("  <memory unit='KiB'>{}</memory>\n", s.memory_kib);
  if (s.memory_hard_limit_kib)
    x += fmt::format("  <memtune>\n    <hard_limit unit='KiB'>{}</hard_limit>\n  </memtune>\n", *s.memory_hard_limit_kib);
  if (s.cpuset)
    x += fmt::format("  <vcpu placement='static' cpuset='{}'>{}</vcpu>\n", esc(*s.cpuset), s.vcpus);
  else
    x += fmt::format("  <vcpu placement='static'>{}</vcpu>\n", s.vcpus);
  if (s.cpu_shares || s.cpu_max_percent) {
    x += "  <cputune>\n";
    if (s.cpu_shares) x += fmt::format("    <shares>{}</shares>\n", *s.cpu_shares);
    if (s.cpu_max_percent) x += fmt::format("    <period>100000</period>\n    <quota>{}</quota>\n", *s.cpu_max_percent * 1000);
    x += "  </cputune>\n";
  }
  x += fmt::format("  <os>\n    <type>exe</type>\n    <init>{}</init>\n  </os>\n", esc(s.init));
  // A network namespace of its own even without an interface: a vserver never
  // shares the host's (and sysfs is mounted only in a user namespace's own).
  x += "  <features>\n    <privnet/>\n  </features>\n";
  if (s.idmap) {
    x += fmt::format(
        "  <idmap>\n    <uid start='0' target='{0}' count='{1}'/>\n    <gid start='0' target='{0}' count='{1}'/>\n"
        "  </idmap>\n",
        s.idmap->host_base, s.idmap->count);
  }
  x += "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
       "  <on_crash>destroy</on_crash>\n  <devices>\n";
  x += fmt::format("    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='{}'/>\n"
                   "      <target dir='/'/>\n    </filesystem>\n",
                   esc(s.root));
  for (const auto& i : s.interfaces) {
    x += fmt::format("    <interface type='bridge'>\n      <source bridge='{}'/>\n      <mac address='{}'/>\n",
                     esc(i.bridge), esc(i.mac));
    x += fmt::format("      <ip address='{}' family='ipv4' prefix='{}'/>\n", esc(i.address), i.prefix);
    if (i.gateway) x += fmt::format("      <route family='ipv4' address='0.0.0.0' prefix='0' gateway='{}'/>\n", esc(*i.gateway));
    if (i.target) x += fmt::format("      <target dev='{}'/>\n", esc(*i.target));
    x += "    </interface>\n";
  }
  x += "    <console type='pty'/>\n  </devices>\n</domain>\n";
  return x;
}

std::string mac_for(const std::string& ipv4) {
  in_addr a{};
  if (inet_pton(AF_INET, ipv4.c_str(), &a) != 1) fail(ErrorKind::invalid, "address {:?} is not IPv4", ipv4);
  auto n = ntohl(a.s_addr);
  return fmt::format("52:54:00:{:02x}:{:02x}:{:02x}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

}  // namespace cloe::domain
