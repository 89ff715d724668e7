// SPDX-License-Identifier: GPL-3.0-or-later
#include "host.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

using namespace std::chrono_literals;

TEST(Host, RandomPasswordsAreLongAlphanumericAndDifferent) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto p = xoe::host::random_password();
    EXPECT_EQ(p.size(), 24U);
    for (char c : p) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 50U);
  EXPECT_EQ(xoe::host::random_password(40).size(), 40U);
}

TEST(Host, ShortHashIsStable) {
  EXPECT_EQ(xoe::host::short_hash(""), "cbf29ce484222325");
  EXPECT_EQ(xoe::host::short_hash("sale,stock"), xoe::host::short_hash("sale,stock"));
  EXPECT_NE(xoe::host::short_hash("sale"), xoe::host::short_hash("stock"));
}

TEST(Host, ShellQuote) {
  EXPECT_EQ(xoe::host::shell_quote("a b"), "'a b'");
  EXPECT_EQ(xoe::host::shell_quote("it's"), "'it'\\''s'");
}

namespace {

// A socket of this process listening on a free loopback port; -1 on failure.
std::pair<int, std::uint16_t> listen_on_loopback() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(s, 1) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(s);
    return {-1, 0};
  }
  return {s, ntohs(sa.sin_port)};
}

}  // namespace

TEST(Host, PortInUseAndHttpToAClosedPort) {
  auto [s, port] = listen_on_loopback();
  ASSERT_GE(s, 0);
  EXPECT_FALSE(xoe::host::port_free("127.0.0.1", port));
  ::close(s);
  EXPECT_TRUE(xoe::host::port_free("127.0.0.1", port));
  EXPECT_FALSE(xoe::host::http_post("127.0.0.1", port, "/", "{}", 500ms));
}

TEST(Host, ListeningInodesOfAProcNetTcpText) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   990        0 4242 1 0 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000   990        0 4343 1 0 20 4 30 10 -1\n"
      "   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0 100 0 0 10 0\n";
  EXPECT_EQ(xoe::host::listening_inodes(text, 8080), (std::set<std::uint64_t>{4242}));  // not the connection 4343
  EXPECT_EQ(xoe::host::listening_inodes(text, 8081), (std::set<std::uint64_t>{4444}));
  EXPECT_TRUE(xoe::host::listening_inodes(text, 8082).empty());
  // tcp6: the address is longer, the port the same field.
  EXPECT_EQ(xoe::host::listening_inodes(
                "  sl  local_address                         remote_address                        st ...\n"
                "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
                "00000000:00000000 00:00000000 00000000     0        0 5151 1 0 100 0 0 10 0\n",
                8080),
            (std::set<std::uint64_t>{5151}));
}

// This process's own listener is found through /proc.
TEST(Host, PortHoldersFindsThisProcess) {
  auto [s, port] = listen_on_loopback();
  ASSERT_GE(s, 0);
  EXPECT_EQ(xoe::host::port_holders(port), (std::set<pid_t>{::getpid()}));
  ::close(s);
  EXPECT_TRUE(xoe::host::port_holders(port).empty());
}
