// SPDX-License-Identifier: GPL-3.0-or-later
#include "git.hpp"

#include <mutex>

namespace poe::git {

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const int rc = git_libgit2_init(); rc < 0)
      core::fail(core::ErrorKind::internal, "cannot initialise libgit2: {}", last_error(rc));
  });
}

std::string last_error(int rc) {
  // libgit2 1.5 returns null when no error is set, later versions an entry of
  // class GIT_ERROR_NONE.
  const git_error* error = git_error_last();
  if (error && error->klass != GIT_ERROR_NONE && error->message && *error->message) return error->message;
  return fmt::format("libgit2 failed with code {} and no message", rc);
}

std::string to_hex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

git_oid from_hex(std::string_view hex) {
  git_oid oid{};
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, hex.data(), hex.size()) < 0)
    core::fail(core::ErrorKind::invalid, "malformed object id '{}'", hex.substr(0, 64));
  return oid;
}

}  // namespace poe::git
