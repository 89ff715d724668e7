// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace core {

Paths::Paths(fs::path root) : root_(std::move(root)) {}

Paths Paths::resolve(const std::optional<std::string>& cli_root) {
  std::string chosen = "/";
  std::string_view origin = "default";
  if (cli_root) {
    chosen = *cli_root;
    origin = "--root";
  } else if (const char* env = std::getenv(std::string(root_env).c_str()); env && *env) {
    chosen = env;
    origin = root_env;
  }
  if (chosen.empty()) fail(ErrorKind::invalid, "{}: the root folder is empty", origin);
  std::error_code ec;
  auto status = fs::status(chosen, ec);
  if (ec || !fs::exists(status)) fail(ErrorKind::invalid, "{} '{}': no such folder", origin, chosen);
  if (!fs::is_directory(status)) fail(ErrorKind::invalid, "{} '{}': not a folder", origin, chosen);
  return Paths(fs::absolute(chosen).lexically_normal());
}

fs::path Paths::config_file(std::string_view tool) const {
  return etc() / (std::string(tool) + ".toml");
}

void Paths::prepare_for_writing() const {
  if (::access(root_.c_str(), W_OK) != 0)
    fail(ErrorKind::invalid, "root '{}': not writable", root_.string());
  for (const auto& dir : {data(), log(), run(), locks()}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(ErrorKind::io, "cannot create {}: {}", dir.string(), ec.message());
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                    fs::perm_options::replace, ec);
  }
}

}  // namespace core
