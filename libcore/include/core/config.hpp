// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Layered configuration. Each tool declares its keys (a Schema) with their
// compiled defaults; the layers, lowest first, are:
//   1. compiled defaults
//   2. the tool's file, ROOT/etc/oe/<tool>.toml (TOML, comments allowed)
//   3. the environment: OE_<TOOL>_<KEY> with '.' and '-' as '_', upper case
//   4. the command line: --set KEY=VALUE
// Unknown keys and bad values are rejected with the file and line (or the
// variable or option) that gave them. Every value remembers its origin, which
// `<tool> config show` prints.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace core {

enum class ValueType { string, integer, boolean, list };

using ConfigValue = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

struct ConfigKey {
  std::string name;  // dotted: "section.key"
  ValueType type;
  ConfigValue default_value;
  std::string description;
  // Extra check of a value; throws core::Error(invalid) with a reason.
  std::function<void(const ConfigValue&)> check = {};
  bool secret = false;  // shown as *** by config show
};

using Schema = std::vector<ConfigKey>;

struct ConfigEntry {
  const ConfigKey* key;
  ConfigValue value;
  std::string origin;  // "default", "FILE:LINE", "env OE_X_Y", "--set"
};

class Config {
 public:
  // Loads the layers above for `tool`. `file` may not exist (then layer 2 is
  // empty); `env` is the process environment (injectable for tests).
  // Throws ErrorKind::invalid naming the file and line, variable or option.
  static Config load(std::string_view tool, const Schema& schema, const std::filesystem::path& file,
                     const std::vector<std::string>& cli_assignments,
                     const std::map<std::string, std::string>& env);

  const ConfigEntry& entry(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::vector<std::string>& get_list(std::string_view key) const;

  // In schema order.
  const std::vector<ConfigEntry>& entries() const noexcept { return entries_; }

  // The value as written in TOML (strings quoted), or "***" for secrets.
  static std::string display(const ConfigEntry& entry);

 private:
  std::vector<ConfigEntry> entries_;
};

// The process environment as a map (for Config::load).
std::map<std::string, std::string> environment();

// "OE_XOE_DATABASE_HOST" for tool "xoe", key "database.host".
std::string env_name(std::string_view tool, std::string_view key);

// Checks for ConfigKey::check.
std::function<void(const ConfigValue&)> check_range(std::int64_t min, std::int64_t max);
std::function<void(const ConfigValue&)> check_one_of(std::vector<std::string> allowed);

}  // namespace core
