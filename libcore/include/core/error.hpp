// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One error type for the whole suite. Libraries throw core::Error; each
// executable's main() catches it once and exits with exit_code(kind).

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace core {

enum class ErrorKind {
  failed,        // the operation failed (exit 1)
  invalid,       // usage error or bad input: names, options, config files (exit 2)
  not_found,     // the named thing does not exist (exit 3)
  conflict,      // already exists, locked, in use, or state forbids it (exit 4)
  external,      // an external system failed: libvirt, PostgreSQL, a child process (exit 5)
  precondition,  // the host is not ready: a missing package, service or capability (exit 6)
  io,            // reading or writing a file failed (exit 1)
  internal,      // a bug (exit 1)
};

// The documented exit code table (docs/exit-codes.md).
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failed = 1;
inline constexpr int usage = 2;
inline constexpr int not_found = 3;
inline constexpr int conflict = 4;
inline constexpr int external = 5;
inline constexpr int precondition = 6;
}  // namespace exit_code

int exit_code_for(ErrorKind kind) noexcept;
std::string_view kind_name(ErrorKind kind) noexcept;

// A one-line message naming what was wrong. Never put a secret in it.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

// strerror(errno) with context: "open /x: No such file or directory".
[[noreturn]] void fail_errno(ErrorKind kind, std::string_view what, int err);

}  // namespace core
