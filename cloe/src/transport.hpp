// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The one way cloe reaches a node (CLOE.md: one interface, two kinds).
// LocalNode runs on the referee itself (core::run, direct execution);
// SshNode runs the OpenSSH client with an argument vector: BatchMode=yes,
// a multiplexed connection (ControlMaster=auto, ControlPersist, the control
// socket under ROOT/run/oe/cloe/ssh), the host key pinned in cloe's own
// known_hosts of the node's cluster (UserKnownHostsFile, no global file,
// StrictHostKeyChecking=yes: an unknown or changed key is refused, never
// learnt). Nothing else in cloe starts ssh.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"
#include "core/process.hpp"

namespace cloe::transport {

class NodeLink {
 public:
  virtual ~NodeLink() = default;
  // Runs argv on the node; never through a shell of the referee. Over SSH
  // each argument is quoted for the node's shell, so it arrives as one
  // argument, byte for byte. Throws core::Error external when the node
  // cannot be reached or its host key is not the pinned one (named), and,
  // with options.check, when the command fails.
  virtual core::RunResult run(const std::vector<std::string>& argv, const core::RunOptions& options = {}) = 0;
  // The argument vector that runs `argv` on the node, for a caller that
  // starts it itself (core::run with its own options: a command inside a
  // vserver, whose output cloe never logs). Local: argv itself; SSH: the
  // ssh argv of ssh_argv() plus remote_command(argv). Over SSH, exit status
  // 255 is ssh's own failure.
  virtual std::vector<std::string> command_argv(const std::vector<std::string>& argv) const = 0;
  // True for a node reached over SSH.
  virtual bool remote() const = 0;
  // Copies the tree `from` (a folder of the referee) to the folder `to` on
  // the node with rsync over the same multiplexed SSH (-aHAX --numeric-ids
  // --delete: owners, hard links, ACLs and xattrs kept; what is not in
  // `from` removed). Local: rsync on the referee itself. Throws external.
  virtual void put_tree(const std::filesystem::path& from, const std::string& to) = 0;
  // The libvirt URI of the node's own libvirtd, as seen from the referee
  // (for an admin's virsh). cloe itself drives an SSH node's libvirtd from
  // the node (`cloe __node lxc-...`, node_side.hpp): libvirt's ssh transport
  // would start its own ssh, without the pinned known_hosts (its
  // known_hosts= is honoured by the libssh transports only) nor the
  // multiplexed connection.
  virtual std::string libvirt_uri() const = 0;
  // Closes a multiplexed connection, if any (node remove).
  virtual void close() {}
};

// The link for `node` (its cluster's known_hosts must hold its key: see
// write_known_hosts).
std::unique_ptr<NodeLink> link(const Settings& settings, const Node& node);

// The ssh argument vector for `node`, up to and including the "--" and
// host; the remote command follows. Exposed for the unit tests.
std::vector<std::string> ssh_argv(const Settings& settings, const Node& node);

// The ssh command rsync's -e is given for `node`: ssh_argv without the
// "--" and the host, joined by spaces (rsync splits it again on spaces, so
// each path in it must have none: invalid otherwise).
std::string rsync_shell(const Settings& settings, const Node& node);

// `argv` as one string the node's POSIX shell splits back into argv: each
// argument in single quotes (a quote as '\'').
std::string remote_command(const std::vector<std::string>& argv);

// A host key as a .pub file has it ("TYPE BASE64 [COMMENT]"), checked:
// a known key type and base64 text. Returns "TYPE BASE64". invalid otherwise.
std::string parse_host_key(std::string_view text, std::string_view what);
// "SHA256:..." of a "TYPE BASE64" key, as ssh-keygen -l shows it.
std::string fingerprint(const std::string& host_key);

// The keys the SSH server at address:port shows (ssh-keyscan), best first
// (ed25519, ecdsa, rsa). external when it does not answer.
std::vector<std::string> scan_host_keys(const Settings& settings, const std::string& address, std::int64_t port);

// Writes the known_hosts of `cluster` from its nodes' pinned keys
// (atomically: a temporary file renamed over it).
void write_known_hosts(const Settings& settings, const std::string& cluster, const std::vector<Node>& nodes);

}  // namespace cloe::transport
