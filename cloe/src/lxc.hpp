// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A vserver's libvirt LXC domain on one node: define and start from its
// XML, a clean stop, destroy, undefine, its state; and running a command
// inside it as its root, within its cgroups and limits (../shared/CLOE.md,
// facts: libvirt-lxc's sequence, not `virsh lxc-enter-namespace`, which
// runs as nobody under an idmap, nor a bare nsenter, which joins no
// cgroup).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cloe::lxc {

enum class State { absent, shut_off, running, other };

State state(const std::string& uri, const std::string& name);

// Defines the domain (replacing the definition of a stopped one) and starts
// it. Throws conflict when it runs already, external with libvirt's message.
void define_and_start(const std::string& uri, const std::string& domain_xml);

// Defines (or redefines: a running domain keeps running, the definition
// applies at its next start) the domain. Throws external.
void define(const std::string& uri, const std::string& domain_xml);

// The UUID of domain NAME, when defined.
std::optional<std::string> uuid(const std::string& uri, const std::string& name);

// Starts the defined domain NAME; one that runs already is left alone.
void start(const std::string& uri, const std::string& name);

// Applies quotas to the running domain NAME at once (its cgroups): what is
// given. Throws external.
void set_live(const std::string& uri, const std::string& name, std::optional<unsigned> cpu_shares,
              std::optional<unsigned> cpu_max_percent, std::optional<unsigned long long> memory_kib);

// SIGINT to the vserver's PID 1 (runit-init stops its services and the
// vserver), waiting up to `timeout`; returns false when it still runs.
bool stop(const std::string& uri, const std::string& name, std::chrono::seconds timeout);

// Forces it off (nothing runs after), when it runs.
void destroy(const std::string& uri, const std::string& name);

// Removes the definition of a stopped domain; absent is fine.
void undefine(const std::string& uri, const std::string& name);

// The argument that makes cloe the entering child (main.cpp checks it
// first): `cloe __enter URI NAME ARGV...` joins the domain's cgroups and
// namespaces, becomes its root, runs ARGV (looked up in the vserver's PATH)
// and exits with its status; stdin, stdout and stderr are the caller's.
inline constexpr std::string_view enter_command = "__enter";
int enter_main(int argc, char** argv);

}  // namespace cloe::lxc
