// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private helpers of libxoe that touch the host: random secrets, files,
// users, ports, HTTP probes. Processes are started only through core::run.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace xoe::host {

// `length` characters of [A-Za-z0-9] from getrandom(2) (a CSPRNG), without
// modulo bias.
std::string random_password(std::size_t length = 24);

// FNV-1a 64 of `text` as 16 hex digits: a stable short key, not a secret.
std::string short_hash(std::string_view text);

// Current UTC time, ISO 8601 with seconds.
std::string now_iso();

// Writes `content` to a temporary file beside `path` with `mode`, then renames it.
void write_file(const std::filesystem::path& path, std::string_view content, std::filesystem::perms mode);
std::string read_file(const std::filesystem::path& path);
// Creates `dir` (and parents) and sets its mode.
void make_dir(const std::filesystem::path& dir, std::filesystem::perms mode);
// Removes `path` recursively by directory descriptors, never following a
// symbolic link planted in the tree (core::remove_tree); a missing path is
// fine. Throws io otherwise.
void remove_tree(const std::filesystem::path& path);

// True when nothing listens on, nor holds, TCP `address`:`port` (bind test).
bool port_free(const std::string& address, std::uint16_t port);

// The inodes of the sockets listening on TCP `port` (any address) in a
// /proc/net/tcp or /proc/net/tcp6 text.
std::set<std::uint64_t> listening_inodes(std::string_view proc_net_tcp, std::uint16_t port);
// The processes holding a socket that listens on TCP `port` in this network
// namespace (/proc/net/tcp and tcp6, then each process's fds); empty when
// none, or when /proc does not tell.
std::set<pid_t> port_holders(std::uint16_t port);

struct HttpAnswer {
  int status = 0;
  std::string body;
};
// POST `body` (JSON) to http://address:port/path; nullopt when no answer
// came within `timeout` (refused, reset, slow).
std::optional<HttpAnswer> http_post(const std::string& address, std::uint16_t port, const std::string& path,
                                    const std::string& body, std::chrono::milliseconds timeout);

// System users and groups.
struct Account {
  uid_t uid;
  gid_t gid;
};
std::optional<Account> find_user(const std::string& name);
std::optional<gid_t> find_group(const std::string& name);
// Creates the system group `name` unless it exists.
void ensure_group(const std::string& name);
// Creates system user `name` with its own group, member of `extra_group`,
// home `home` (not created), no login shell.
void create_user(const std::string& name, const std::string& extra_group, const std::filesystem::path& home);
// Removes user `name` and its group; a missing user is fine.
void delete_user(const std::string& name);
// chown -R by directory descriptors (core::chown_tree): no symbolic link
// followed, even one swapped in during the walk; devices and foreign hard
// links refused (precondition). The last component of `path` may be the
// customer's; its parents must not be.
void chown_tree(const std::filesystem::path& path, uid_t uid, gid_t gid);
void chown_path(const std::filesystem::path& path, uid_t uid, gid_t gid);

// Quotes `value` for a POSIX shell script ('...').
std::string shell_quote(std::string_view value);

}  // namespace xoe::host
