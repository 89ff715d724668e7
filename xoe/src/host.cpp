// SPDX-License-Identifier: GPL-3.0-or-later
#include "host.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/process.hpp"
#include "core/tree.hpp"

namespace fs = std::filesystem;

namespace xoe::host {

using core::ErrorKind;
using core::fail;

namespace {

using core::Fd;

}  // namespace

std::string random_password(std::size_t length) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < length) {
    unsigned char buf[64];
    ssize_t n = ::getrandom(buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      core::fail_errno(ErrorKind::failed, "getrandom", errno);
    }
    for (ssize_t i = 0; i < n && out.size() < length; ++i) {
      // 248 = 4 * 62: bytes above it are dropped, so every character is equally likely
      if (buf[i] < 248) out.push_back(alphabet[buf[i] % alphabet.size()]);
    }
  }
  return out;
}

std::string short_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void write_file(const fs::path& path, std::string_view content, fs::perms mode) {
  // A name of this thread's own: two writers of one file (threads of a
  // profile's members) must not rename each other's half-written file.
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(::gettid());
  {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) core::fail_errno(ErrorKind::io, "open " + tmp.string(), errno);
    Fd owner(fd);
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        core::fail_errno(ErrorKind::io, "write " + tmp.string(), errno);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) core::fail_errno(ErrorKind::io, "chmod " + tmp.string(), errno);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail(ErrorKind::io, "rename {}: {}", path.string(), ec.message());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::io, "cannot read {}", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void make_dir(const fs::path& dir, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(ErrorKind::io, "cannot create {}: {}", dir.string(), ec.message());
  fs::permissions(dir, mode, fs::perm_options::replace, ec);
  if (ec) fail(ErrorKind::io, "chmod {}: {}", dir.string(), ec.message());
}

void remove_tree(const fs::path& path) { core::remove_tree(path); }

bool port_free(const std::string& address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    fail(ErrorKind::invalid, "services.listen '{}': not an IPv4 address", address);
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) core::fail_errno(ErrorKind::failed, "socket", errno);
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return ::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

std::set<std::uint64_t> listening_inodes(std::string_view text, std::uint16_t port) {
  // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
  // "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   990        0 123456 ..."
  std::set<std::uint64_t> out;
  std::istringstream in{std::string(text)};
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, st, queues, timer, retransmits, uid, timeout, inode;
    if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retransmits >> uid >> timeout >> inode)) continue;
    auto colon = local.rfind(':');
    if (st != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
    char* end = nullptr;
    unsigned long p = std::strtoul(local.c_str() + colon + 1, &end, 16);
    if (*end != '\0' || p != port) continue;
    unsigned long long n = std::strtoull(inode.c_str(), &end, 10);
    if (*end == '\0' && n != 0) out.insert(n);
  }
  return out;
}

std::set<pid_t> port_holders(std::uint16_t port) {
  std::set<std::uint64_t> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::stringstream text;
    text << in.rdbuf();
    inodes.merge(listening_inodes(text.str(), port));
  }
  std::set<pid_t> out;
  if (inodes.empty()) return out;
  std::error_code ec;
  for (fs::directory_iterator p("/proc", ec), end; !ec && p != end; p.increment(ec)) {
    std::string name = p->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fec;
    for (fs::directory_iterator fd(p->path() / "fd", fec); !fec && fd != end; fd.increment(fec)) {
      std::error_code lec;
      std::string target = fs::read_symlink(fd->path(), lec).string();
      if (lec || !target.starts_with("socket:[")) continue;
      if (inodes.contains(std::strtoull(target.c_str() + 8, nullptr, 10))) {
        out.insert(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return out;
}

std::optional<HttpAnswer> http_post(const std::string& address, std::uint16_t port, const std::string& path,
                                    const std::string& body, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, ms.count()));
  };
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return std::nullopt;
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.get() < 0) return std::nullopt;
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINPROGRESS) return std::nullopt;
    pollfd p{s.get(), POLLOUT, 0};
    if (::poll(&p, 1, left()) <= 0) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return std::nullopt;
  }
  std::string request = fmt::format(
      "POST {} HTTP/1.0\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      path, address, port, body.size(), body);
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        pollfd p{s.get(), POLLOUT, 0};
        if (::poll(&p, 1, left()) <= 0) return std::nullopt;
        continue;
      }
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  for (;;) {
    char buf[8192];
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n > 0) {
      answer.append(buf, static_cast<std::size_t>(n));
      if (answer.size() > (std::size_t{16} << 20)) return std::nullopt;
      continue;
    }
    if (n == 0) break;
    if (errno == EAGAIN || errno == EINTR) {
      pollfd p{s.get(), POLLIN, 0};
      if (::poll(&p, 1, left()) <= 0) return std::nullopt;
      continue;
    }
    return std::nullopt;
  }
  // "HTTP/1.x NNN ..."
  if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  HttpAnswer out;
  out.status = std::atoi(answer.c_str() + 9);
  auto head_end = answer.find("\r\n\r\n");
  if (head_end != std::string::npos) out.body = answer.substr(head_end + 4);
  return out;
}

std::optional<Account> find_user(const std::string& name) {
  passwd pw{};
  passwd* result = nullptr;
  std::string buf(16384, '\0');
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return Account{pw.pw_uid, pw.pw_gid};
}

std::optional<gid_t> find_group(const std::string& name) {
  group gr{};
  group* result = nullptr;
  std::string buf(65536, '\0');
  if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return gr.gr_gid;
}

namespace {

// useradd, userdel and groupadd lock /etc/passwd and /etc/group and give up
// at once when another holds them: one at a time in this process (a profile
// creates its members side by side), and a few tries against other processes.
std::mutex accounts_mutex;

core::RunResult run_account_tool(const std::vector<std::string>& argv, bool check) {
  std::lock_guard guard(accounts_mutex);
  for (int attempt = 1;; ++attempt) {
    auto r = core::run(argv, {.timeout = std::chrono::seconds(60), .check = false});
    bool locked = r.exit_code != 0 && r.err.find("lock") != std::string::npos;
    if (locked && attempt < 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    if (check && r.exit_code != 0)
      fail(ErrorKind::external, "{} {} failed: {}", argv[0], argv.back(), r.err.substr(0, r.err.find('\n')));
    return r;
  }
}

}  // namespace

void ensure_group(const std::string& name) {
  if (find_group(name)) return;
  auto r = run_account_tool({"groupadd", "--system", name}, false);
  // a concurrent xoe may have created it in the meantime
  if (r.exit_code != 0 && !find_group(name))
    fail(ErrorKind::external, "groupadd {} failed: {}", name, r.err);
}

void create_user(const std::string& name, const std::string& extra_group, const fs::path& home) {
  run_account_tool({"useradd", "--system", "--user-group", "--no-create-home", "--home-dir", home.string(), "--shell",
                    "/usr/sbin/nologin", "--groups", extra_group, "--comment", "xoe service", name},
                   true);
}

void delete_user(const std::string& name) {
  if (!find_user(name)) return;
  run_account_tool({"userdel", name}, true);
  if (find_group(name)) run_account_tool({"groupdel", name}, false);
}

void chown_path(const fs::path& path, uid_t uid, gid_t gid) {
  if (::lchown(path.c_str(), uid, gid) != 0) core::fail_errno(ErrorKind::io, "chown " + path.string(), errno);
}

void chown_tree(const fs::path& path, uid_t uid, gid_t gid) { core::chown_tree(path, uid, gid); }

std::string shell_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

}  // namespace xoe::host
