// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/copy.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "replace.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

// Helpers shared with students.cpp (service_impl.hpp).
namespace detail {

// The marker holds the way the source was drained ("sessions" or "restart").
void drain_source(const Settings& s, const std::string& source, const fs::path& marker) {
  auto row = need_service(s, source);
  if (row.backend != "postgresql") return;
  if (find_recipe(s.recipe_dirs, row.software, row.version).drain_sessions) {
    // The marker first: from here on a crash is undone by release_source.
    host::write_file(marker, "sessions", fs::perms::owner_read | fs::perms::owner_write);
    // No new session (the server's requests wait or fail meanwhile), then the
    // server's own sessions end; another role's session makes pg_clone refuse.
    psql_script(s, "ALTER DATABASE " + quote_ident(row.database) + " ALLOW_CONNECTIONS false;\n"
                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = " +
                       quote_literal(row.database) + " AND usename = " + quote_literal(service_role(source)) + ";\n");
    return;
  }
  std::error_code ec;
  if (!fs::exists(marker, ec) && supervisor::status(s, source).state != "run") return;
  host::write_file(marker, "restart", fs::perms::owner_read | fs::perms::owner_write);
  supervisor::down(s, source);
}

namespace {
bool drained_by_restart(const fs::path& marker) { return host::read_file(marker) != "sessions"; }
}  // namespace

void reopen_source(const Settings& s, const std::string& source, const fs::path& marker) {
  std::error_code ec;
  if (!fs::exists(marker, ec)) return;
  if (drained_by_restart(marker)) {
    supervisor::up(s, source);  // release_source waits for its probe
    return;
  }
  // Open again (a database dropped meanwhile has nothing to open): released.
  auto row = need_service(s, source);
  psql(s, "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_database WHERE datname = " + quote_literal(row.database) +
              ") THEN ALTER DATABASE " + quote_ident(row.database) + " ALLOW_CONNECTIONS true; END IF; END$$");
  fs::remove(marker, ec);
}

void release_source(const Settings& s, const std::string& source, const fs::path& marker) {
  std::error_code ec;
  if (!fs::exists(marker, ec)) return;
  if (!drained_by_restart(marker)) return reopen_source(s, source, marker);
  supervisor::up(s, source);
  auto row = need_service(s, source);
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  Layout l = layout(s, source, recipe);
  wait_probe(s, recipe, source, static_cast<std::uint16_t>(row.port), l.logs);
  fs::remove(marker, ec);
}

void pg_clone(const Settings& s, const std::string& from, const std::vector<std::string>& to, const std::string& owner,
              CloneMode mode) {
  if (to.empty()) return;
  std::string strategy;
  std::size_t sessions = 1;
  if (mode == CloneMode::batch) {
    sessions = std::min<std::size_t>(8, to.size());
    // STRATEGY came with PostgreSQL 15; before it every copy was a file copy.
    if (std::atol(psql(s, "SHOW server_version_num").c_str()) >= 150000) strategy = " STRATEGY FILE_COPY";
  }
  std::vector<std::string> scripts(sessions);
  for (std::size_t i = 0; i < to.size(); ++i)
    scripts[i % sessions] +=
        "CREATE DATABASE " + quote_ident(to[i]) + " TEMPLATE " + quote_ident(from) + strategy + ";\n" +
        seal_sql(to[i], owner);
  std::vector<std::function<void()>> tasks;
  for (const auto& script : scripts) tasks.push_back([&s, script] { psql_script(s, script); });
  try {
    run_concurrently(tasks);
  } catch (const core::Error& e) {
    // PostgreSQL waits about 5 s for the source's other sessions to go, then refuses.
    if (std::string_view(e.what()).find("other session") == std::string_view::npos) throw;
    fail(ErrorKind::conflict, "database {} is in use by another session than its server's: {}", from, e.what());
  }
}

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

fs::path source_marker(const Settings& s, const std::string& target) { return work_dir(s, target) / "source-drained"; }

core::Job copy_job(const Settings& s, const registry::ServiceRow& src, const registry::ServiceRow& dst) {
  std::string source = src.name, target = dst.name;
  core::Job job{"db.copy", "service:" + target, {}};
  job.steps.push_back({"work", [&s, target] { fresh_work_dir(s, target); },
                       [&s, source, target] {
                         release_source(s, source, source_marker(s, target));
                         discard_prepared(s, target);
                       }});

  // CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
  // source: it is drained for the copy (a fraction of a second to a few
  // seconds) as its recipe says (drain_source), and opened again by
  // `release`, or by the rollback.
  job.steps.push_back({"drain", [&s, source, target] { drain_source(s, source, source_marker(s, target)); },
                       [&s, source, target] { release_source(s, source, source_marker(s, target)); }});

  job.steps.push_back({"clone", [&s, source, target] {
    auto from = need_service(s, source), to = need_service(s, target);
    Recipe recipe = find_recipe(s.recipe_dirs, from.software, from.version);
    Layout l = layout(s, source, recipe);
    fs::path nd = new_data(s, target);
    host::remove_tree(nd);
    host::make_dir(nd, fs::perms::owner_all);
    // The attachments (everything of the data folder but the database file).
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(l.data, ec)) {
      std::string f = e.path().filename().string();
      if (f.starts_with(from.database + ".sqlite")) continue;
      if (f == last_use_name) continue;  // the source's use, not the copy's
      fs::copy(e.path(), nd / f, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
      if (ec) fail(ErrorKind::io, "cannot copy {}: {}", e.path().string(), ec.message());
    }
    if (ec) fail(ErrorKind::io, "cannot read {}: {}", l.data.string(), ec.message());
    rename_attachments(s, target, from.database, to.database);
    if (from.backend == "sqlite") {
      sqlite_file::backup(from.user, l.data / (from.database + ".sqlite"), nd / (to.database + ".sqlite"), l.dir);
    } else {
      std::string db = new_database(target);
      pg_drop(s, db);
      // Owned by the target's role, down to each table (the source's role owned them).
      pg_clone(s, from.database, {db}, service_role(target));
      pg_hand_over(s, {{db, service_role(target)}}, {service_role(source)});
    }
  }, {}});

  job.steps.push_back({"release", [&s, source, target] { release_source(s, source, source_marker(s, target)); }, {}});
  add_replace_steps(job, s, {target, source, split(src.modules, ',')});
  return job;
}

}  // namespace

std::vector<DatabaseInfo> list_databases(const Settings& s) {
  std::vector<DatabaseInfo> out;
  auto db = registry::open_existing(s);
  if (!db) return out;
  for (const auto& r : registry::all_services(*db)) {
    DatabaseInfo i{r.name, r.database, r.backend, r.role, 0};
    if (r.backend == "sqlite") {
      std::error_code ec;
      auto n = fs::file_size(s.services_dir() / r.name / "data" / (r.database + ".sqlite"), ec);
      if (!ec) i.bytes = n;
    } else {
      std::string lit = "'" + r.database + "'";  // a label: no quote inside
      auto size = psql(s, "SELECT pg_database_size(datname) FROM pg_database WHERE datname = " + lit);
      i.bytes = static_cast<std::uintmax_t>(std::atoll(size.c_str()));
    }
    out.push_back(i);
  }
  return out;
}

CopyResult copy_database(const Settings& s, const CopyRequest& rq) {
  auto t0 = Clock::now();
  core::validate_label(rq.source, "source service");
  core::validate_label(rq.target, "target service");
  if (rq.source == rq.target) fail(ErrorKind::invalid, "a service cannot be copied onto itself ({})", rq.source);
  auto src = need_service(s, rq.source), dst = need_service(s, rq.target);
  for (const auto* r : {&src, &dst})
    if (r->state != "ready") fail(ErrorKind::conflict, "service {} is {}", r->name, r->state);
  if (src.software != dst.software || src.version != dst.version)
    fail(ErrorKind::conflict, "{} runs {}/{}, {} runs {}/{}", src.name, src.software, src.version, dst.name,
         dst.software, dst.version);
  if (src.backend != dst.backend)
    fail(ErrorKind::conflict, "{} uses {}, {} uses {}: copies stay on one backend", src.name, src.backend, dst.name,
         dst.backend);
  // Both services are locked, in name order, so two copies cannot deadlock.
  auto first = std::min(rq.source, rq.target), second = std::max(rq.source, rq.target);
  auto lock1 = core::FileLock::acquire(s.locks, "xoe.service." + first);
  auto lock2 = core::FileLock::acquire(s.locks, "xoe.service." + second);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  refuse_other_jobs(jobs, rq.target, "db.copy");
  CopyResult out{rq.source, rq.target, dst.role != "production", false, 0, false};
  out.source_drained = src.backend == "postgresql";
  out.source_stopped = out.source_drained && !find_recipe(s.recipe_dirs, src.software, src.version).drain_sessions &&
                       supervisor::status(s, src.name).state == "run";
  auto result = jobs.run(copy_job(s, src, dst), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  out.resumed = result.resumed;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  core::logger("xoe")->info("copied the database of {} into {} in {:.1f} s", rq.source, rq.target, out.seconds);
  return out;
}

RefreshResult training_refresh(const Settings& s, const RefreshRequest& rq) {
  auto row = need_service(s, rq.service);
  if (row.role == "production")
    fail(ErrorKind::conflict, "{} is a production service: a refresh replaces a training service's database",
         rq.service);
  std::string production;
  if (rq.from) {
    production = *rq.from;
  } else {
    auto set = profile_set_of(rq.service, "training");
    if (!set) fail(ErrorKind::invalid, "{}: give --from PRODUCTION (the name does not end in -training)", rq.service);
    production = *set + "-production";
  }
  core::validate_label(production, "--from");
  auto backups = list_backups(s, production);
  if (backups.empty())
    fail(ErrorKind::not_found, "no backup of {}: run xoe backup {} (nightly) first", production, production);
  RefreshResult out;
  out.service = rq.service;
  out.production = production;
  out.archive = backups.front().archive;
  out.restore = restore_service(s, {rq.service, out.archive, std::nullopt, std::nullopt});
  return out;
}

}  // namespace xoe
