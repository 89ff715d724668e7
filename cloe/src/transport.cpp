// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"

namespace fs = std::filesystem;

namespace cloe::transport {
namespace {

constexpr std::string_view key_types[] = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                          "ecdsa-sha2-nistp521", "ssh-rsa"};

std::size_t rank(std::string_view type) {
  auto it = std::ranges::find(key_types, type);
  return static_cast<std::size_t>(it - std::begin(key_types));
}

// The known_hosts name of a node: "IP", or "[IP]:PORT" off port 22.
std::string host_pattern(const std::string& address, std::int64_t port) {
  return port == 22 ? address : "[" + address + "]:" + std::to_string(port);
}

class LocalNode final : public NodeLink {
 public:
  core::RunResult run(const std::vector<std::string>& argv, const core::RunOptions& options) override {
    return core::run(argv, options);
  }
  std::vector<std::string> command_argv(const std::vector<std::string>& argv) const override { return argv; }
  bool remote() const override { return false; }
  void put_tree(const fs::path& from, const std::string& to) override {
    fs::create_directories(to);
    core::run({"rsync", "-aHAX", "--numeric-ids", "--delete", "--", from.string() + "/", to + "/"},
              {.timeout = std::chrono::hours(2)});
  }
  std::string libvirt_uri() const override { return "lxc:///system"; }
};

class SshNode final : public NodeLink {
 public:
  SshNode(const Settings& settings, Node node) : settings_(settings), node_(std::move(node)) {}

  std::vector<std::string> command_argv(const std::vector<std::string>& argv) const override {
    std::error_code ec;
    fs::create_directories(settings_.control_dir(), ec);
    ::chmod(settings_.control_dir().c_str(), 0700);
    std::vector<std::string> full = ssh_argv(settings_, node_);
    full.push_back(remote_command(argv));
    return full;
  }

  bool remote() const override { return true; }

  core::RunResult run(const std::vector<std::string>& argv, const core::RunOptions& options) override {
    core::RunOptions o = options;
    o.check = false;
    core::RunResult r = core::run(command_argv(argv), o);
    // 255 is ssh's own failure (the command's status otherwise).
    if (r.exit_code == 255) ssh_failed(r);
    if (options.check && r.exit_code != 0) {
      std::string last = r.err;
      while (!last.empty() && last.back() == '\n') last.pop_back();
      if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
      core::fail(core::ErrorKind::external, "on node {}: {} exited with status {}{}{}", node_.name, argv.front(),
                 r.exit_code, last.empty() ? "" : ": ", last);
    }
    return r;
  }

  void put_tree(const fs::path& from, const std::string& to) override {
    run({"mkdir", "-p", "--", to}, {.timeout = std::chrono::seconds(60), .check = true});
    // --protect-args: the node's path travels in rsync's protocol, never
    // through the node's shell.
    core::RunOptions o;
    o.timeout = std::chrono::hours(2);
    o.check = false;
    core::RunResult r = core::run({"rsync", "-aHAX", "--numeric-ids", "--delete", "-e", rsync_shell(settings_, node_),
                                   "--protect-args", "--", from.string() + "/", node_.address + ":" + to + "/"},
                                  o);
    if (r.exit_code == 255) ssh_failed(r);
    if (r.exit_code != 0) {
      std::string last = r.err;
      while (!last.empty() && last.back() == '\n') last.pop_back();
      if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
      core::fail(core::ErrorKind::external, "copy {} to node {}: rsync exited with status {}: {}", from.string(),
                 node_.name, r.exit_code, last);
    }
  }

 private:
  [[noreturn]] void ssh_failed(const core::RunResult& r) const {
    {  // 255: ssh's own failure
      if (r.err.find("Host key verification failed") != std::string::npos ||
          r.err.find("REMOTE HOST IDENTIFICATION HAS CHANGED") != std::string::npos)
        core::fail(core::ErrorKind::external,
                   "node {} ({}): its host key is not the pinned one ({}): refused; if the node was "
                   "reinstalled, remove and add it again",
                   node_.name, node_.address, node_.fingerprint);
      std::string last = r.err;
      while (!last.empty() && (last.back() == '\n' || last.back() == '\r')) last.pop_back();
      if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
      core::fail(core::ErrorKind::external, "node {} ({}) does not answer over ssh: {}", node_.name,
                 node_.address, last.empty() ? "ssh failed" : last);
    }
  }

 public:
  std::string libvirt_uri() const override {
    // libvirt's ssh transport with the same key and known_hosts (its
    // keyfile and known_hosts parameters; no_verify is never set).
    return fmt::format("lxc+ssh://{}@{}:{}/system?keyfile={}&known_hosts={}&no_tty=1", settings_.ssh_user,
                       node_.address, node_.ssh_port, settings_.ssh_identity.string(),
                       settings_.known_hosts(node_.cluster).string());
  }

  void close() override {
    std::vector<std::string> argv = ssh_argv(settings_, node_);
    argv.insert(argv.end() - 2, {"-O", "exit"});
    core::RunOptions o;
    o.check = false;
    o.timeout = std::chrono::seconds(10);
    core::run(argv, o);  // no master running is fine
  }

 private:
  Settings settings_;
  Node node_;
};

}  // namespace

std::vector<std::string> ssh_argv(const Settings& s, const Node& node) {
  return {"ssh",
          "-F", "/dev/null",  // no configuration but this argument vector
          "-o", "BatchMode=yes",
          "-o", "StrictHostKeyChecking=yes",
          "-o", "UserKnownHostsFile=" + s.known_hosts(node.cluster).string(),
          "-o", "GlobalKnownHostsFile=/dev/null",
          "-o", "CheckHostIP=no",
          "-o", "UpdateHostKeys=no",
          "-o", "ControlMaster=auto",
          "-o", "ControlPersist=" + std::to_string(s.control_persist),
          "-o", "ControlPath=" + (s.control_dir() / "%C").string(),
          "-o", "ConnectTimeout=" + std::to_string(s.connect_timeout),
          "-o", "ServerAliveInterval=10",
          "-o", "IdentitiesOnly=yes",
          "-o", "IdentityFile=" + s.ssh_identity.string(),
          "-o", "LogLevel=ERROR",
          "-p", std::to_string(node.ssh_port),
          "-l", s.ssh_user,
          "--", node.address};
}

std::string rsync_shell(const Settings& s, const Node& node) {
  std::vector<std::string> argv = ssh_argv(s, node);
  argv.resize(argv.size() - 2);  // "--" and the host: rsync puts the host there
  std::string out;
  for (const auto& a : argv) {
    if (a.find_first_of(" \t\n'\"\\") != std::string::npos)
      core::fail(core::ErrorKind::invalid, "ssh argument '{}' holds a space or a quote: rsync cannot be given it",
                 core::escape_for_display(a));
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::string remote_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

std::string parse_host_key(std::string_view text, std::string_view what) {
  std::istringstream in{std::string(text)};
  std::string type, blob;
  in >> type >> blob;
  auto bad = [&](std::string_view why) {
    core::fail(core::ErrorKind::invalid, "{} '{}': {}", what, core::escape_for_display(text), why);
  };
  if (rank(type) == std::size(key_types)) bad("not a host key (TYPE BASE64, e.g. the line of ssh_host_ed25519_key.pub)");
  if (blob.size() < 16 ||
      !std::ranges::all_of(blob, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='; }))
    bad("the key is not base64");
  return type + " " + blob;
}

std::string fingerprint(const std::string& host_key) {
  core::RunOptions o;
  o.stdin_data = host_key + "\n";
  o.check = false;
  o.timeout = std::chrono::seconds(10);
  core::RunResult r = core::run({"ssh-keygen", "-l", "-E", "sha256", "-f", "-"}, o);
  std::istringstream in(r.out);
  std::string bits, fp;
  in >> bits >> fp;
  if (r.exit_code != 0 || fp.rfind("SHA256:", 0) != 0)
    core::fail(core::ErrorKind::invalid, "host key '{}': ssh-keygen cannot read it", core::escape_for_display(host_key));
  return fp;
}

std::vector<std::string> scan_host_keys(const Settings& s, const std::string& address, std::int64_t port) {
  core::RunOptions o;
  o.check = false;
  o.timeout = std::chrono::seconds(s.connect_timeout + 5);
  core::RunResult r = core::run({"ssh-keyscan", "-T", std::to_string(s.connect_timeout), "-p", std::to_string(port),
                                 "-t", "ed25519,ecdsa,rsa", "--", address},
                                o);
  std::vector<std::string> keys;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string host, type, blob;
    words >> host >> type >> blob;
    if (rank(type) == std::size(key_types) || blob.empty()) continue;
    keys.push_back(type + " " + blob);
  }
  std::ranges::stable_sort(keys, {}, [](const std::string& k) { return rank(k.substr(0, k.find(' '))); });
  if (keys.empty())
    core::fail(core::ErrorKind::external, "{} port {}: no SSH server answers (ssh-keyscan found no host key)", address,
               port);
  return keys;
}

void write_known_hosts(const Settings& s, const std::string& cluster, const std::vector<Node>& nodes) {
  fs::path file = s.known_hosts(cluster);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) core::fail(core::ErrorKind::io, "create {}: {}", file.parent_path().string(), ec.message());
  std::string text = "# cloe: the pinned host keys of cluster " + cluster + " (written from the inventory)\n";
  for (const Node& n : nodes)
    if (n.transport == Transport::ssh && !n.host_key.empty())
      text += host_pattern(n.address, n.ssh_port) + " " + n.host_key + "\n";
  fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) core::fail(core::ErrorKind::io, "write {}: failed", tmp.string());
  }
  fs::rename(tmp, file, ec);
  if (ec) core::fail(core::ErrorKind::io, "rename {}: {}", tmp.string(), ec.message());
}

std::unique_ptr<NodeLink> link(const Settings& settings, const Node& node) {
  if (node.transport == Transport::local) return std::make_unique<LocalNode>();
  return std::make_unique<SshNode>(settings, node);
}

}  // namespace cloe::transport
