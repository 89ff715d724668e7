// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/backup.hpp"

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <time.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "core/archive.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/mac.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "poe/series.hpp"
#include "admin.hpp"
#include "code.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "replace.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/service.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

namespace {

constexpr std::string_view archive_suffix = ".tar.zst";
constexpr auto tool_timeout = std::chrono::milliseconds(2h);

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

fs::path backup_dir(const Settings& s, const std::string& service) { return s.backups / service; }
fs::path staging_dir(const Settings& s, const std::string& service) { return backup_dir(s, service) / ".partial"; }
fs::path sidecar(const fs::path& archive) { return fs::path(archive.string() + ".sha256"); }
fs::path mac_sidecar(const fs::path& archive) { return fs::path(archive.string() + ".mac"); }
// The key of this root's archives' MACs (core/mac.hpp): root's alone.
fs::path backup_key_file(const Settings& s) { return s.state / "backup.key"; }
constexpr std::string_view mac_scheme = "blake2b-256";

std::string stamp(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::string iso(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::optional<std::chrono::sys_seconds> parse_iso(const std::string& text) {
  std::tm tm{};
  if (!::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return std::nullopt;
  return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
}

std::string sha256_of(const fs::path& file) {
  auto r = core::run({"sha256sum", "--", file.string()}, {.timeout = tool_timeout});
  std::string hex = r.out.substr(0, r.out.find(' '));
  if (hex.size() != 64) fail(ErrorKind::external, "sha256sum {}: unexpected answer", file.string());
  return hex;
}

nlohmann::json meta_json(const BackupMeta& m) {
  return {{"format", m.format},   {"service", m.service}, {"software", m.software}, {"version", m.version},
          {"role", m.role},       {"backend", m.backend}, {"database", m.database}, {"modules", m.modules},
          {"created", m.created}, {"settings", m.settings}, {"series", m.series.value_or(false)}};
}

BackupMeta meta_from(const std::string& text, const std::string& what) {
  BackupMeta m;
  try {
    auto j = nlohmann::json::parse(text);
    m.format = j.at("format").get<int>();
    m.service = j.at("service").get<std::string>();
    m.software = j.at("software").get<std::string>();
    m.version = j.at("version").get<std::string>();
    m.role = j.at("role").get<std::string>();
    m.backend = j.at("backend").get<std::string>();
    m.database = j.at("database").get<std::string>();
    m.modules = j.at("modules").get<std::vector<std::string>>();
    m.created = j.at("created").get<std::string>();
    if (j.contains("settings")) m.settings = j.at("settings").get<std::map<std::string, std::string>>();
    if (j.contains("series")) m.series = j.at("series").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::invalid, "corrupt archive {}: metadata.json: {}", what, e.what());
  }
  bool ok = m.format == 1 && core::is_label(m.service) && core::is_label(m.software) && core::is_version(m.version) &&
            std::find(roles().begin(), roles().end(), m.role) != roles().end() &&
            (m.backend == "sqlite" || m.backend == "postgresql") && core::is_label(m.database);
  for (const auto& mod : m.modules) {
    ok = ok && !mod.empty();
    for (char c : mod) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) fail(ErrorKind::invalid, "corrupt archive {}: metadata.json has bad values", what);
  return m;
}

// --------------------------------------------------------------- backup job

namespace {

// An archive of a service whose code has a series holds that series, file
// for file, as the service has it now: without it a restore would bring
// back the data and lose the code's customisations. Read back from the
// written archive, so neither a stage staged before the series changed (a
// backup resumed after an update) nor a member left out passes.
void check_series_kept(const Settings& s, const std::string& name, const fs::path& archive) {
  auto series = service_series(s, name);
  if (!series) return;
  std::vector<std::string> files = {"series"};
  if (fs::exists(*series / "poe.json")) files.push_back("poe.json");
  for (const auto& p : poe::read_series(*series).patches) files.push_back(p.name);
  // One pass over the archive: its series unpacked beside it, then compared.
  const fs::path back = archive.parent_path() / ("." + name + ".series-check");
  host::remove_tree(back);
  host::make_dir(back, fs::perms::owner_all);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{back};
  core::archive::extract(archive, back, std::string("series"));
  for (const auto& f : files) {
    fs::path got = back / "series" / f;
    bool present = fs::is_regular_file(got);
    if (!present || host::read_file(got) != host::read_file(*series / f))
      fail(ErrorKind::failed,
           "backup of {}: the archive does not hold the service's series as it is now (series/{} {}); nothing kept, "
           "run the backup again",
           name, f, present ? "differs" : "is missing");
  }
}

}  // namespace

core::Job backup_job(const Settings& s, const std::string& name) {
  core::Job job{"service.backup", "service:" + name, {}};
  job.steps.push_back({"stage", [&s, name] {
    auto row = need_service(s, name);
    Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
    Layout l = layout(s, name, recipe);
    fs::path dir = backup_dir(s, name), stage = staging_dir(s, name);
    host::make_dir(s.backups, fs::perms::owner_all);
    host::make_dir(dir, fs::perms::owner_all);
    host::remove_tree(stage);
    host::make_dir(stage / "config", fs::perms::owner_all);
    // One archive per second: the name carries the time.
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    while (fs::exists(dir / (name + "-" + stamp(now) + std::string(archive_suffix)))) {
      std::this_thread::sleep_for(1s);
      now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    }
    BackupMeta m{1, name, row.software, row.version, row.role, row.backend, row.database, split(row.modules, ','),
                 iso(now), {}};
    {
      auto db = registry::open(s);
      for (const auto& st : stored_settings(db, name))
        if (st.key != "port") m.settings[st.key] = st.value;
    }
    // An action that throws cleans up after itself (a full disk leaves no partial staging).
    try {
      if (row.backend == "sqlite") {
        sqlite_file::backup(row.user, l.data / (row.database + ".sqlite"), stage / "database.sqlite", l.dir);
      } else {
        // By the service's own role, which owns every object in it (pg.hpp).
        pg_run_as(s, {service_login(s, name)},
                  {"pg_dump", "-Fc", "--no-owner", "-f", (stage / "database.dump").string(), "-d", row.database},
                  {.timeout = tool_timeout});
      }
      // The config as it was, without the password of the service's role
      // (an archive may leave the host; a restore writes the config anew).
      std::string config = host::read_file(l.config);
      std::error_code ec;
      if (fs::exists(service_password_file(s, name), ec)) {
        std::string secret = host::read_file(service_password_file(s, name));
        secret = secret.substr(0, secret.find('\n'));
        for (auto at = config.find(secret); !secret.empty() && at != std::string::npos; at = config.find(secret))
          config.replace(at, secret.size(), "(password of the role)");
      }
      host::write_file(stage / "config" / l.config.filename(), config, fs::perms::owner_read | fs::perms::owner_write);
      // The code is the standard version plus this series: a restore builds it again.
      if (auto series = service_series(s, name)) copy_series(*series, stage / "series");
      m.series = fs::exists(stage / "series" / "series");
      host::write_file(stage / "metadata.json", meta_json(m).dump(2) + "\n",
                       fs::perms::owner_read | fs::perms::owner_write);
    } catch (...) {
      std::error_code ec;
      fs::remove_all(stage, ec);
      throw;
    }
  }, [&s, name] { host::remove_tree(staging_dir(s, name)); }});

  job.steps.push_back({"archive", [&s, name] {
    auto row = need_service(s, name);
    Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
    Layout l = layout(s, name, recipe);
    fs::path dir = backup_dir(s, name), stage = staging_dir(s, name);
    BackupMeta m = meta_from(host::read_file(stage / "metadata.json"), "(staging)");
    auto t = parse_iso(m.created);
    if (!t) fail(ErrorKind::internal, "bad time in staged metadata: {}", m.created);
    fs::path archive = dir / (name + "-" + stamp(*t) + std::string(archive_suffix));
    if (fs::exists(archive) && fs::exists(sidecar(archive)) && fs::exists(mac_sidecar(archive))) return;  // done before a crash
    fs::path tmp = dir / ("." + archive.filename().string() + ".tmp");
    std::string db_member = row.backend == "sqlite" ? "database.sqlite" : "database.dump";
    // The data folder is the service user's to change while it is read:
    // walked by descriptors, links stored and never followed, FIFOs and
    // devices never opened (core::archive).
    core::archive::Source staged{"", stage, {"metadata.json", db_member, "config"}, {}};
    if (m.series.value_or(false)) staged.names.push_back("series");
    core::archive::Source data{"data", l.data, {}, {}};
    data.inner_links_only = true;  // a link out would make the archive one that restores refuse
    // The live database file is in the data folder: its snapshot is database.sqlite.
    for (const char* suffix : {".sqlite", ".sqlite-journal", ".sqlite-wal", ".sqlite-shm"})
      data.exclude.insert(row.database + suffix);
    data.exclude.insert(std::string(last_use_name));  // this service's use, not its data's
    if (auto account = host::find_user(row.user)) data.owner = account->uid;
    try {
      auto written = core::archive::write_tar_zst(tmp, {staged, data});
      for (const auto& skipped : written.skipped)
        core::logger("xoe")->warn("backup of {}: {} left out (a FIFO, socket or device, a link out of the folder, or a foreign hard link)", name,
                                  core::escape_for_display(skipped, 120));
      check_series_kept(s, name, tmp);
      std::string hex = sha256_of(tmp);
      std::string mac = core::file_mac(core::mac_key(backup_key_file(s), true), tmp);
      host::write_file(mac_sidecar(archive), std::string(mac_scheme) + " " + mac + "\n",
                       fs::perms::owner_read | fs::perms::owner_write);
      host::write_file(sidecar(archive), hex + "  " + archive.filename().string() + "\n",
                       fs::perms::owner_read | fs::perms::owner_write);
      fs::rename(tmp, archive);
    } catch (...) {
      std::error_code ec;
      fs::remove(tmp, ec);
      if (!fs::exists(archive, ec)) {
        fs::remove(sidecar(archive), ec);
        fs::remove(mac_sidecar(archive), ec);
      }
      throw;
    }
  }, [&s, name] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(backup_dir(s, name), ec))
      if (e.path().filename().string().starts_with(".") && e.path().extension() == ".tmp") fs::remove(e.path(), ec);
  }});

  job.steps.push_back({"clean", [&s, name] { host::remove_tree(staging_dir(s, name)); }, {}});
  return job;
}

// Removes an archive and its sidecars; a failure is xoe's own I/O error.
void remove_archive(const fs::path& archive) {
  for (const auto& f : {archive, sidecar(archive), mac_sidecar(archive)}) {
    std::error_code ec;
    fs::remove(f, ec);
    if (ec) fail(ErrorKind::io, "cannot remove {}: {}", f.string(), ec.message());
  }
}

std::vector<fs::path> prune(const Settings& s, const std::string& name, const Retention& keep) {
  auto all = list_backups(s, name);
  auto kept = select_kept(all, keep);
  std::set<fs::path> keep_set;
  for (const auto& k : kept) keep_set.insert(k.archive);
  std::vector<fs::path> removed;
  for (const auto& e : all) {
    if (keep_set.contains(e.archive)) continue;
    remove_archive(e.archive);
    removed.push_back(e.archive);
  }
  return removed;
}

bool service_exists(const Settings& s, const std::string& name) {
  auto db = registry::open_existing(s);
  return db && registry::find_service(*db, name).has_value();
}

// --------------------------------------------------------------- restore

// The restore's prepare step: the archive unpacked into the work folder, the
// new data folder and database (and the archive's code when `rebuild_code`).
void prepare_restore(const Settings& s, const std::string& target, const fs::path& archive, const BackupMeta& meta,
                     bool rebuild_code) {
  auto row = need_service(s, target);
  fresh_work_dir(s, target);
  fs::path work = work_dir(s, target), x = work / "archive";
  host::write_file(work / "source", archive.string() + "\n", fs::perms::owner_read | fs::perms::owner_write);
  host::make_dir(x, fs::perms::owner_all);
  core::archive::extract(archive, x);  // checked member by member, written by descriptors
  fs::path nd = new_data(s, target);
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(x / "data", ec))) {
    fs::rename(x / "data", nd);
  } else {
    host::make_dir(nd, fs::perms::owner_all);
  }
  rename_attachments(s, target, meta.database, row.database);
  if (meta.backend == "sqlite") {
    fs::rename(x / "database.sqlite", nd / (row.database + ".sqlite"));
  } else {
    std::string db = new_database(target);
    pg_drop(s, db);
    // The dump is the customer's: restored by the service's own role into a
    // database it owns, never by the superuser (pg.hpp), so that what it
    // holds (a CHECK constraint, a default, an index expression calling a
    // function of the dump) runs with that role's rights alone.
    std::string role = service_role(target);
    psql_script(s, "CREATE DATABASE " + quote_ident(db) + " OWNER " + quote_ident(role) +
                       " ENCODING 'UTF8' TEMPLATE template0;\n" + seal_sql(db, role));
    pg_run_as(s, {service_login(s, target)},
              {"pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d", db, (x / "database.dump").string()},
              {.timeout = tool_timeout});
  }
  // Handed to the service's user here, in root's work folder, where that user cannot change it meanwhile.
  if (auto account = host::find_user(row.user)) host::chown_tree(nd, account->uid, account->gid);
  if (rebuild_code) {
    std::optional<fs::path> series;
    if (fs::is_regular_file(x / "series" / "series", ec)) series = x / "series";
    build_code(s, row.software, row.version, series, work / "code");
  }
  host::remove_tree(x);
}

// `rebuild_code`: the target's code is built again with the archive's series
// (work/code/, swapped in with the database).
core::Job restore_job(const Settings& s, const std::string& target, const fs::path& archive, const BackupMeta& meta,
                      bool rebuild_code) {
  core::Job job{"service.restore", "service:" + target, {}};
  Replacement r{target, meta.service, meta.modules};
  // A prepare that fails half-way (a full disk while unpacking) removes what it made.
  job.steps.push_back({"prepare", [&s, target, archive, meta, rebuild_code] {
    run_or_undo([&] { prepare_restore(s, target, archive, meta, rebuild_code); },
                [&] { discard_prepared(s, target); }, "prepare");
  }, [&s, target] { discard_prepared(s, target); }});
  add_replace_steps(job, s, r);
  return job;
}

std::string read_password(const Settings& s, const std::string& name) {
  std::string pw = host::read_file(s.services_dir() / name / "admin-password");
  if (!pw.empty() && pw.back() == '\n') pw.pop_back();
  return pw;
}

}  // namespace

// --------------------------------------------------------------- public

std::optional<std::chrono::sys_seconds> archive_time(const std::string& file_name) {
  static const std::regex re(R"(^[a-z0-9-]+-(\d{8}T\d{6}Z)\.tar\.zst$)");
  std::smatch m;
  if (!std::regex_match(file_name, m, re)) return std::nullopt;
  std::tm tm{};
  std::string t = m[1];
  if (!::strptime(t.c_str(), "%Y%m%dT%H%M%SZ", &tm)) return std::nullopt;
  return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
}

std::vector<BackupEntry> list_backups(const Settings& s, const std::string& service) {
  core::validate_label(service, "service name");
  std::vector<BackupEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(backup_dir(s, service), ec)) {
    std::string f = e.path().filename().string();
    if (!f.starts_with(service + "-")) continue;
    if (auto t = archive_time(f); t && e.is_regular_file()) out.push_back({e.path(), *t});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.time > b.time; });
  return out;
}

std::vector<ServiceBackups> list_service_backups(const Settings& s, const std::optional<std::string>& service) {
  std::vector<std::string> names;
  if (service) {
    core::validate_label(*service, "service name");
    names.push_back(*service);
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(s.backups, ec)) {
      std::string f = e.path().filename().string();
      if (core::is_label(f) && e.is_directory(ec) && !e.is_symlink(ec)) names.push_back(f);
    }
    std::sort(names.begin(), names.end());
  }
  std::vector<ServiceBackups> out;
  for (const auto& name : names) {
    ServiceBackups b{name, service_exists(s, name), list_backups(s, name)};
    // A removed service with no archive left is no answer (a folder emptied by hand).
    if (!service && b.backups.empty() && !b.service_exists) continue;
    out.push_back(std::move(b));
  }
  return out;
}

PruneResult prune_backups(const Settings& s, const PruneRequest& rq) {
  core::validate_label(rq.service, "service name");
  Retention keep = rq.retention.value_or(Retention{s.keep_daily, s.keep_weekly, s.keep_monthly});
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + rq.service);
  PruneResult out;
  out.service = rq.service;
  out.service_exists = service_exists(s, rq.service);
  auto all = list_backups(s, rq.service);
  if (!out.service_exists && all.empty())
    fail(ErrorKind::not_found, "no service {} and no archive of it in {}", rq.service,
         backup_dir(s, rq.service).string());
  if (rq.scope == PruneScope::all) {
    if (out.service_exists)
      fail(ErrorKind::conflict, "service {} exists: --all is for the archives of a removed service (the retention "
           "keeps the newest archive of a service)", rq.service);
    for (const auto& e : all) {
      remove_archive(e.archive);
      out.pruned.push_back(e.archive);
    }
    std::error_code ec;
    fs::remove(backup_dir(s, rq.service), ec);  // only when empty: a staging folder of a killed backup stays
  } else {
    out.pruned = prune(s, rq.service, keep);
    for (const auto& e : list_backups(s, rq.service)) out.kept.push_back(e.archive);
  }
  core::logger("xoe")->info("pruned {} archive(s) of {}{}", out.pruned.size(), rq.service,
                            out.service_exists ? "" : " (a removed service)");
  return out;
}

std::vector<BackupEntry> select_kept(std::vector<BackupEntry> entries, const Retention& keep) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.time != b.time ? a.time > b.time : a.archive > b.archive;
  });
  std::set<std::size_t> kept;
  if (!entries.empty()) kept.insert(0);
  using namespace std::chrono;
  auto rule = [&](std::int64_t n, auto bucket) {
    std::set<std::int64_t> seen;
    for (std::size_t i = 0; i < entries.size() && static_cast<std::int64_t>(seen.size()) < n; ++i)
      if (seen.insert(bucket(entries[i].time)).second) kept.insert(i);
  };
  rule(keep.daily, [](sys_seconds t) { return static_cast<std::int64_t>(floor<days>(t).time_since_epoch().count()); });
  rule(keep.weekly, [](sys_seconds t) {
    // ISO weeks start on Monday; 1970-01-01 was a Thursday.
    auto d = floor<days>(t).time_since_epoch().count() + 3;
    return static_cast<std::int64_t>(d >= 0 ? d / 7 : (d - 6) / 7);
  });
  rule(keep.monthly, [](sys_seconds t) {
    year_month_day ymd{floor<days>(t)};
    return static_cast<std::int64_t>(static_cast<int>(ymd.year())) * 12 + static_cast<unsigned>(ymd.month());
  });
  std::vector<BackupEntry> out;
  for (auto i : kept) out.push_back(entries[i]);
  return out;
}

BackupResult backup_service(const Settings& s, const BackupRequest& rq) {
  auto row = need_service(s, rq.service);
  if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", rq.service, row.state);
  Retention keep = rq.retention.value_or(Retention{s.keep_daily, s.keep_weekly, s.keep_monthly});
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + rq.service);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  auto result = jobs.run(backup_job(s, rq.service), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  auto all = list_backups(s, rq.service);
  if (all.empty()) fail(ErrorKind::internal, "no archive after the backup of {}", rq.service);
  BackupResult out;
  out.resumed = result.resumed;
  out.archive = all.front().archive;
  out.bytes = fs::file_size(out.archive);
  std::string side = host::read_file(sidecar(out.archive));
  out.sha256 = side.substr(0, side.find(' '));
  out.meta = meta_from(core::archive::read_member(out.archive, "metadata.json"), out.archive.string());
  try {
    out.pruned = prune(s, rq.service, keep);
  } catch (const core::Error& e) {
    // The backup is made: a retention that cannot remove an old archive does not undo it.
    core::logger("xoe")->warn("backup of {}: the retention stopped: {}", rq.service, e.what());
  }
  core::logger("xoe")->info("backup of {}: {} ({} bytes)", rq.service, out.archive.string(), out.bytes);
  return out;
}

BackupMeta check_archive(const Settings& s, const fs::path& archive, ArchiveOrigin origin) {
  std::error_code ec;
  if (!fs::is_regular_file(archive, ec)) fail(ErrorKind::not_found, "no archive {}", archive.string());
  std::string name = archive.filename().string();
  if (!fs::is_regular_file(sidecar(archive), ec))
    fail(ErrorKind::invalid, "corrupt archive {}: no {}.sha256 beside it", name, name);
  std::string side = host::read_file(sidecar(archive));
  std::string expected = side.substr(0, side.find(' '));
  if (sha256_of(archive) != expected)
    fail(ErrorKind::invalid, "corrupt archive {}: sha256 differs from {}.sha256 (truncated or damaged)", name, name);
  // Whoever can write an archive can write its sha256: only the MAC made
  // with this root's key tells that this root wrote it (core/mac.hpp).
  if (origin == ArchiveOrigin::this_root) {
    std::string why;
    std::error_code kc;
    if (!fs::exists(backup_key_file(s), kc)) {
      why = "this root has no backup key (it never made a backup)";
    } else if (!fs::is_regular_file(mac_sidecar(archive), ec)) {
      why = "it has no " + name + ".mac";
    } else {
      std::string text = host::read_file(mac_sidecar(archive));
      text = text.substr(0, text.find('\n'));
      std::string scheme = text.substr(0, text.find(' ')), mac = text.substr(text.find(' ') + 1);
      if (scheme != mac_scheme || !core::same_mac(mac, core::file_mac(core::mac_key(backup_key_file(s), false), archive)))
        why = "its MAC does not match this root's backup key (made elsewhere, or changed since)";
    }
    if (!why.empty())
      fail(ErrorKind::invalid, "archive {} is not authenticated: {}; if you know where it comes from, give --trust", name,
           why);
  }
  // Every header read to the end, and every member's name and type checked
  // before anything is created: `..`, absolute paths, links out, devices,
  // FIFOs are refused (invalid, naming the member).
  std::set<std::string> members;
  for (auto& member : core::archive::list_members(archive)) members.insert(std::move(member.path));
  if (!members.contains("metadata.json"))
    fail(ErrorKind::invalid, "corrupt archive {}: no metadata.json (not an xoe backup)", name);
  BackupMeta meta = meta_from(core::archive::read_member(archive, "metadata.json"), name);
  std::string db_member = meta.backend == "sqlite" ? "database.sqlite" : "database.dump";
  if (!members.contains(db_member)) fail(ErrorKind::invalid, "corrupt archive {}: no {}", name, db_member);
  if (meta.series.value_or(false) && !members.contains("series/series"))
    fail(ErrorKind::invalid, "corrupt archive {}: metadata.json says it holds a series, and series/series is missing",
         name);
  return meta;
}

RestoreResult restore_service(const Settings& s, const RestoreRequest& rq) {
  auto t0 = Clock::now();
  core::validate_label(rq.service, "service name");
  std::string target = rq.as.value_or(rq.service);
  core::validate_label(target, "--as");
  if (rq.role && std::find(roles().begin(), roles().end(), *rq.role) == roles().end())
    fail(ErrorKind::invalid, "--role '{}': one of production, training, test, student", core::escape_for_display(*rq.role));
  fs::path archive = fs::absolute(rq.archive).lexically_normal();
  BackupMeta meta = check_archive(s, archive, rq.origin);

  RestoreResult out;
  out.service = target;
  out.meta = meta;
  bool resume = false;
  {
    auto db = registry::open(s);
    core::JobRunner jobs(db);
    refuse_other_jobs(jobs, target, "service.restore");
    auto j = jobs.find("service.restore", "service:" + target);
    if (j && j->unfinished()) {
      std::string source;
      std::error_code ec;
      if (fs::exists(work_dir(s, target) / "source", ec)) source = host::read_file(work_dir(s, target) / "source");
      if (!source.empty() && source != archive.string() + "\n")
        fail(ErrorKind::conflict, "an unfinished restore of {} from another archive exists: run it again with {}",
             target, source.substr(0, source.size() - 1));
      resume = true;
    }
  }
  auto existing = [&] {
    auto db = registry::open_existing(s);
    return db ? registry::find_service(*db, target) : std::nullopt;
  }();
  // The archive's series, read before anything is touched: the code of a
  // service the restore creates is built with it, and an existing target's
  // is built again when its own differs (archives made before xoe kept the
  // series leave the code as it is).
  const fs::path series_tmp = s.work_dir() / ("." + target + ".series");
  struct RemoveTree {
    fs::path path;
    ~RemoveTree() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } series_cleanup{series_tmp};
  std::optional<fs::path> archived_series;
  if (meta.series.value_or(false)) {
    host::make_dir(s.work_dir(), fs::perms::owner_all);
    host::remove_tree(series_tmp);
    host::make_dir(series_tmp, fs::perms::owner_all);
    core::archive::extract(archive, series_tmp, std::string("series"));
    archived_series = series_tmp / "series";
  }
  bool rebuild_code = false;
  if (!resume) {
    if (existing) {
      if (rq.as) fail(ErrorKind::conflict, "service {} exists", target);
      if (rq.role && *rq.role != existing->role)
        fail(ErrorKind::invalid, "--role {}: service {} exists and keeps its role {} (--role is for a service the "
             "restore creates)", *rq.role, target, existing->role);
      if (existing->state != "ready") fail(ErrorKind::conflict, "service {} is {}", target, existing->state);
      if (existing->software != meta.software || existing->version != meta.version)
        fail(ErrorKind::conflict, "the archive holds {}/{}, service {} runs {}/{}", meta.software, meta.version, target,
             existing->software, existing->version);
      if (existing->backend != meta.backend)
        fail(ErrorKind::conflict, "the archive holds a {} database, service {} uses {}", meta.backend, target,
             existing->backend);
      if (archived_series) check_series_for(s, meta.software, meta.version, *archived_series);
    } else {
      // A service made under another name than the archive's (--as, or a
      // SERVICE that is not the archive's) is a copy beside the archived one,
      // which may still run: neutralised (role test: no jobs, mail to the
      // catcher) unless --role asks otherwise, so that a copy made to look
      // at yesterday's data sends no invoice again. Under the archive's own
      // name (a removed service brought back) it has the archive's role.
      bool copy = rq.as.has_value() || target != meta.service;
      CreateRequest cr{target, meta.software, meta.version, rq.role.value_or(copy ? "test" : meta.role), meta.backend,
                       meta.modules, std::nullopt, archived_series};
      // Neither started nor given its password here: the restore job does
      // both on the archive's database (CreateFinish).
      Created c = create_service(s, cr, CreateFinish::for_restore);
      out.created = true;
      out.admin_password = c.admin_password;
      // The archived service's own settings become the new one's; the
      // restore below writes its config with them.
      auto db = registry::open(s);
      for (const auto& [key, value] : meta.settings)
        if (key != "port")
          db.execute("INSERT OR REPLACE INTO service_settings (service, key, value, updated) VALUES (?1, ?2, ?3, ?4)",
                     target, key, value, host::now_iso());
    }
  }
  // Also on a resumed restore: its prepare step, when not done, builds the code.
  if (existing && meta.series.has_value()) {
    std::error_code ec;
    rebuild_code = fs::is_directory(code_dir(s, target) / "tree", ec) &&
                   !same_series(archived_series, service_series(s, target));
  }
  try {
    auto lock = core::FileLock::acquire(s.locks, "xoe.service." + target);
    auto db = registry::open(s);
    core::JobRunner jobs(db);
    auto result = jobs.run(restore_job(s, target, archive, meta, rebuild_code),
                           core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
    out.resumed = result.resumed;
  } catch (...) {
    if (out.created) {
      try {
        remove_service(s, target);
      } catch (const core::Error& e) {
        core::logger("xoe")->warn("cannot remove {} after the failed restore: {}", target, e.what());
      }
    }
    throw;
  }
  auto row = need_service(s, target);
  ServiceInfo info = info_from_row(s, row, false);
  out.role = row.role;
  out.url = info.url;
  out.port = info.port;
  out.database = row.database;
  out.neutralised = row.role != "production";  // the job's neutralise step ran
  out.code_restored = rebuild_code;
  out.seconds = seconds_since(t0);
  core::logger("xoe")->info("restored {} into {} in {:.1f} s", archive.string(), target, out.seconds);
  return out;
}

VerifyResult verify_backup(const Settings& s, const fs::path& archive_in, ArchiveOrigin origin) {
  auto t0 = Clock::now();
  VerifyResult v;
  v.archive = fs::absolute(archive_in).lexically_normal();
  v.meta = check_archive(s, v.archive, origin);
  std::string side = host::read_file(sidecar(v.archive));
  v.sha256 = side.substr(0, side.find(' '));
  std::string suffix = host::random_password(8);
  std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) { return std::tolower(c); });
  v.scratch = "verify-" + suffix;
  auto log = core::logger("xoe");
  try {
    auto r = restore_service(s, {v.scratch, v.archive, std::nullopt, std::string("test"), origin});
    v.restore_seconds = seconds_since(t0);
    Recipe recipe = find_recipe(s.recipe_dirs, v.meta.software, v.meta.version);
    if (recipe.login_path.empty())
      fail(ErrorKind::precondition, "{} has no [login] section to verify with", recipe.file.string());
    auto row = need_service(s, v.scratch);
    TemplateVars tv;
    tv.vars = {{"database", row.database}, {"admin_login", recipe.admin_login},
               {"password", r.admin_password.value_or(read_password(s, v.scratch))}};
    auto tl = Clock::now();
    auto a = host::http_post(probe_address(s), static_cast<std::uint16_t>(row.port), render(recipe.login_path, tv),
                             render(recipe.login_body, tv), 60s);
    v.login_ms = seconds_since(tl) * 1000;
    if (!a) fail(ErrorKind::external, "no answer to the login on port {}", row.port);
    if (a->status != 200 || a->body.find(recipe.login_expect) == std::string::npos)
      fail(ErrorKind::external, "login refused (HTTP {})", a->status);
    v.ok = true;
  } catch (const core::Error& e) {
    v.error = e.what();
  }
  try {
    auto db = registry::open_existing(s);
    if (db && registry::find_service(*db, v.scratch)) {
      db.reset();
      remove_service(s, v.scratch);
    }
  } catch (const core::Error& e) {
    log->warn("cannot remove the scratch service {}: {}", v.scratch, e.what());
    if (v.ok) {
      v.ok = false;
      v.error = std::string("scratch service not removed: ") + e.what();
    }
  }
  v.seconds = seconds_since(t0);
  v.verified = host::now_iso();
  auto db = registry::open(s);
  db.execute("INSERT INTO backup_verifications (archive, sha256, software, version, ok, restore_seconds, login_ms, "
             "seconds, verified, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
             v.archive.string(), v.sha256, v.meta.software, v.meta.version, v.ok ? 1 : 0, v.restore_seconds,
             v.login_ms, v.seconds, v.verified, v.error);
  return v;
}

}  // namespace xoe
