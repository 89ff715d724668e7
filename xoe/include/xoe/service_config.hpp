// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Per-service settings (`xoe service config set|unset|show`): a small,
// validated set of keys per software that xoe writes into the server's
// config file and keeps in the registry (table service_settings), so that
// they survive every re-rendering of the config (a restore or copy into the
// service). `port` moves the service (registry, config, supervisor) to
// another free port. docs/xoe.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

// One key an administrator may set.
struct SettingSpec {
  std::string key;        // "session_timeout"
  std::string software;   // "tryton" or "odoo"
  std::string section;    // where in the server's config ("session"; empty for port)
  std::string option;     // the option there ("timeout")
  enum class Kind { port, email, integer } kind = Kind::integer;
  std::int64_t min = 0;   // integer: the range
  std::int64_t max = 0;
  std::string fallback;   // what the server uses when the key is not set
  std::string help;
};

// The keys of `software`, sorted by name; empty for an unknown software.
std::vector<SettingSpec> setting_specs(const std::string& software);

// A key and its value as given on the command line, checked. Throws invalid:
// "unknown key 'x' for tryton services (keys: email_from, ...)", "email_from
// 'x': ...", "session_timeout '5': a whole number from 60 to 86400".
// Pure: the port is checked for form only here (free and not taken: at apply).
struct SettingValue {
  std::string key;
  std::string value;  // normalised ("0300" -> "300")
};
SettingValue check_setting(const std::string& software, const std::string& key, const std::string& value);

// The config text with the service's settings written into it (port excluded:
// it is rendered from the registry like any placeholder). Pure.
std::string apply_settings(const std::string& config, const std::string& software,
                           const std::vector<SettingValue>& values);

struct ServiceSetting {
  std::string key;
  std::string value;   // the value set, or the server's fallback
  std::string origin;  // "set" (at `updated`), "default" (the server's), "assigned" (port given at creation)
  std::string updated;
  std::string help;
  friend bool operator==(const ServiceSetting&, const ServiceSetting&) = default;
};

struct ServiceConfig {
  std::string service;
  std::string software;
  std::vector<ServiceSetting> settings;  // every key of the software, sorted
  std::vector<std::string> changed;      // set/unset: the keys whose value changed
  bool restarted = false;                // set/unset: the running service was restarted
  friend bool operator==(const ServiceConfig&, const ServiceConfig&) = default;
};

// Every key of the service's software with its value and origin. Reads only.
ServiceConfig show_service_config(const Settings& settings, const std::string& name);

struct ConfigChange {
  std::string service;
  std::vector<std::string> assignments;  // KEY=VALUE (set)
  std::vector<std::string> unset;        // KEY (back to the server's default; not port)
  friend bool operator==(const ConfigChange&, const ConfigChange&) = default;
};

// Checks every assignment first (invalid: unknown key, bad value, a key given
// twice; conflict: the port is given to another service or in use, the
// service is not ready) and changes nothing when one is refused. Then, as a
// journaled job "service.config" (stop, apply, start, finish): the registry,
// the config file (only the keys concerned; a neutralised copy stays
// neutralised) and the supervisor's run file when the port is in it; a
// service that was running is restarted and must answer its probe (on the
// new port), else everything is put back and it is started as before. A
// killed run is finished by the next one with the same request (another: conflict).
ServiceConfig change_service_config(const Settings& settings, const ConfigChange& change);

}  // namespace xoe
