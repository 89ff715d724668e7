// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// goe's commands as the executable calls them: the web panel's server
// (`goe serve`) and goe's own users (`goe user ...`), docs/goe.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/paths.hpp"

namespace goe {

// goe's database: ROOT/var/lib/oe/goe/goe.db (users; mode 0600).
std::filesystem::path database(const core::Paths& paths);

struct UserRow {
  std::string name;
  std::string role;
  std::string created;
};

// Throws invalid (bad name, role or password), conflict (exists), not_found.
void user_add(const core::Paths& paths, const std::string& name, const std::string& role, const std::string& password);
void user_remove(const core::Paths& paths, const std::string& name);
void user_passwd(const core::Paths& paths, const std::string& name, const std::string& password);
std::vector<UserRow> user_list(const core::Paths& paths);

struct ServeOptions {
  std::string address = "127.0.0.1";
  int port = 8070;
  std::optional<std::filesystem::path> tls_cert;  // both or neither
  std::optional<std::filesystem::path> tls_key;
  std::int64_t session_minutes = 60;  // a session expires after this long unused
  int threads = 32;                   // of the server's pool
  std::optional<std::filesystem::path> static_dir;  // default: beside the program (share/oe/goe/static)
};

// "ADDR:PORT", "ADDR" or ":PORT" over `options`. Throws invalid.
void parse_listen(const std::string& text, ServeOptions& options);

// Serves the panel until SIGINT or SIGTERM. Throws invalid (options),
// conflict (the address is taken), io (the TLS files cannot be read).
void serve(const core::Paths& paths, const ServeOptions& options);

}  // namespace goe
