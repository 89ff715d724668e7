// SPDX-License-Identifier: GPL-3.0-or-later
// The node transport's pure parts: the ssh argument vector, the quoting of a
// remote argv, host keys and their fingerprints, the known_hosts file.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "../core/tempdir.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "transport.hpp"

namespace {

cloe::Settings settings(const std::filesystem::path& root) {
  cloe::Settings s;
  s.root = root;
  s.data = root / "var/lib/oe";
  s.state = s.data / "cloe";
  s.run = root / "run/oe/cloe";
  s.ssh_identity = root / "id";
  return s;
}

TEST(CloeTransport, SshArgvPinsTheKeyAndNeverLearnsOne) {
  test::TempDir dir;
  cloe::Node n;
  n.cluster = "prod";
  n.name = "n1";
  n.address = "10.1.0.11";
  n.ssh_port = 2222;
  auto argv = cloe::transport::ssh_argv(settings(dir.path()), n);
  auto has = [&](const std::string& o) { return std::ranges::find(argv, o) != argv.end(); };
  EXPECT_TRUE(has("BatchMode=yes"));
  EXPECT_TRUE(has("StrictHostKeyChecking=yes"));
  EXPECT_TRUE(has("UserKnownHostsFile=" + (dir.path() / "var/lib/oe/cloe/known_hosts/prod").string()));
  EXPECT_TRUE(has("GlobalKnownHostsFile=/dev/null"));
  EXPECT_TRUE(has("ControlMaster=auto"));
  EXPECT_TRUE(has("ControlPath=" + (dir.path() / "run/oe/cloe/ssh/%C").string()));
  EXPECT_TRUE(has("2222"));
  for (const auto& a : argv) EXPECT_EQ(a.find("StrictHostKeyChecking=no"), std::string::npos);
  ASSERT_GE(argv.size(), 2U);
  EXPECT_EQ(argv[argv.size() - 2], "--");
  EXPECT_EQ(argv.back(), "10.1.0.11");
}

TEST(CloeTransport, RemoteCommandSurvivesAShell) {
  std::vector<std::string> argv = {"printf", "%s|", "two  words", "it's", "$(touch /tmp/x)", "`id`", "a\nb", ";", ""};
  // A real POSIX shell splits it back into exactly these arguments.
  core::RunResult r = core::run({"/bin/sh", "-c", cloe::transport::remote_command(argv)});
  EXPECT_EQ(r.out, "two  words|it's|$(touch /tmp/x)|`id`|a\nb|;||");
}

TEST(CloeTransport, RsyncShellIsTheSshArgvWithoutTheHost) {
  test::TempDir dir;
  cloe::Node n;
  n.cluster = "prod";
  n.name = "n1";
  n.address = "10.1.0.11";
  auto s = settings(dir.path());
  std::string shell = cloe::transport::rsync_shell(s, n);
  auto argv = cloe::transport::ssh_argv(s, n);
  argv.resize(argv.size() - 2);
  std::string want;
  for (const auto& a : argv) want += (want.empty() ? "" : " ") + a;
  EXPECT_EQ(shell, want);
  EXPECT_EQ(shell.find("10.1.0.11"), std::string::npos);
  EXPECT_NE(shell.find("StrictHostKeyChecking=yes"), std::string::npos);
  // rsync splits -e on spaces: a path with one is refused, never split.
  s.ssh_identity = dir.path() / "my key";
  try {
    cloe::transport::rsync_shell(s, n);
    ADD_FAILURE() << "a space in the identity's path was accepted";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
  }
}

TEST(CloeTransport, LocalLinkRunsTheArgvItself) {
  test::TempDir dir;
  cloe::Node n;
  n.transport = cloe::Transport::local;
  auto link = cloe::transport::link(settings(dir.path()), n);
  EXPECT_FALSE(link->remote());
  std::vector<std::string> argv = {"printf", "%s", "a b"};
  EXPECT_EQ(link->command_argv(argv), argv);
  n.transport = cloe::Transport::ssh;
  n.address = "10.1.0.11";
  auto ssh = cloe::transport::link(settings(dir.path()), n);
  EXPECT_TRUE(ssh->remote());
  auto full = ssh->command_argv(argv);
  ASSERT_GE(full.size(), 3U);
  EXPECT_EQ(full[0], "ssh");
  EXPECT_EQ(full[full.size() - 2], "10.1.0.11");
  EXPECT_EQ(full.back(), cloe::transport::remote_command(argv));
}

TEST(CloeTransport, HostKeysAreCheckedAndFingerprinted) {
  test::TempDir dir;
  core::run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (dir.path() / "k").string()});
  std::ifstream in(dir.path() / "k.pub");
  std::string pub((std::istreambuf_iterator<char>(in)), {});
  std::string key = cloe::transport::parse_host_key(pub, "--host-key");  // with its comment
  EXPECT_EQ(key.rfind("ssh-ed25519 AAAA", 0), 0U);
  EXPECT_EQ(key.find(' ', 12), std::string::npos);  // comment dropped
  std::string expected = core::run({"ssh-keygen", "-l", "-E", "sha256", "-f", (dir.path() / "k.pub").string()}).out;
  std::string fp = cloe::transport::fingerprint(key);
  EXPECT_EQ(fp.rfind("SHA256:", 0), 0U);
  EXPECT_NE(expected.find(fp), std::string::npos);
  for (const char* bad : {"", "ssh-ed25519", "ssh-ed25519 !!!!!!!!!!!!!!!!!!!!", "rsa AAAAB3NzaC1yc2EAAAADAQAB"})
    EXPECT_THROW(cloe::transport::parse_host_key(bad, "--host-key"), core::Error) << bad;
}

TEST(CloeTransport, KnownHostsHoldsThePinnedKeysOfSshNodesOnly) {
  test::TempDir dir;
  auto s = settings(dir.path());
  cloe::Node a, b, l;
  a.cluster = b.cluster = l.cluster = "prod";
  a.address = "10.1.0.11";
  a.host_key = "ssh-ed25519 AAAAkeyA";
  b.address = "10.1.0.12";
  b.ssh_port = 2222;
  b.host_key = "ssh-ed25519 AAAAkeyB";
  l.transport = cloe::Transport::local;
  l.address = "10.1.0.5";
  cloe::transport::write_known_hosts(s, "prod", {a, b, l});
  std::ifstream in(s.known_hosts("prod"));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("\n10.1.0.11 ssh-ed25519 AAAAkeyA\n"), std::string::npos);
  EXPECT_NE(text.find("\n[10.1.0.12]:2222 ssh-ed25519 AAAAkeyB\n"), std::string::npos);
  EXPECT_EQ(text.find("10.1.0.5"), std::string::npos);
}

}  // namespace
