// SPDX-License-Identifier: GPL-3.0-or-later
// xoe's JSON contract: the one place that spells its keys (wire.hpp).
#include "xoe/wire.hpp"

#include <fmt/format.h>

namespace xoe {

using nlohmann::json;

namespace {

// Optional values are null on the wire; a missing key reads as null too.
template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

template <typename T>
void get(const json& j, const char* key, T& v) {
  j.at(key).get_to(v);
}

template <typename T>
void get(const json& j, const char* key, std::optional<T>& v) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    v.reset();
  } else {
    v = it->get<T>();
  }
}

json time_json(const std::optional<std::chrono::sys_seconds>& t) { return t ? json(iso_utc(*t)) : json(nullptr); }

std::chrono::sys_seconds time_of(const json& j) {
  auto t = parse_sql_timestamp(j.get<std::string>());
  if (!t) throw json::type_error::create(302, "not a UTC time: " + j.get<std::string>(), &j);
  return *t;
}

void get_time(const json& j, const char* key, std::chrono::sys_seconds& t) { t = time_of(j.at(key)); }

void get_time(const json& j, const char* key, std::optional<std::chrono::sys_seconds>& t) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    t.reset();
  } else {
    t = time_of(*it);
  }
}

std::vector<std::string> strings(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

}  // namespace

ServiceSummary summary(const ServiceInfo& s) { return {s.name, s.software, s.version, s.role, s.state, s.url}; }

LogLines parsed(const ServiceLog& log) {
  LogLines out{log.service, log.file, {}};
  for (const auto& l : log.lines) out.lines.push_back(parse_log_line(l));
  return out;
}

std::vector<BackupListEntry> backup_listing(const std::vector<ServiceBackups>& all) {
  std::vector<BackupListEntry> out;
  for (const auto& b : all)
    for (const auto& e : b.backups)
      out.push_back({e.archive, e.time, std::filesystem::file_size(e.archive), b.service, b.service_exists});
  return out;
}

// --- services

void to_json(json& j, const ServiceInfo& s) {
  j = {{"name", s.name},
       {"software", s.software},
       {"version", s.version},
       {"role", s.role},
       {"state", s.state},
       {"url", s.url},
       {"database", s.database},
       {"port", s.port},
       {"backend", s.backend},
       {"user", s.user},
       {"admin_login", s.admin_login},
       {"modules", s.modules},
       {"pid", opt(s.pid)},
       {"seconds", s.seconds},
       {"supervisor", s.supervisor.empty() ? json(nullptr) : json(s.supervisor)}};
}
void from_json(const json& j, ServiceInfo& s) {
  get(j, "name", s.name);
  get(j, "software", s.software);
  get(j, "version", s.version);
  get(j, "role", s.role);
  get(j, "state", s.state);
  get(j, "url", s.url);
  get(j, "database", s.database);
  get(j, "port", s.port);
  get(j, "backend", s.backend);
  get(j, "user", s.user);
  get(j, "admin_login", s.admin_login);
  get(j, "modules", s.modules);
  get(j, "pid", s.pid);
  get(j, "seconds", s.seconds);
  std::optional<std::string> supervisor;
  get(j, "supervisor", supervisor);
  s.supervisor = supervisor.value_or("");
}

void to_json(json& j, const ServiceSummary& s) {
  j = {{"name", s.name}, {"software", s.software}, {"version", s.version},
       {"role", s.role}, {"state", s.state},       {"url", s.url}};
}
void from_json(const json& j, ServiceSummary& s) {
  get(j, "name", s.name);
  get(j, "software", s.software);
  get(j, "version", s.version);
  get(j, "role", s.role);
  get(j, "state", s.state);
  get(j, "url", s.url);
}

void to_json(json& j, const CreatePlan& p) {
  j = p.service;
  j["template"] = p.template_name;
  j["template_exists"] = p.template_exists;
  j["resume"] = p.resume;
}
void from_json(const json& j, CreatePlan& p) {
  p.service = j.get<ServiceInfo>();
  get(j, "template", p.template_name);
  get(j, "template_exists", p.template_exists);
  get(j, "resume", p.resume);
}

void to_json(json& j, const Created& c) {
  j = c.service;
  j["admin_password"] = c.admin_password;
  j["resumed"] = c.resumed;
}
void from_json(const json& j, Created& c) {
  c.service = j.get<ServiceInfo>();
  get(j, "admin_password", c.admin_password);
  get(j, "resumed", c.resumed);
}

void to_json(json& j, const SupervisorMove& m) {
  j = {{"name", m.name}, {"from", m.from}, {"to", m.to}, {"running", m.running}};
}
void from_json(const json& j, SupervisorMove& m) {
  get(j, "name", m.name);
  get(j, "from", m.from);
  get(j, "to", m.to);
  get(j, "running", m.running);
}

void to_json(json& j, const Removed& r) {
  j = {{"name", r.name}, {"rolled_back", r.rolled_back}, {"backups_kept", r.backups_kept}};
}
void from_json(const json& j, Removed& r) {
  get(j, "name", r.name);
  get(j, "rolled_back", r.rolled_back);
  get(j, "backups_kept", r.backups_kept);
}

void to_json(json& j, const Retired& r) {
  j = {{"name", r.name},     {"rolled_back", false}, {"archive", r.archive.string()},
       {"sha256", r.sha256}, {"bytes", r.bytes},     {"backups_kept", r.backups_kept}};
}
void from_json(const json& j, Retired& r) {
  get(j, "name", r.name);
  get(j, "archive", r.archive);
  get(j, "sha256", r.sha256);
  get(j, "bytes", r.bytes);
  get(j, "backups_kept", r.backups_kept);
}

// --- software, self

void to_json(json& j, const SoftwareInfo& i) {
  j = {{"software", i.software}, {"version", i.version},    {"source", i.source},        {"fetched", i.fetched},
       {"path", i.path.string()}, {"detail", i.detail},     {"fetched_at", i.fetched_at}};
}
void from_json(const json& j, SoftwareInfo& i) {
  get(j, "software", i.software);
  get(j, "version", i.version);
  get(j, "source", i.source);
  get(j, "fetched", i.fetched);
  get(j, "path", i.path);
  get(j, "detail", i.detail);
  get(j, "fetched_at", i.fetched_at);
}

void to_json(json& j, const FetchResult& r) {
  j = r.info;
  j["already"] = r.already;
  j["refreshed"] = r.refreshed;
}
void from_json(const json& j, FetchResult& r) {
  r.info = j.get<SoftwareInfo>();
  get(j, "already", r.already);
  get(j, "refreshed", r.refreshed);
}

void to_json(json& j, const SoftwareRemoved& r) { j = {{"software", r.software}, {"version", r.version}}; }
void from_json(const json& j, SoftwareRemoved& r) {
  get(j, "software", r.software);
  get(j, "version", r.version);
}

void to_json(json& j, const DepsResult& r) {
  j = {{"present", r.present}, {"missing", r.missing}, {"installed", r.installed}};
}
void from_json(const json& j, DepsResult& r) {
  get(j, "present", r.present);
  get(j, "missing", r.missing);
  get(j, "installed", r.installed);
}

void to_json(json& j, const SelfInstallResult& r) {
  j = {{"present", r.present},
       {"missing", r.missing},
       {"installed", r.installed},
       {"cron", r.cron ? json(r.cron->string()) : json(nullptr)}};
}
void from_json(const json& j, SelfInstallResult& r) {
  get(j, "present", r.present);
  get(j, "missing", r.missing);
  get(j, "installed", r.installed);
  get(j, "cron", r.cron);
}

void to_json(json& j, const SelfUpdate& u) {
  j = {{"package", suite_package}, {"from", u.from_version}, {"to", u.to_version}};
}
void from_json(const json& j, SelfUpdate& u) {
  get(j, "from", u.from_version);
  get(j, "to", u.to_version);
}

// --- backups

void to_json(json& j, const BackupMeta& m) {
  j = {{"format", m.format},     {"service", m.service},   {"software", m.software}, {"version", m.version},
       {"role", m.role},         {"backend", m.backend},   {"database", m.database}, {"modules", m.modules},
       {"created", m.created},   {"settings", m.settings}, {"series", opt(m.series)}};
}
void from_json(const json& j, BackupMeta& m) {
  get(j, "format", m.format);
  get(j, "service", m.service);
  get(j, "software", m.software);
  get(j, "version", m.version);
  get(j, "role", m.role);
  get(j, "backend", m.backend);
  get(j, "database", m.database);
  get(j, "modules", m.modules);
  get(j, "created", m.created);
  get(j, "settings", m.settings);
  get(j, "series", m.series);
}

void to_json(json& j, const BackupResult& r) {
  j = {{"archive", r.archive.string()}, {"sha256", r.sha256},           {"bytes", r.bytes},
       {"metadata", r.meta},            {"pruned", strings(r.pruned)},  {"resumed", r.resumed}};
}
void from_json(const json& j, BackupResult& r) {
  get(j, "archive", r.archive);
  get(j, "sha256", r.sha256);
  get(j, "bytes", r.bytes);
  get(j, "metadata", r.meta);
  get(j, "pruned", r.pruned);
  get(j, "resumed", r.resumed);
}

void to_json(json& j, const BackupListEntry& e) {
  j = {{"archive", e.archive.string()}, {"time", iso_utc(e.time)},            {"bytes", e.bytes},
       {"service", e.service},          {"service_exists", e.service_exists}};
}
void from_json(const json& j, BackupListEntry& e) {
  get(j, "archive", e.archive);
  get_time(j, "time", e.time);
  get(j, "bytes", e.bytes);
  get(j, "service", e.service);
  get(j, "service_exists", e.service_exists);
}

void to_json(json& j, const PruneResult& r) {
  j = {{"service", r.service},
       {"service_exists", r.service_exists},
       {"pruned", strings(r.pruned)},
       {"kept", strings(r.kept)}};
}
void from_json(const json& j, PruneResult& r) {
  get(j, "service", r.service);
  get(j, "service_exists", r.service_exists);
  get(j, "pruned", r.pruned);
  get(j, "kept", r.kept);
}

void to_json(json& j, const RestoreResult& r) {
  j = {{"service", r.service},         {"role", r.role},
       {"url", r.url},                 {"port", r.port},
       {"database", r.database},       {"created", r.created},
       {"neutralised", r.neutralised}, {"code_restored", r.code_restored},
       {"seconds", r.seconds},         {"resumed", r.resumed},
       {"metadata", r.meta}};
  // Only a created service has one, shown once.
  if (r.admin_password) j["admin_password"] = *r.admin_password;
}
void from_json(const json& j, RestoreResult& r) {
  get(j, "service", r.service);
  get(j, "role", r.role);
  get(j, "url", r.url);
  get(j, "port", r.port);
  get(j, "database", r.database);
  get(j, "created", r.created);
  get(j, "neutralised", r.neutralised);
  get(j, "code_restored", r.code_restored);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
  get(j, "metadata", r.meta);
  get(j, "admin_password", r.admin_password);
}

void to_json(json& j, const VerifyResult& v) {
  j = {{"archive", v.archive.string()},
       {"sha256", v.sha256},
       {"ok", v.ok},
       {"scratch", v.scratch},
       {"restore_seconds", v.restore_seconds},
       {"login_ms", v.login_ms},
       {"seconds", v.seconds},
       {"verified", v.verified},
       {"error", v.error},
       {"metadata", v.meta}};
}
void from_json(const json& j, VerifyResult& v) {
  get(j, "archive", v.archive);
  get(j, "sha256", v.sha256);
  get(j, "ok", v.ok);
  get(j, "scratch", v.scratch);
  get(j, "restore_seconds", v.restore_seconds);
  get(j, "login_ms", v.login_ms);
  get(j, "seconds", v.seconds);
  get(j, "verified", v.verified);
  get(j, "error", v.error);
  get(j, "metadata", v.meta);
}

// --- databases, copies

void to_json(json& j, const DatabaseInfo& d) {
  j = {{"service", d.service}, {"database", d.database}, {"backend", d.backend}, {"role", d.role},
       {"bytes", d.bytes}};
}
void from_json(const json& j, DatabaseInfo& d) {
  get(j, "service", d.service);
  get(j, "database", d.database);
  get(j, "backend", d.backend);
  get(j, "role", d.role);
  get(j, "bytes", d.bytes);
}

void to_json(json& j, const CopyResult& r) {
  j = {{"source", r.source},
       {"target", r.target},
       {"neutralised", r.neutralised},
       {"source_drained", r.source_drained},
       {"source_stopped", r.source_stopped},
       {"seconds", r.seconds},
       {"resumed", r.resumed}};
}
void from_json(const json& j, CopyResult& r) {
  get(j, "source", r.source);
  get(j, "target", r.target);
  get(j, "neutralised", r.neutralised);
  get(j, "source_drained", r.source_drained);
  get(j, "source_stopped", r.source_stopped);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
}

void to_json(json& j, const RefreshResult& r) {
  // backup_created, neutralised and seconds repeat the restore's, as contract 1 gave them.
  j = {{"service", r.service},
       {"production", r.production},
       {"archive", r.archive.string()},
       {"backup_created", r.restore.meta.created},
       {"neutralised", r.restore.neutralised},
       {"seconds", r.restore.seconds},
       {"restore", r.restore}};
}
void from_json(const json& j, RefreshResult& r) {
  get(j, "service", r.service);
  get(j, "production", r.production);
  get(j, "archive", r.archive);
  get(j, "restore", r.restore);
}

void to_json(json& j, const DropResult& r) {
  j = {{"service", r.service},
       {"database", r.database},
       {"backend", r.backend},
       {"archive", r.archive ? json(r.archive->string()) : json(nullptr)},
       {"seconds", r.seconds},
       {"resumed", r.resumed}};
}
void from_json(const json& j, DropResult& r) {
  get(j, "service", r.service);
  get(j, "database", r.database);
  get(j, "backend", r.backend);
  get(j, "archive", r.archive);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
}

void to_json(json& j, const DatabaseCreated& r) {
  j = {{"service", r.service},        {"database", r.database}, {"backend", r.backend},
       {"template", r.template_name}, {"seconds", r.seconds},   {"resumed", r.resumed}};
}
void from_json(const json& j, DatabaseCreated& r) {
  get(j, "service", r.service);
  get(j, "database", r.database);
  get(j, "backend", r.backend);
  get(j, "template", r.template_name);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
}

void to_json(json& j, const RenameResult& r) {
  j = {{"service", r.service},     {"old_database", r.old_database}, {"database", r.database},
       {"backend", r.backend},     {"restarted", r.restarted},       {"seconds", r.seconds},
       {"resumed", r.resumed}};
}
void from_json(const json& j, RenameResult& r) {
  get(j, "service", r.service);
  get(j, "old_database", r.old_database);
  get(j, "database", r.database);
  get(j, "backend", r.backend);
  get(j, "restarted", r.restarted);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
}

// --- students

void to_json(json& j, const StudentDatabase& d) {
  j = {{"group", d.group},     {"login", d.login},   {"kind", d.kind},       {"service", d.service},
       {"database", d.database}, {"url", d.url},     {"state", d.state},     {"created", d.created},
       {"source", d.source}};
  // Only the run that made it knows it (list has none).
  if (!d.password.empty()) j["password"] = d.password;
}
void from_json(const json& j, StudentDatabase& d) {
  get(j, "group", d.group);
  get(j, "login", d.login);
  get(j, "kind", d.kind);
  get(j, "service", d.service);
  get(j, "database", d.database);
  get(j, "url", d.url);
  get(j, "state", d.state);
  get(j, "created", d.created);
  get(j, "source", d.source);
  d.password = j.value("password", std::string());
}

void to_json(json& j, const StudentsResult& r) {
  j = {{"service", r.service}, {"group", r.group},  {"test", opt(r.test)},
       {"seconds", r.seconds}, {"resumed", r.resumed}, {"credentials", strings(r.credentials)},
       {"students", r.databases}};
}
void from_json(const json& j, StudentsResult& r) {
  get(j, "service", r.service);
  get(j, "group", r.group);
  get(j, "test", r.test);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
  get(j, "credentials", r.credentials);
  get(j, "students", r.databases);
}

void to_json(json& j, const StudentsRemoved& r) {
  j = {{"group", r.group}, {"databases", r.databases}, {"rolled_back", r.rolled_back}};
}
void from_json(const json& j, StudentsRemoved& r) {
  get(j, "group", r.group);
  get(j, "databases", r.databases);
  get(j, "rolled_back", r.rolled_back);
}

// --- monitor, nightly, profile

void to_json(json& j, const ServiceHealth& h) {
  j = {{"name", h.name},
       {"software", h.software},
       {"version", h.version},
       {"role", h.role},
       {"state", h.state},
       {"up", h.up},
       {"http_ms", opt(h.http_ms)},
       {"memory_bytes", opt(h.memory_bytes)},
       {"db_bytes", opt(h.db_bytes)},
       {"last_backup", time_json(h.last_backup)},
       {"backup_age_seconds", opt(h.backup_age_seconds)},
       {"users", opt(h.users)},
       {"last_login", time_json(h.last_login)}};
}
void from_json(const json& j, ServiceHealth& h) {
  get(j, "name", h.name);
  get(j, "software", h.software);
  get(j, "version", h.version);
  get(j, "role", h.role);
  get(j, "state", h.state);
  get(j, "up", h.up);
  get(j, "http_ms", h.http_ms);
  get(j, "memory_bytes", h.memory_bytes);
  get(j, "db_bytes", h.db_bytes);
  get_time(j, "last_backup", h.last_backup);
  get(j, "backup_age_seconds", h.backup_age_seconds);
  get(j, "users", h.users);
  get_time(j, "last_login", h.last_login);
}

void to_json(json& j, const MonitorResult& r) { j = {{"time", iso_utc(r.time)}, {"services", r.services}}; }
void from_json(const json& j, MonitorResult& r) {
  get_time(j, "time", r.time);
  get(j, "services", r.services);
}

void to_json(json& j, const NightlyStep& s) {
  j = {{"service", s.service},
       {"action", s.action},
       {"from", opt(s.from)},
       {"archive", s.archive ? json(s.archive->string()) : json(nullptr)},
       {"ok", s.ok},
       {"error", s.ok ? json(nullptr) : json(s.error)},
       {"seconds", s.seconds}};
}
void from_json(const json& j, NightlyStep& s) {
  get(j, "service", s.service);
  get(j, "action", s.action);
  get(j, "from", s.from);
  get(j, "archive", s.archive);
  get(j, "ok", s.ok);
  std::optional<std::string> error;
  get(j, "error", error);
  s.error = error.value_or("");
  get(j, "seconds", s.seconds);
}

void to_json(json& j, const NightlyResult& r) {
  j = {{"steps", r.steps}, {"skipped", r.skipped}, {"ok", r.ok()}, {"seconds", r.seconds}};
}
void from_json(const json& j, NightlyResult& r) {
  get(j, "steps", r.steps);
  get(j, "skipped", r.skipped);
  get(j, "seconds", r.seconds);
}

void to_json(json& j, const ProfileService& p) {
  j = p.service;
  j["existed"] = p.existed;
  if (p.admin_password) j["admin_password"] = *p.admin_password;
}
void from_json(const json& j, ProfileService& p) {
  p.service = j.get<ServiceInfo>();
  get(j, "existed", p.existed);
  get(j, "admin_password", p.admin_password);
}

void to_json(json& j, const ProfileResult& r) {
  j = {{"profile", r.profile}, {"name", r.name}, {"services", r.services}};
}
void from_json(const json& j, ProfileResult& r) {
  get(j, "profile", r.profile);
  get(j, "name", r.name);
  get(j, "services", r.services);
}

// --- update, logs, config, supervisor

void to_json(json& j, const PatchVerdict& p) {
  json conflicts = json::array();
  for (const auto& [file, lines] : p.conflicts) conflicts.push_back({{"file", file}, {"lines", lines}});
  j = {{"name", p.name}, {"status", p.status}, {"files", p.files}, {"conflicts", conflicts}};
}
void from_json(const json& j, PatchVerdict& p) {
  get(j, "name", p.name);
  get(j, "status", p.status);
  get(j, "files", p.files);
  p.conflicts.clear();
  for (const auto& c : j.at("conflicts")) p.conflicts.emplace_back(c.at("file").get<std::string>(), c.at("lines").get<std::string>());
}

void to_json(json& j, const UpgradeCheck& c) {
  j = {{"service", c.service}, {"from", c.from},  {"to", c.to},         {"base", c.base},
       {"onto", c.onto},       {"blocked", c.blocked()}, {"patches", c.patches}};
}
void from_json(const json& j, UpgradeCheck& c) {
  get(j, "service", c.service);
  get(j, "from", c.from);
  get(j, "to", c.to);
  get(j, "base", c.base);
  get(j, "onto", c.onto);
  get(j, "patches", c.patches);
}

void to_json(json& j, const UpdateResult& r) {
  j = {{"service", r.service},   {"software", r.software}, {"from", r.from_version},
       {"to", r.to_version},     {"backup", r.backup.string()}, {"patches", r.patches},
       {"dropped", r.dropped},   {"seconds", r.seconds},   {"resumed", r.resumed}};
}
void from_json(const json& j, UpdateResult& r) {
  get(j, "service", r.service);
  get(j, "software", r.software);
  get(j, "from", r.from_version);
  get(j, "to", r.to_version);
  get(j, "backup", r.backup);
  get(j, "patches", r.patches);
  get(j, "dropped", r.dropped);
  get(j, "seconds", r.seconds);
  get(j, "resumed", r.resumed);
}

void to_json(json& j, const LogLine& l) { j = {{"time", opt(l.time)}, {"text", l.text}}; }
void from_json(const json& j, LogLine& l) {
  get(j, "time", l.time);
  get(j, "text", l.text);
}

void to_json(json& j, const LogLines& l) {
  j = {{"service", l.service}, {"file", l.file.string()}, {"lines", l.lines}};
}
void from_json(const json& j, LogLines& l) {
  get(j, "service", l.service);
  get(j, "file", l.file);
  get(j, "lines", l.lines);
}

void to_json(json& j, const ServiceSetting& e) {
  j = {{"key", e.key}, {"value", e.value}, {"origin", e.origin}, {"updated", e.updated}, {"help", e.help}};
}
void from_json(const json& j, ServiceSetting& e) {
  get(j, "key", e.key);
  get(j, "value", e.value);
  get(j, "origin", e.origin);
  get(j, "updated", e.updated);
  get(j, "help", e.help);
}

void to_json(json& j, const ServiceConfig& c) {
  j = {{"service", c.service},
       {"software", c.software},
       {"settings", c.settings},
       {"changed", c.changed},
       {"restarted", c.restarted}};
}
void from_json(const json& j, ServiceConfig& c) {
  get(j, "service", c.service);
  get(j, "software", c.software);
  get(j, "settings", c.settings);
  get(j, "changed", c.changed);
  get(j, "restarted", c.restarted);
}

void to_json(json& j, const SupervisorStatus& st) {
  j = {{"kind", kind_name(st.kind)},
       {"running", st.running},
       {"pid", opt(st.pid)},
       {"scan_dir", st.scan_dir.string()},
       {"boot", st.boot ? json(st.boot->string()) : json(nullptr)},
       {"entries", {{"runit", st.runit}, {"systemd", st.systemd}}}};
}
void from_json(const json& j, SupervisorStatus& st) {
  std::string kind;
  get(j, "kind", kind);
  if (kind != kind_name(SupervisorKind::runit) && kind != kind_name(SupervisorKind::systemd))
    throw json::type_error::create(302, "unknown supervisor kind: " + kind, &j);
  st.kind = kind == kind_name(SupervisorKind::systemd) ? SupervisorKind::systemd : SupervisorKind::runit;
  get(j, "running", st.running);
  get(j, "pid", st.pid);
  get(j, "scan_dir", st.scan_dir);
  get(j, "boot", st.boot);
  get(j.at("entries"), "runit", st.runit);
  get(j.at("entries"), "systemd", st.systemd);
}

void to_json(json& j, const MigrateResult& m) { j = {{"moved", m.moved}, {"supervisor", m.supervisor}}; }
void from_json(const json& j, MigrateResult& m) {
  get(j, "moved", m.moved);
  get(j, "supervisor", m.supervisor);
}

namespace wire {

namespace {

constexpr const char* version_key = "version";
constexpr const char* error_key = "error";

// The key under which each answer type carries its result; nullptr: the
// result's fields are the answer's own (monitor: "time" and "services").
template <typename T>
struct Key;
#define XOE_ANSWER_KEY(T, K) \
  template <>                \
  struct Key<T> {            \
    static constexpr const char* name = K; \
  };
XOE_ANSWER_KEY(ServiceInfo, "service")
XOE_ANSWER_KEY(std::vector<ServiceSummary>, "services")
XOE_ANSWER_KEY(CreatePlan, "plan")
XOE_ANSWER_KEY(Created, "service")
XOE_ANSWER_KEY(Removed, "removed")
XOE_ANSWER_KEY(Retired, "removed")
XOE_ANSWER_KEY(std::vector<SoftwareInfo>, "software")
XOE_ANSWER_KEY(FetchResult, "software")
XOE_ANSWER_KEY(SoftwareRemoved, "removed")
XOE_ANSWER_KEY(DepsResult, "deps")
XOE_ANSWER_KEY(SelfInstallResult, "self")
XOE_ANSWER_KEY(SelfUpdate, "update")
XOE_ANSWER_KEY(BackupResult, "backup")
XOE_ANSWER_KEY(std::vector<BackupListEntry>, "backups")
XOE_ANSWER_KEY(PruneResult, "prune")
XOE_ANSWER_KEY(VerifyResult, "verify")
XOE_ANSWER_KEY(RestoreResult, "restore")
XOE_ANSWER_KEY(std::vector<DatabaseInfo>, "databases")
XOE_ANSWER_KEY(CopyResult, "copy")
XOE_ANSWER_KEY(DropResult, "drop")
XOE_ANSWER_KEY(DatabaseCreated, "create")
XOE_ANSWER_KEY(RenameResult, "rename")
XOE_ANSWER_KEY(RefreshResult, "refresh")
XOE_ANSWER_KEY(StudentsResult, "students")
XOE_ANSWER_KEY(StudentsRemoved, "removed")
XOE_ANSWER_KEY(std::vector<StudentDatabase>, "students")
XOE_ANSWER_KEY(MonitorResult, nullptr)
XOE_ANSWER_KEY(NightlyResult, "nightly")
XOE_ANSWER_KEY(ProfileResult, "profile")
XOE_ANSWER_KEY(UpdateResult, "update")
XOE_ANSWER_KEY(UpgradeCheck, "check")
XOE_ANSWER_KEY(LogLines, "logs")
XOE_ANSWER_KEY(ServiceConfig, "config")
XOE_ANSWER_KEY(SupervisorStatus, "supervisor")
XOE_ANSWER_KEY(MigrateResult, "migrate")
#undef XOE_ANSWER_KEY

template <typename T>
json make(const T& v) {
  json result = v;
  json j;
  if constexpr (Key<T>::name == nullptr) {
    j = std::move(result);
  } else {
    j[Key<T>::name] = std::move(result);
  }
  j[version_key] = contract_version;
  return j;
}

}  // namespace

namespace {

// An error answer becomes its error; another version, an external one.
void check_answer(const json& j, std::string_view what) {
  if (!j.is_object()) core::fail(core::ErrorKind::external, "xoe's answer to {} is not a JSON object", what);
  auto version = j.find(version_key);
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != contract_version)
    core::fail(core::ErrorKind::external, "xoe's answer to {} is not of contract version {}: {}", what,
               contract_version, version == j.end() ? std::string("none") : version->dump());
  auto error = j.find(error_key);
  if (error == j.end()) return;
  std::string kind, message;
  try {
    kind = error->at("kind").get<std::string>();
    message = error->at("message").get<std::string>();
  } catch (const json::exception& e) {
    core::fail(core::ErrorKind::external, "xoe's error answer to {} is malformed: {}", what, e.what());
  }
  throw core::Error(kind_of_spelling(kind), message);
}

template <typename T>
T read(const json& j, std::string_view what) {
  check_answer(j, what);
  try {
    if constexpr (Key<T>::name == nullptr) {
      return j.get<T>();
    } else {
      return j.at(Key<T>::name).template get<T>();
    }
  } catch (const json::exception& e) {
    core::fail(core::ErrorKind::external, "xoe's answer to {} is not the one expected: {}", what, e.what());
  }
}

}  // namespace

template <typename T>
T read_answer(const json& j, std::string_view what) {
  return read<T>(j, what);
}

#define XOE_ANSWER(T)                         \
  json answer(const T& v) { return make(v); } \
  template T read_answer<T>(const json& j, std::string_view what);

XOE_ANSWER(ServiceInfo)
XOE_ANSWER(std::vector<ServiceSummary>)
XOE_ANSWER(CreatePlan)
XOE_ANSWER(Created)
XOE_ANSWER(Removed)
XOE_ANSWER(Retired)
XOE_ANSWER(std::vector<SoftwareInfo>)
XOE_ANSWER(FetchResult)
XOE_ANSWER(SoftwareRemoved)
XOE_ANSWER(DepsResult)
XOE_ANSWER(SelfInstallResult)
XOE_ANSWER(SelfUpdate)
XOE_ANSWER(BackupResult)
XOE_ANSWER(std::vector<BackupListEntry>)
XOE_ANSWER(PruneResult)
XOE_ANSWER(VerifyResult)
XOE_ANSWER(RestoreResult)
XOE_ANSWER(std::vector<DatabaseInfo>)
XOE_ANSWER(CopyResult)
XOE_ANSWER(DropResult)
XOE_ANSWER(DatabaseCreated)
XOE_ANSWER(RenameResult)
XOE_ANSWER(RefreshResult)
XOE_ANSWER(StudentsResult)
XOE_ANSWER(StudentsRemoved)
XOE_ANSWER(std::vector<StudentDatabase>)
XOE_ANSWER(MonitorResult)
XOE_ANSWER(NightlyResult)
XOE_ANSWER(ProfileResult)
XOE_ANSWER(UpdateResult)
XOE_ANSWER(UpgradeCheck)
XOE_ANSWER(LogLines)
XOE_ANSWER(ServiceConfig)
XOE_ANSWER(SupervisorStatus)
XOE_ANSWER(MigrateResult)
#undef XOE_ANSWER

json error_answer(const core::Error& error) {
  return {{version_key, contract_version},
          {error_key, {{"kind", kind_spelling(error.kind())}, {"message", error.what()}}}};
}

std::string render(const json& answer) { return answer.dump(2) + "\n"; }

std::string_view kind_spelling(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::failed: return "failed";
    case core::ErrorKind::invalid: return "invalid";
    case core::ErrorKind::not_found: return "not_found";
    case core::ErrorKind::conflict: return "conflict";
    case core::ErrorKind::external: return "external";
    case core::ErrorKind::precondition: return "precondition";
    case core::ErrorKind::io: return "io";
    case core::ErrorKind::internal: return "internal";
  }
  return "internal";
}

core::ErrorKind kind_of_spelling(std::string_view spelling) noexcept {
  for (auto kind : {core::ErrorKind::failed, core::ErrorKind::invalid, core::ErrorKind::not_found,
                    core::ErrorKind::conflict, core::ErrorKind::external, core::ErrorKind::precondition,
                    core::ErrorKind::io, core::ErrorKind::internal})
    if (kind_spelling(kind) == spelling) return kind;
  return core::ErrorKind::internal;
}

}  // namespace wire
}  // namespace xoe
