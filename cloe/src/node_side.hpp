// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What cloe runs ON a node reached over SSH (docs/cloe.md, Remote nodes):
// the referee starts `NODE_BINARY __node OP ARG...` through
// transport::NodeLink::run (an argument vector, quoted by remote_command;
// never a shell string, never a secret), and the cloe installed on the
// node (the oe-cloe package; node.binary names it) does the node-side work
// with the same code the referee uses for its own node:
//
//   ping                              prints ping_answer (the protocol of these operations)
//   layers-mount STORAGE NAME TEMPLATE_ROOT HOST_BASE COUNT DISK_BYTES
//   layers-unmount STORAGE NAME       layers-remove STORAGE NAME
//   layers-mounted STORAGE NAME       prints "yes" or "no" (the image)
//   layers-grow STORAGE NAME BYTES
//   lxc-state URI NAME                prints absent, shut_off, running, other
//   lxc-define URI                    the domain's XML on stdin
//   lxc-uuid URI NAME                 prints the UUID, nothing when undefined
//   lxc-start URI NAME                lxc-destroy URI NAME   lxc-undefine URI NAME
//   lxc-stop URI NAME SECONDS         prints "stopped" or "running"
//   lxc-set-live URI NAME SHARES|- CPU_MAX|- MEMORY_KIB|-
//
// Every argument is checked (absolute paths without "..", labels, whole
// numbers) before anything is done. An error: one line on stderr, the exit
// code of its kind (docs/cloe.md, exit codes).

#include <string_view>

namespace cloe::node_side {

inline constexpr std::string_view command = "__node";
// What `ping` prints: the version of the operations below; the referee
// refuses a node whose cloe answers anything else.
inline constexpr std::string_view ping_answer = "cloe-node 1";
int main(int argc, char** argv);

}  // namespace cloe::node_side
