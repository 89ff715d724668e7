// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/mac.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace fs = std::filesystem;

namespace core {

namespace {

constexpr std::size_t key_bytes = crypto_generichash_KEYBYTES;  // 32
constexpr std::size_t mac_bytes = 32;

void init() {
  if (::sodium_init() < 0) fail(ErrorKind::internal, "libsodium cannot be initialised");
}

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  ::sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

std::vector<unsigned char> unhex(const std::string& text) {
  std::vector<unsigned char> out(text.size() / 2);
  std::size_t n = 0;
  if (::sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &n, nullptr) != 0) out.clear();
  out.resize(n);
  return out;
}

std::string read_key(const fs::path& key_file) {
  Fd fd(::open(key_file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::io, "open " + key_file.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail_errno(ErrorKind::io, "stat " + key_file.string(), errno);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != ::geteuid())
    fail(ErrorKind::invalid, "{} is not a key of this user's alone (a regular file, mode 0600)", key_file.string());
  std::array<char, key_bytes * 2 + 2> buf{};
  ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  if (n < 0) fail_errno(ErrorKind::io, "read " + key_file.string(), errno);
  std::string text(buf.data(), static_cast<std::size_t>(n));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (unhex(text).size() != key_bytes || text.size() != key_bytes * 2)
    fail(ErrorKind::invalid, "{} is not a key: 64 hex digits expected", key_file.string());
  return text;
}

}  // namespace

std::string mac_key(const fs::path& key_file, bool create) {
  init();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(key_file, ec)) || !create) return read_key(key_file);
  fs::create_directories(key_file.parent_path(), ec);
  std::array<unsigned char, key_bytes> key{};
  ::randombytes_buf(key.data(), key.size());
  std::string text = hex(key.data(), key.size()) + "\n";
  ::sodium_memzero(key.data(), key.size());
  fs::path tmp = key_file.string() + ".tmp";
  ::unlink(tmp.c_str());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) fail_errno(ErrorKind::io, "create " + tmp.string(), errno);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0)
      fail_errno(ErrorKind::io, "write " + tmp.string(), errno);
  }
  // Two processes making the first key at once: the first link wins, both use it.
  if (::link(tmp.c_str(), key_file.c_str()) != 0 && errno != EEXIST) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail_errno(ErrorKind::io, "create " + key_file.string(), err);
  }
  ::unlink(tmp.c_str());
  return read_key(key_file);
}

std::string file_mac(const std::string& key, const fs::path& file) {
  init();
  auto k = unhex(key);
  if (k.size() != key_bytes) fail(ErrorKind::internal, "not a MAC key");
  Fd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno(ErrorKind::io, "open " + file.string(), errno);
  crypto_generichash_state state;
  ::crypto_generichash_init(&state, k.data(), k.size(), mac_bytes);
  ::sodium_memzero(k.data(), k.size());
  std::vector<unsigned char> buf(std::size_t{1} << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(ErrorKind::io, "read " + file.string(), errno);
    if (n == 0) break;
    ::crypto_generichash_update(&state, buf.data(), static_cast<unsigned long long>(n));
  }
  std::array<unsigned char, mac_bytes> out{};
  ::crypto_generichash_final(&state, out.data(), out.size());
  return hex(out.data(), out.size());
}

bool same_mac(const std::string& a, const std::string& b) noexcept {
  return a.size() == b.size() && ::sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace core
