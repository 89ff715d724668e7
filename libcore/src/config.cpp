// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace core {
namespace {

std::string type_name(ValueType type) {
  switch (type) {
    case ValueType::string: return "a string";
    case ValueType::integer: return "an integer";
    case ValueType::boolean: return "true or false";
    case ValueType::list: return "a list of strings";
  }
  return "a value";
}

// Parses a value given as text (environment, --set).
ConfigValue parse_text(const ConfigKey& key, const std::string& text, const std::string& origin) {
  switch (key.type) {
    case ValueType::string: return text;
    case ValueType::integer: {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || text.empty())
        fail(ErrorKind::invalid, "{}: {} must be {}, not '{}'", origin, key.name, type_name(key.type), text);
      return v;
    }
    case ValueType::boolean:
      if (text == "true" || text == "yes" || text == "1") return true;
      if (text == "false" || text == "no" || text == "0") return false;
      fail(ErrorKind::invalid, "{}: {} must be {}, not '{}'", origin, key.name, type_name(key.type), text);
    case ValueType::list: {
      std::vector<std::string> items;
      std::stringstream ss(text);
      std::string item;
      while (std::getline(ss, item, ','))
        if (!item.empty()) items.push_back(item);
      return items;
    }
  }
  return text;
}

ConfigValue from_toml(const ConfigKey& key, const toml::node& node, const std::string& origin) {
  auto bad = [&]() -> ConfigValue {
    fail(ErrorKind::invalid, "{}: {} must be {}", origin, key.name, type_name(key.type));
  };
  switch (key.type) {
    case ValueType::string:
      if (auto v = node.value<std::string>(); v && node.is_string()) return *v;
      return bad();
    case ValueType::integer:
      if (node.is_integer()) return *node.value<std::int64_t>();
      return bad();
    case ValueType::boolean:
      if (node.is_boolean()) return *node.value<bool>();
      return bad();
    case ValueType::list: {
      const auto* arr = node.as_array();
      if (!arr) return bad();
      std::vector<std::string> items;
      for (const auto& el : *arr) {
        if (!el.is_string()) return bad();
        items.push_back(*el.value<std::string>());
      }
      return items;
    }
  }
  return bad();
}

void flatten(const toml::table& table, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [k, node] : table) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table())
      flatten(*sub, name, out);
    else
      out.emplace_back(name, &node);
  }
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string env_name(std::string_view tool, std::string_view key) {
  std::string name = "OE_";
  for (char c : tool) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  name += '_';
  for (char c : key)
    name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

Config Config::load(std::string_view tool, const Schema& schema, const fs::path& file,
                    const std::vector<std::string>& cli_assignments,
                    const std::map<std::string, std::string>& env) {
  Config cfg;
  cfg.entries_.reserve(schema.size());
  for (const auto& key : schema) cfg.entries_.push_back({&key, key.default_value, "default"});
  auto find = [&](std::string_view name) -> ConfigEntry* {
    for (auto& e : cfg.entries_)
      if (e.key->name == name) return &e;
    return nullptr;
  };
  auto set = [](ConfigEntry& entry, ConfigValue value, std::string origin) {
    if (entry.key->check) {
      try {
        entry.key->check(value);
      } catch (const Error& err) {
        fail(ErrorKind::invalid, "{}: {}: {}", origin, entry.key->name, err.what());
      }
    }
    entry.value = std::move(value);
    entry.origin = std::move(origin);
  };

  // Layer 2: the file.
  std::error_code ec;
  if (fs::exists(file, ec)) {
    if (::access(file.c_str(), R_OK) != 0) fail(ErrorKind::invalid, "{}: not readable", file.string());
    toml::table table;
    try {
      table = toml::parse_file(file.string());
    } catch (const toml::parse_error& err) {
      fail(ErrorKind::invalid, "{}:{}: {}", file.string(), err.source().begin.line, err.description());
    }
    std::vector<std::pair<std::string, const toml::node*>> flat;
    flatten(table, "", flat);
    for (const auto& [name, node] : flat) {
      std::string origin = fmt::format("{}:{}", file.string(), node->source().begin.line);
      ConfigEntry* entry = find(name);
      if (!entry) fail(ErrorKind::invalid, "{}: unknown key '{}'", origin, name);
      set(*entry, from_toml(*entry->key, *node, origin), origin);
    }
  }

  // Layer 3: the environment.
  for (auto& entry : cfg.entries_) {
    std::string var = env_name(tool, entry.key->name);
    if (auto it = env.find(var); it != env.end()) {
      std::string origin = "env " + var;
      set(entry, parse_text(*entry.key, it->second, origin), origin);
    }
  }
  // Variables that look like ours but name no key are mistakes worth a word.
  std::string prefix = env_name(tool, "");
  for (const auto& [var, value] : env) {
    if (var.rfind(prefix, 0) != 0) continue;
    bool known = std::any_of(cfg.entries_.begin(), cfg.entries_.end(),
                             [&](const ConfigEntry& e) { return env_name(tool, e.key->name) == var; });
    if (!known) fail(ErrorKind::invalid, "env {}: unknown key", var);
  }

  // Layer 4: the command line.
  for (const auto& assignment : cli_assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(ErrorKind::invalid, "--set '{}': expected KEY=VALUE", assignment);
    std::string name = assignment.substr(0, eq);
    ConfigEntry* entry = find(name);
    if (!entry) fail(ErrorKind::invalid, "--set: unknown key '{}'", name);
    set(*entry, parse_text(*entry->key, assignment.substr(eq + 1), "--set"), "--set");
  }
  return cfg;
}

const ConfigEntry& Config::entry(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key->name == key) return e;
  fail(ErrorKind::internal, "configuration key '{}' is not declared", key);
}

const std::string& Config::get_string(std::string_view key) const {
  return std::get<std::string>(entry(key).value);
}
std::int64_t Config::get_int(std::string_view key) const { return std::get<std::int64_t>(entry(key).value); }
bool Config::get_bool(std::string_view key) const { return std::get<bool>(entry(key).value); }
const std::vector<std::string>& Config::get_list(std::string_view key) const {
  return std::get<std::vector<std::string>>(entry(key).value);
}

std::string Config::display(const ConfigEntry& entry) {
  if (entry.key->secret) return "***";
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>)
          return quote(v);
        else if constexpr (std::is_same_v<T, bool>)
          return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>)
          return std::to_string(v);
        else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quote(v[i]);
          return out + "]";
        }
      },
      entry.value);
}

std::function<void(const ConfigValue&)> check_range(std::int64_t min, std::int64_t max) {
  return [min, max](const ConfigValue& v) {
    auto n = std::get<std::int64_t>(v);
    if (n < min || n > max) fail(ErrorKind::invalid, "{} is out of range {}..{}", n, min, max);
  };
}

std::function<void(const ConfigValue&)> check_one_of(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const ConfigValue& v) {
    const auto& s = std::get<std::string>(v);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(ErrorKind::invalid, "'{}' is not one of {}", s, list);
    }
  };
}

}  // namespace core
