// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/database.hpp"

#include "admin.hpp"
#include "code.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "xoe/backup.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// SQLite's files of a database: the file and what a crash may leave beside it.
constexpr const char* sqlite_suffixes[] = {".sqlite", ".sqlite-journal", ".sqlite-wal", ".sqlite-shm"};

void set_state(const Settings& s, const std::string& name, const std::string& state) {
  auto db = registry::open(s);
  db.execute("UPDATE services SET state = ?1 WHERE name = ?2", state, name);
}

// Runs `job`; the memo is removed once it is finished or rolled back.
core::JobResult run_job(const Settings& s, core::JobRunner& jobs, const core::Job& job, const std::string& name) {
  try {
    auto r = jobs.run(job, core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
    remove_memo(s, name);
    return r;
  } catch (...) {
    auto j = jobs.find(job.kind, job.key);
    if (!j || !j->unfinished()) remove_memo(s, name);
    throw;
  }
}

void rename_if(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::exists(from, ec) && !fs::exists(to, ec)) {
    fs::rename(from, to, ec);
    if (ec) fail(ErrorKind::io, "cannot rename {} to {}: {}", from.string(), to.string(), ec.message());
  }
}

// Renames the database `from` of `svc` to `to` (and its attachments); idempotent.
void move_database(const Settings& s, const Service& svc, const std::string& from, const std::string& to) {
  if (svc.row.backend == "postgresql") {
    if (pg_database_exists(s, from) && !pg_database_exists(s, to)) {
      try {
        psql(s, "ALTER DATABASE " + quote_ident(from) + " RENAME TO " + quote_ident(to));
      } catch (const core::Error& e) {
        // "is being accessed by other users", then "DETAIL: There is 1 other session using the database."
        std::string_view why = e.what();
        if (why.find("other session") == std::string_view::npos && why.find("other users") == std::string_view::npos)
          throw;
        fail(ErrorKind::conflict, "database {} is in use by another session than its server's: {}", from, e.what());
      }
    }
  } else {
    for (const char* suffix : sqlite_suffixes) rename_if(svc.l.data / (from + suffix), svc.l.data / (to + suffix));
  }
  rename_if(svc.l.data / from, svc.l.data / to);  // Tryton's attachments of the database
}

}  // namespace

DropResult drop_database(const Settings& s, const DropRequest& rq) {
  auto t0 = Clock::now();
  auto row = need_service(s, rq.service);
  const std::string name = rq.service;
  DropResult out{name, row.database, row.backend, std::nullopt, 0, false};
  std::optional<nlohmann::json> memo;
  {
    auto db = registry::open(s);
    core::JobRunner jobs(db);
    memo = unfinished_memo(s, jobs, "db.drop", name, nlohmann::json::object());
  }
  if (!memo) {
    if (row.state == "dropped")
      fail(ErrorKind::conflict, "the database of {} was dropped already: xoe db create {} makes a new one", name, name);
    if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", name, row.state);
    // The backup takes the service's lock itself: made before this command takes it.
    if (rq.backup) out.archive = backup_service(s, {name, std::nullopt}).archive;
  }
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  memo = unfinished_memo(s, jobs, "db.drop", name, nlohmann::json::object());
  Service svc = load_service(s, name);
  if (!memo) {
    if (svc.row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", name, svc.row.state);
    memo = nlohmann::json{{"kind", "db.drop"}, {"request", nlohmann::json::object()}, {"was_running", is_running(s, svc)}};
    write_memo(s, name, *memo);
  } else {
    out.resumed = true;
  }
  bool was_running = (*memo)["was_running"].get<bool>();
  core::Job job{"db.drop", "service:" + name, {}};
  job.steps.push_back({"stop", [&s, name] { supervisor::down(s, name); }, [&s, name, was_running] {
    if (was_running) start_and_probe(s, load_service(s, name));
  }});
  job.steps.push_back({"mark", [&s, name] { set_state(s, name, "dropped"); },
                       [&s, name] { set_state(s, name, "ready"); }});
  // The last step: nothing is undone after it.
  job.steps.push_back({"drop", [&s, name] {
    Service cur = load_service(s, name);
    if (cur.row.backend == "postgresql") {
      pg_drop(s, cur.row.database);
    } else {
      std::error_code ec;
      for (const char* suffix : sqlite_suffixes) fs::remove(cur.l.data / (cur.row.database + suffix), ec);
    }
    host::remove_tree(cur.l.data / cur.row.database);
  }, {}});
  out.resumed = run_job(s, jobs, job, name).resumed || out.resumed;
  out.seconds = seconds_since(t0);
  core::logger("xoe")->info("dropped the database {} of {}{}", out.database, name,
                            out.archive ? " after a backup to " + out.archive->string() : std::string(" (no backup)"));
  return out;
}

DatabaseCreated create_database(const Settings& s, const std::string& name) {
  auto t0 = Clock::now();
  auto row = need_service(s, name);
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  auto memo = unfinished_memo(s, jobs, "db.create", name, nlohmann::json::object());
  Service svc = load_service(s, name);
  const registry::ServiceRow& r = svc.row;
  auto modules = split(r.modules, ',');
  DatabaseCreated out{name, r.database, r.backend, template_name(r.software, r.version, r.backend, modules), 0,
                      memo.has_value()};
  if (!memo) {
    if (r.state == "ready")
      fail(ErrorKind::conflict, "service {} has its database {}: xoe db drop {} first", name, r.database, name);
    if (r.state != "dropped") fail(ErrorKind::conflict, "service {} is {}", name, r.state);
    if (r.backend == "postgresql" && pg_database_exists(s, r.database))
      fail(ErrorKind::conflict, "PostgreSQL database {} exists already", r.database);
    std::error_code ec;
    if (r.backend == "sqlite" && fs::exists(svc.l.data / (r.database + ".sqlite"), ec))
      fail(ErrorKind::conflict, "database file {} exists already", (svc.l.data / (r.database + ".sqlite")).string());
    write_memo(s, name, {{"kind", "db.create"}, {"request", nlohmann::json::object()}});
  }
  std::string tpl = out.template_name;
  core::Job job{"db.create", "service:" + name, {}};
  job.steps.push_back({"template", [&s, name, tpl] {
    Service cur = load_service(s, name);
    Code code = fetched_code(s, cur.row.software, cur.row.version);
    ensure_template(s, cur.recipe, code, cur.row.backend, split(cur.row.modules, ','), tpl);
  }, [&s, name, tpl] { drop_unrecorded_template(s, load_service(s, name).row.backend, tpl); }});
  job.steps.push_back({"database", [&s, name, tpl] {
    Service cur = load_service(s, name);
    if (cur.row.backend == "sqlite") {
      auto account = host::find_user(cur.row.user);
      if (!account) fail(ErrorKind::internal, "user {} vanished", cur.row.user);
      fs::path to = cur.l.data / (cur.row.database + ".sqlite"), tmp = cur.l.data / (cur.row.database + ".sqlite.tmp");
      fs::copy_file(s.templates_dir() / tpl / (tpl + ".sqlite"), tmp, fs::copy_options::overwrite_existing);
      fs::rename(tmp, to);
      host::chown_path(to, account->uid, account->gid);
    } else {
      pg_drop(s, cur.row.database);  // what a killed run left: the name was checked free before the job
      psql_script(s, "CREATE DATABASE " + quote_ident(cur.row.database) + " TEMPLATE " + quote_ident(tpl) + ";\n" +
                         seal_sql(cur.row.database, service_role(name)));
      pg_hand_over(s, {{cur.row.database, service_role(name)}}, {std::string(template_role)});
    }
  }, [&s, name] {
    Service cur = load_service(s, name);
    if (cur.row.backend == "postgresql") pg_drop(s, cur.row.database);
    std::error_code ec;
    fs::remove(cur.l.data / (cur.row.database + ".sqlite"), ec);
  }});
  // A service with a poe series: its modules updated with its own code, as create does.
  job.steps.push_back({"update", [&s, name] {
    if (!service_series(s, name)) return;
    Service cur = load_service(s, name);
    if (cur.recipe.update.empty()) fail(ErrorKind::invalid, "{} has no database.update command", cur.recipe.file.string());
    run_admin(cur.recipe, cur.recipe.update, service_vars(s, cur, cur.row), cur.l.password, cur.l.dir, cur.row.user);
  }, {}});
  // The service keeps its admin password (its admin-password file).
  job.steps.push_back({"password", [&s, name] {
    Service cur = load_service(s, name);
    if (auto account = host::find_user(cur.row.user)) host::chown_tree(cur.l.data, account->uid, account->gid);
    set_admin_password(s, cur.recipe, service_vars(s, cur, cur.row), cur.l, cur.row.name, cur.row.user,
                       cur.row.backend, cur.row.database);
    if (auto account = host::find_user(cur.row.user)) host::chown_tree(cur.l.data, account->uid, account->gid);
  }, {}});
  job.steps.push_back({"ready", [&s, name] { set_state(s, name, "ready"); },
                       [&s, name] { set_state(s, name, "dropped"); }});
  job.steps.push_back({"start", [&s, name] { start_and_probe(s, load_service(s, name)); },
                       [&s, name] { supervisor::down(s, name); }});
  run_job(s, jobs, job, name);
  out.seconds = seconds_since(t0);
  core::logger("xoe")->info("created a fresh database {} for {} from {}", out.database, name, tpl);
  return out;
}

RenameResult rename_database(const Settings& s, const RenameRequest& rq) {
  auto t0 = Clock::now();
  core::validate_label(rq.service, "service name");
  core::validate_label(rq.database, "database name");
  if (rq.database.starts_with("xoe-"))
    fail(ErrorKind::invalid, "database name '{}': names starting with xoe- are xoe's own (templates, copies)",
         rq.database);
  auto row = need_service(s, rq.service);
  const std::string name = rq.service, to = rq.database;
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  nlohmann::json request = {{"database", to}};
  auto memo = unfinished_memo(s, jobs, "db.rename", name, request);
  Service svc = load_service(s, name);
  if (!memo) {
    if (svc.row.database == to) fail(ErrorKind::invalid, "the database of {} is called {} already", name, to);
    if (svc.row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", name, svc.row.state);
    auto q = db.query("SELECT name FROM services WHERE database = ?1 AND name != ?2", to, name);
    if (q.step()) fail(ErrorKind::conflict, "service {} has a database called {}", q.column_text(0), to);
    std::error_code ec;
    if (svc.row.backend == "postgresql" && pg_database_exists(s, to))
      fail(ErrorKind::conflict, "PostgreSQL database {} exists already", to);
    for (const auto& p : {svc.l.data / (to + ".sqlite"), svc.l.data / to})
      if (fs::exists(p, ec)) fail(ErrorKind::conflict, "{} exists already", p.string());
    memo = nlohmann::json{{"kind", "db.rename"},
                          {"request", request},
                          {"was_running", is_running(s, svc)},
                          {"old", svc.row.database}};
    write_memo(s, name, *memo);
  }
  bool was_running = (*memo)["was_running"].get<bool>();
  const std::string from = (*memo)["old"].get<std::string>();
  RenameResult out{name, from, to, svc.row.backend, was_running, 0, false};

  // The registry and the files name the database `want`; `had` is the other name.
  auto name_it = [&s, name](const std::string& had, const std::string& want) {
    Service cur = load_service(s, name);
    registry::ServiceRow a = cur.row, b = cur.row;
    a.database = had;
    b.database = want;
    {
      auto d = registry::open(s);
      d.execute("UPDATE services SET database = ?1 WHERE name = ?2", want, name);
    }
    rebase_files(s, cur, a, b);
  };
  core::Job job{"db.rename", "service:" + name, {}};
  job.steps.push_back({"stop", [&s, name] { supervisor::down(s, name); }, [&s, name, was_running] {
    if (was_running) start_and_probe(s, load_service(s, name));
  }});
  job.steps.push_back({"database", [&s, name, from, to] { move_database(s, load_service(s, name), from, to); },
                       [&s, name, from, to] { move_database(s, load_service(s, name), to, from); }});
  job.steps.push_back({"registry", [name_it, from, to] { name_it(from, to); },
                       [name_it, from, to] { name_it(to, from); }});
  job.steps.push_back({"start", [&s, name, was_running] {
    if (was_running) start_and_probe(s, load_service(s, name));
  }, [&s, name] { supervisor::down(s, name); }});
  out.resumed = run_job(s, jobs, job, name).resumed;
  out.seconds = seconds_since(t0);
  core::logger("xoe")->info("renamed the database of {} from {} to {}", name, from, to);
  return out;
}

}  // namespace xoe
