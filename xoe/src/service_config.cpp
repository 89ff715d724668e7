// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/service_config.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "admin.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "ini.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

std::vector<SettingSpec> setting_specs(const std::string& software) {
  using K = SettingSpec::Kind;
  // The values trytond (5.0 to 7.0) and odoo use when the key is not set are
  // their own defaults, shown by `config show`.
  static const std::vector<SettingSpec> all = {
      {"email_from", "tryton", "email", "from", K::email, 0, 0, "xoe's mail.from (noreply@HOSTNAME when empty)",
       "sender address of the mail the server sends"},
      {"login_max_attempts", "tryton", "session", "max_attempt", K::integer, 1, 1000, "5",
       "failed logins of one login after which the server slows its logins down"},
      {"password_min_length", "tryton", "password", "length", K::integer, 4, 24, "8",
       "shortest password a user may set (at most 24: the length of xoe's admin passwords)"},
      {"port", "tryton", "", "", K::port, 1024, 65535, "", "TCP port the server listens on (services.listen)"},
      {"session_timeout", "tryton", "session", "timeout", K::integer, 60, 86400, "300",
       "seconds without a request after which a session ends"},
      {"email_from", "odoo", "options", "email_from", K::email, 0, 0, "xoe's mail.from (noreply@HOSTNAME when empty)",
       "sender address of the mail the server sends"},
      {"port", "odoo", "", "", K::port, 1024, 65535, "", "TCP port the server listens on (services.listen)"},
      {"workers", "odoo", "options", "workers", K::integer, 0, 64, "0",
       "worker processes (0: one threaded process)"},
  };
  std::vector<SettingSpec> out;
  for (const auto& s : all)
    if (s.software == software) out.push_back(s);
  return out;
}

namespace {

std::string key_list(const std::vector<SettingSpec>& specs) {
  std::string out;
  for (const auto& s : specs) out += (out.empty() ? "" : ", ") + s.key;
  return out;
}

const SettingSpec& spec_of(const std::vector<SettingSpec>& specs, const std::string& software, const std::string& key) {
  for (const auto& s : specs)
    if (s.key == key) return s;
  fail(ErrorKind::invalid, "unknown key '{}' for {} services (keys: {})", core::escape_for_display(key),
       core::escape_for_display(software), key_list(specs));
}

// The value of a key in a config: the one set, or the recipe's (`base`), or none.
std::string settle(const std::string& config, const std::string& base, const SettingSpec& spec,
                   const std::optional<std::string>& value) {
  if (spec.kind == SettingSpec::Kind::port) return config;
  if (value) return ini::set(config, spec.section, spec.option, *value);
  if (auto b = ini::get(base, spec.section, spec.option)) return ini::set(config, spec.section, spec.option, *b);
  return ini::unset(config, spec.section, spec.option);
}

struct Wanted {
  std::map<std::string, std::string> set;  // key -> value
  std::set<std::string> unset;
};

nlohmann::json request_json(const Wanted& w) {
  return {{"set", w.set}, {"unset", std::vector<std::string>(w.unset.begin(), w.unset.end())}};
}

}  // namespace

SettingValue check_setting(const std::string& software, const std::string& key, const std::string& value) {
  auto specs = setting_specs(software);
  const SettingSpec& spec = spec_of(specs, software, key);
  switch (spec.kind) {
    case SettingSpec::Kind::port: {
      auto port = core::parse_port(value, key);
      if (port < spec.min) fail(ErrorKind::invalid, "{} '{}': below {}", key, port, spec.min);
      return {key, std::to_string(port)};
    }
    case SettingSpec::Kind::email:
      core::validate_email(value, key);
      return {key, value};
    case SettingSpec::Kind::integer: {
      bool digits = !value.empty() && value.size() <= 9 &&
                    std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      std::int64_t n = digits ? std::stoll(value) : -1;
      if (!digits || n < spec.min || n > spec.max)
        fail(ErrorKind::invalid, "{} '{}': a whole number from {} to {}", key, core::escape_for_display(value),
             spec.min, spec.max);
      return {key, std::to_string(n)};
    }
  }
  fail(ErrorKind::internal, "key {} has no kind", key);
}

std::string apply_settings(const std::string& config, const std::string& software,
                           const std::vector<SettingValue>& values) {
  auto specs = setting_specs(software);
  std::string out = config;
  for (const auto& v : values) {
    auto it = std::find_if(specs.begin(), specs.end(), [&](const SettingSpec& s) { return s.key == v.key; });
    if (it == specs.end() || it->kind == SettingSpec::Kind::port) continue;
    out = ini::set(out, it->section, it->option, v.value);
  }
  return out;
}

ServiceConfig show_service_config(const Settings& s, const std::string& name) {
  auto row = need_service(s, name);
  ServiceConfig out{name, row.software, {}, {}, false};
  std::map<std::string, StoredSetting> stored;
  if (auto db = registry::open_existing(s))
    for (auto& st : stored_settings(*db, name)) stored[st.key] = st;
  for (const auto& spec : setting_specs(row.software)) {
    ServiceSetting e{spec.key, spec.fallback, "default", "", spec.help};
    auto it = stored.find(spec.key);
    if (spec.kind == SettingSpec::Kind::port) {
      e.value = std::to_string(row.port);
      e.origin = "assigned";
    }
    if (it != stored.end()) {
      if (spec.kind != SettingSpec::Kind::port) e.value = it->second.value;
      e.origin = "set";
      e.updated = it->second.updated;
    }
    out.settings.push_back(e);
  }
  return out;
}

ServiceConfig change_service_config(const Settings& s, const ConfigChange& change) {
  core::validate_label(change.service, "service name");
  auto row = need_service(s, change.service);
  auto specs = setting_specs(row.software);
  if (change.assignments.empty() && change.unset.empty())
    fail(ErrorKind::invalid, "give KEY=VALUE (keys of {} services: {})", row.software, key_list(specs));
  Wanted want;
  for (const auto& a : change.assignments) {
    auto kv = core::parse_assignment(a, "KEY=VALUE");
    auto v = check_setting(row.software, kv.key, kv.value);
    if (!want.set.emplace(v.key, v.value).second) fail(ErrorKind::invalid, "{} is given twice", v.key);
  }
  for (const auto& k : change.unset) {
    const SettingSpec& spec = spec_of(specs, row.software, k);
    if (spec.kind == SettingSpec::Kind::port) fail(ErrorKind::invalid, "port cannot be unset: set another one");
    if (want.set.contains(k) || !want.unset.insert(k).second) fail(ErrorKind::invalid, "{} is given twice", k);
  }

  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + change.service);
  row = need_service(s, change.service);
  if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", change.service, row.state);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  nlohmann::json request = request_json(want);
  auto memo = unfinished_memo(s, jobs, "service.config", change.service, request);
  Service svc = load_service(s, change.service);
  if (!memo) {
    std::map<std::string, std::string> old;
    for (const auto& st : stored_settings(db, change.service)) old[st.key] = st.value;
    bool changes = false;
    for (const auto& [k, v] : want.set) {
      if (k == "port") {
        changes = changes || v != std::to_string(row.port);
      } else {
        changes = changes || old.find(k) == old.end() || old[k] != v;
      }
    }
    for (const auto& k : want.unset) changes = changes || old.contains(k);
    if (!changes) return show_service_config(s, change.service);
    if (auto p = want.set.find("port"); p != want.set.end() && p->second != std::to_string(row.port)) {
      auto port = static_cast<std::uint16_t>(std::stoi(p->second));
      auto q = db.query("SELECT name FROM services WHERE port = ?1 AND name != ?2", std::int64_t{port}, change.service);
      if (q.step()) fail(ErrorKind::conflict, "port {} is given to another service ({})", port, q.column_text(0));
      if (!host::port_free(s.listen, port)) fail(ErrorKind::conflict, "port {} is in use", port);
    }
    memo = nlohmann::json{{"kind", "service.config"},
                          {"request", request},
                          {"was_running", is_running(s, svc)},
                          {"old", {{"port", row.port}, {"settings", old}}}};
    write_memo(s, change.service, *memo);
  }
  bool was_running = (*memo)["was_running"].get<bool>();
  auto old_port = (*memo)["old"]["port"].get<std::int64_t>();
  auto old_settings = (*memo)["old"]["settings"].get<std::map<std::string, std::string>>();
  std::vector<std::string> changed;
  for (const auto& [k, v] : want.set)
    if (k == "port" ? v != std::to_string(old_port) : (!old_settings.contains(k) || old_settings[k] != v))
      changed.push_back(k);
  for (const auto& k : want.unset)
    if (old_settings.contains(k)) changed.push_back(k);

  // Writes the registry and the files for the settings `values` (absent: the server's default) and `port`.
  const std::string name = change.service;
  auto put = [&s, name, changed, specs](std::int64_t from_port, std::int64_t port,
                                        std::map<std::string, std::string> values) {
    Service cur = load_service(s, name);
    registry::ServiceRow from = cur.row, to = cur.row;
    from.port = from_port;
    to.port = port;
    {
      auto d = registry::open(s);
      core::sqlite::Transaction tx(d);
      d.execute("UPDATE services SET port = ?1 WHERE name = ?2", port, name);
      for (const auto& k : changed) {
        d.execute("DELETE FROM service_settings WHERE service = ?1 AND key = ?2", name, k);
        if (values.contains(k))
          d.execute("INSERT INTO service_settings (service, key, value, updated) VALUES (?1, ?2, ?3, ?4)", name, k,
                    values[k], host::now_iso());
      }
      tx.commit();
    }
    rebase_files(s, cur, from, to);
    std::string config = host::read_file(cur.l.config);
    std::string base = render(cur.recipe.config, service_vars(s, cur, to));
    for (const auto& spec : specs) {
      if (std::find(changed.begin(), changed.end(), spec.key) == changed.end()) continue;
      auto it = values.find(spec.key);
      config = settle(config, base, spec, it == values.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    host::write_file(cur.l.config, config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    if (auto account = host::find_user(cur.row.user)) host::chown_path(cur.l.config, 0, account->gid);
  };
  std::map<std::string, std::string> new_settings = old_settings;
  for (const auto& [k, v] : want.set) new_settings[k] = v;
  for (const auto& k : want.unset) new_settings.erase(k);
  std::int64_t new_port = want.set.contains("port") ? std::stoll(want.set.at("port")) : old_port;

  core::Job job{"service.config", "service:" + name, {}};
  job.steps.push_back({"stop", [&s, name, was_running] {
    if (was_running) supervisor::down(s, name);
  }, [&s, name, was_running] {
    if (was_running) start_and_probe(s, load_service(s, name));
  }});
  job.steps.push_back({"apply", [put, old_port, new_port, new_settings] { put(old_port, new_port, new_settings); },
                       [put, old_port, new_port, old_settings] { put(new_port, old_port, old_settings); }});
  job.steps.push_back({"start", [&s, name, was_running] {
    if (was_running) start_and_probe(s, load_service(s, name));
  }, [&s, name, was_running] {
    if (was_running) supervisor::down(s, name);
  }});
  try {
    jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  } catch (...) {
    auto j = jobs.find("service.config", "service:" + name);
    if (!j || !j->unfinished()) remove_memo(s, name);
    throw;
  }
  remove_memo(s, name);
  ServiceConfig out = show_service_config(s, name);
  out.changed = changed;
  out.restarted = was_running;
  core::logger("xoe")->info("service {}: changed {}{}", name, join(changed, ','), was_running ? ", restarted" : "");
  return out;
}

}  // namespace xoe
