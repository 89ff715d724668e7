// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/error.hpp"

#include <cstring>

namespace core {

int exit_code_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid: return exit_code::usage;
    case ErrorKind::not_found: return exit_code::not_found;
    case ErrorKind::conflict: return exit_code::conflict;
    case ErrorKind::external: return exit_code::external;
    case ErrorKind::precondition: return exit_code::precondition;
    case ErrorKind::failed:
    case ErrorKind::io:
    case ErrorKind::internal: return exit_code::failed;
  }
  return exit_code::failed;
}

std::string_view kind_name(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::failed: return "failed";
    case ErrorKind::invalid: return "invalid";
    case ErrorKind::not_found: return "not found";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::external: return "external";
    case ErrorKind::precondition: return "precondition";
    case ErrorKind::io: return "io";
    case ErrorKind::internal: return "internal";
  }
  return "failed";
}

void fail_errno(ErrorKind kind, std::string_view what, int err) {
  throw Error(kind, fmt::format("{}: {}", what, std::strerror(err)));
}

}  // namespace core
