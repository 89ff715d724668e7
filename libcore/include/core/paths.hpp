// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Every file the suite reads or writes lives under one root: /etc/oe,
// /var/lib/oe, /var/log/oe and /run/oe below "/" by default. `--root DIR`
// (or OE_ROOT) moves all of them below DIR, so tests never touch the real
// system folders.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// The environment variable naming the root when --root is not given.
inline constexpr std::string_view root_env = "OE_ROOT";

class Paths {
 public:
  // `root` must be an absolute or relative path to an existing folder.
  explicit Paths(std::filesystem::path root);

  // --root wins over OE_ROOT, which wins over "/". Throws ErrorKind::invalid
  // when the chosen root does not exist or is not a folder.
  static Paths resolve(const std::optional<std::string>& cli_root);

  const std::filesystem::path& root() const noexcept { return root_; }
  std::filesystem::path etc() const { return root_ / "etc/oe"; }
  std::filesystem::path data() const { return root_ / "var/lib/oe"; }
  std::filesystem::path log() const { return root_ / "var/log/oe"; }
  std::filesystem::path run() const { return root_ / "run/oe"; }
  // Per-tool folders: /var/lib/oe/<tool>, /etc/oe/<tool>.toml.
  std::filesystem::path data(std::string_view tool) const { return data() / tool; }
  std::filesystem::path config_file(std::string_view tool) const;
  std::filesystem::path locks() const { return run() / "locks"; }

  // Creates the data, log and run folders (0750) when a command is about to
  // write. Throws ErrorKind::invalid when the root is not writable.
  void prepare_for_writing() const;

 private:
  std::filesystem::path root_;
};

}  // namespace core
