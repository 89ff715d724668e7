// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/update.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>

#include "code.hpp"
#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "poe/series.hpp"
#include "poe/store.hpp"
#include "registry.hpp"
#include "replace.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/backup.hpp"
#include "xoe/recipe.hpp"
#include "xoe/software.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

bool UpgradeCheck::blocked() const {
  return std::any_of(patches.begin(), patches.end(),
                     [](const PatchVerdict& p) { return p.status == "conflict" || p.status == "removed"; });
}

namespace {

// ROOT/var/lib/oe/xoe/work/NAME.update: what a run (and its resumption) works from:
//   to-version, was-running, series/ (the new series), code/ (the new code),
//   data/ (SQLite: the migrated copy), CONFIG (the migration's config),
//   old-code/, old.sqlite (SQLite: the old database, until finish).
fs::path work_of(const Settings& s, const std::string& name) { return s.work_dir() / (name + ".update"); }
std::string migration_db(const std::string& name) { return "xoe-mig-" + host::short_hash(name); }
std::string previous_db(const std::string& name) { return "xoe-prev-" + host::short_hash(name); }

std::vector<int> version_numbers(const std::string& v) {
  std::vector<int> out;
  std::istringstream in(v);
  for (std::string part; std::getline(in, part, '.');) out.push_back(std::atoi(part.c_str()));
  return out;
}

std::string read_trimmed(const fs::path& file) {
  std::string t = host::read_file(file);
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

PatchVerdict verdict_of(const poe::PatchCheck& p) {
  PatchVerdict v{p.name, std::string(poe::status_name(p.status)), p.files, {}};
  for (const auto& c : p.conflicts) v.conflicts.emplace_back(c.file, c.lines);
  return v;
}

// The service's config and runit run file for `version` with the code in `code_dir`.
void write_service_files(const Settings& s, const registry::ServiceRow& row, const std::string& version,
                         const fs::path& code_dir_path) {
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, version);
  Code code = code_in(fetched_code(s, row.software, version), code_dir_path);
  Layout l = layout(s, row.name, recipe);
  auto v = vars_for(s, recipe, code, row.name, row.database, l.data, l.config, static_cast<std::uint16_t>(row.port),
                    row.backend, split(row.modules, ','));
  v.vars["role"] = row.role;
  if (row.role != "production") set_mail(v, s, true);
  std::string config = render(recipe.config, v);
  if (row.role != "production") config += render(recipe.neutralise_config, v);
  host::write_file(l.config, config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  if (auto account = host::find_user(row.user)) host::chown_path(l.config, 0, account->gid);
  supervise(s, l, recipe, v, row.user);
}

void start_and_probe(const Settings& s, const registry::ServiceRow& row) {
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  Layout l = layout(s, row.name, recipe);
  supervisor::up(s, row.name);
  wait_probe(s, recipe, row.name, static_cast<std::uint16_t>(row.port), l.logs);
}

core::Job update_job(const Settings& s, const std::string& name) {
  core::Job job{"service.update", "service:" + name, {}};
  const fs::path work = work_of(s, name);
  auto to_version = [work] { return read_trimmed(work / "to-version"); };
  auto from_version = [work] { return read_trimmed(work / "from-version"); };

  job.steps.push_back({"stop", [&s, name] {
    auto row = need_service(s, name);
    supervisor::down(s, name);
  }, [&s, name, work] {
    if (!present(work / "was-running")) return;
    start_and_probe(s, need_service(s, name));
  }});

  // The database is migrated as a copy: the service's own stays as it was until the switch.
  job.steps.push_back({"copy", [&s, name, work] {
    auto row = need_service(s, name);
    Layout l = layout(s, name, find_recipe(s.recipe_dirs, row.software, row.version));
    if (row.backend == "sqlite") {
      host::remove_tree(work / "data");
      host::make_dir(work / "data", fs::perms::owner_all);
      sqlite_file::backup(row.user, l.data / (row.database + ".sqlite"), work / "data" / (migration_db(name) + ".sqlite"),
                          l.dir);
    } else {
      pg_drop(s, migration_db(name));
      pg_clone(s, row.database, {migration_db(name)}, service_role(name));
    }
  }, [&s, name, work] {
    auto row = need_service(s, name);
    if (row.backend == "postgresql") pg_drop(s, migration_db(name));
    host::remove_tree(work / "data");
  }});

  // `code-built` marks a finished build (update --patches builds it before the job, to refuse a series that
  // does not apply before anything is stopped).
  job.steps.push_back({"code", [&s, name, work, to_version] {
    if (present(work / "code-built")) return;
    auto row = need_service(s, name);
    std::optional<fs::path> series;
    if (present(work / "series" / "series")) series = work / "series";
    build_code(s, row.software, to_version(), series, work / "code");
    host::write_file(work / "code-built", "", fs::perms::owner_read | fs::perms::owner_write);
  }, [work] {
    std::error_code ec;
    fs::remove(work / "code-built", ec);
    host::remove_tree(work / "code");
  }});

  job.steps.push_back({"migrate", [&s, name, work, to_version] {
    auto row = need_service(s, name);
    Recipe recipe = find_recipe(s.recipe_dirs, row.software, to_version());
    if (recipe.update.empty()) fail(ErrorKind::invalid, "{} has no database.update command", recipe.file.string());
    Code code = code_in(fetched_code(s, row.software, to_version()), work / "code");
    Layout l = layout(s, name, recipe);
    fs::path data = row.backend == "sqlite" ? work / "data" : l.data;
    fs::path config = work / recipe.config_name;
    auto v = vars_for(s, recipe, code, name, migration_db(name), data, config, static_cast<std::uint16_t>(row.port),
                      row.backend, split(row.modules, ','));
    host::write_file(config, render(recipe.config, v), fs::perms::owner_read | fs::perms::owner_write);
    // The migration runs the new code, which may carry the customer's series,
    // so as the service's user (run_admin): it reads its config and, on
    // SQLite, writes its copy here. Made its own only now, from root's
    // folders it could not reach before; the work folder is opened for
    // passing through (0711), each job's folder to its own group alone.
    auto account = host::find_user(row.user);
    if (!account) fail(ErrorKind::internal, "user {} vanished", row.user);
    host::chown_path(config, 0, account->gid);
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    if (row.backend == "sqlite") {
      host::chown_path(data / (migration_db(name) + ".sqlite"), account->uid, account->gid);
      host::chown_path(data, account->uid, account->gid);
    }
    host::chown_path(work, 0, account->gid);
    fs::permissions(work, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    fs::permissions(s.work_dir(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    core::logger("xoe")->info("migrating a copy of {}'s database to {}/{}", name, row.software, to_version());
    run_admin(recipe, recipe.update, v, l.password, work, row.user);
  }, {}});

  // A switch that fails half-way is undone by switch_back (run_or_undo).
  auto switch_back = [&s, name, work, from_version] {
    auto row = need_service(s, name);
    Layout l = layout(s, name, find_recipe(s.recipe_dirs, row.software, row.version));
    if (row.backend == "sqlite") {
      fs::path live = l.data / (row.database + ".sqlite");
      if (present(work / "old.sqlite")) {
        std::error_code ec;
        fs::remove(live, ec);
        fs::rename(work / "old.sqlite", live);
      }
    } else if (pg_database_exists(s, previous_db(name))) {
      pg_drop(s, row.database);
      psql(s, "ALTER DATABASE " + quote_ident(previous_db(name)) + " RENAME TO " + quote_ident(row.database));
    }
    fs::path dir = code_dir(s, name);
    if (present(work / "old-code") || present(work / "no-old-code")) {
      host::remove_tree(work / "code");
      if (present(dir)) fs::rename(dir, work / "code");
      if (present(work / "old-code")) fs::rename(work / "old-code", dir);
    }
    {
      auto db = registry::open(s);
      db.execute("UPDATE services SET version = ?1 WHERE name = ?2", from_version(), name);
    }
    row.version = from_version();
    write_service_files(s, row, row.version, dir);
  };
  auto switch_to_new = [&s, name, work, to_version] {
    auto row = need_service(s, name);
    Layout l = layout(s, name, find_recipe(s.recipe_dirs, row.software, row.version));
    // The database: the service's becomes the previous one, the migrated copy the service's.
    if (row.backend == "sqlite") {
      fs::path live = l.data / (row.database + ".sqlite"), mig = work / "data" / (migration_db(name) + ".sqlite");
      if (!present(work / "old.sqlite") && present(live)) fs::rename(live, work / "old.sqlite");
      if (present(mig)) fs::rename(mig, live);
      if (auto account = host::find_user(row.user)) host::chown_path(live, account->uid, account->gid);
    } else {
      if (!pg_database_exists(s, previous_db(name)) && pg_database_exists(s, row.database))
        psql(s, "ALTER DATABASE " + quote_ident(row.database) + " RENAME TO " + quote_ident(previous_db(name)));
      if (pg_database_exists(s, migration_db(name)))
        psql(s, "ALTER DATABASE " + quote_ident(migration_db(name)) + " RENAME TO " + quote_ident(row.database));
    }
    // The code: one rename each way.
    fs::path dir = code_dir(s, name);
    if (!present(work / "old-code") && !present(work / "no-old-code")) {
      if (present(dir)) {
        fs::rename(dir, work / "old-code");
      } else {  // a service made before each had its own copy
        host::write_file(work / "no-old-code", "", fs::perms::owner_read | fs::perms::owner_write);
      }
    }
    if (present(work / "code")) fs::rename(work / "code", dir);
    {
      auto db = registry::open(s);
      db.execute("UPDATE services SET version = ?1 WHERE name = ?2", to_version(), name);
    }
    row.version = to_version();
    write_service_files(s, row, row.version, dir);
  };
  job.steps.push_back(
      {"switch", [switch_to_new, switch_back] { run_or_undo(switch_to_new, switch_back, "switch"); }, switch_back});

  auto stop_new = [&s, name] {
    auto row = need_service(s, name);
    supervisor::down(s, name);
  };
  job.steps.push_back({"start", [&s, name, stop_new] {
    try {
      start_and_probe(s, need_service(s, name));
    } catch (...) {
      stop_new();  // a server that does not answer is not left running the new code
      throw;
    }
  }, stop_new});

  job.steps.push_back({"finish", [&s, name, work] {
    auto row = need_service(s, name);
    if (!present(work / "was-running"))
      supervisor::down(s, name);
    if (row.backend == "postgresql") {
      pg_drop(s, previous_db(name));
      pg_drop(s, migration_db(name));
    }
    host::remove_tree(work);
  }, {}});
  return job;
}

void check_target(const registry::ServiceRow& row, const std::string& to) {
  core::validate_version(to, "--to-version");
  if (to == row.version) fail(ErrorKind::invalid, "{} runs {}/{} already: use xoe service update", row.name, row.software, to);
  if (version_numbers(to) < version_numbers(row.version))
    fail(ErrorKind::invalid, "--to-version {}: older than {} ({} databases are not downgraded)", to, row.version,
         row.software);
}

}  // namespace

UpgradeCheck check_upgrade(const Settings& s, const std::string& name, const std::string& to) {
  auto row = need_service(s, name);
  check_target(row, to);
  (void)find_recipe(s.recipe_dirs, row.software, to);
  (void)fetched_code(s, row.software, to);
  UpgradeCheck c;
  c.service = name;
  c.from = row.software + "/" + row.version;
  c.to = row.software + "/" + to;
  auto series = service_series(s, name);
  if (!series) return c;
  auto onto = standard_ref(s, row.software, to);
  if (!onto) fail(ErrorKind::precondition, "{}/{} is not a standard version in poe's store", row.software, to);
  auto store = poe::Store::open(poe_store(s), poe::StoreMode::open_existing);
  auto report = poe::check_series(store, *series, *onto, {});
  c.base = report.base;
  c.onto = report.onto;
  for (const auto& p : report.patches) c.patches.push_back(verdict_of(p));
  return c;
}

UpdateResult update_service(const Settings& s, const UpdateRequest& rq) {
  auto t0 = std::chrono::steady_clock::now();
  auto row = need_service(s, rq.service);
  const fs::path work = work_of(s, rq.service);
  UpdateResult out;
  out.service = rq.service;
  out.software = row.software;

  bool unfinished = false;
  {
    auto db = registry::open(s);
    core::JobRunner jobs(db);
    auto j = jobs.find("service.update", "service:" + rq.service);
    unfinished = j && j->unfinished();
    if (!unfinished) refuse_other_jobs(jobs, rq.service, "service.update");
  }
  if (unfinished) {
    core::logger("xoe")->warn("resuming the unfinished update of {} (to {}/{})", rq.service, row.software,
                              read_trimmed(work / "to-version"));
    out.from_version = read_trimmed(work / "from-version");
    out.backup = read_trimmed(work / "backup");
  } else {
    if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", rq.service, row.state);
    std::string to = rq.to_version.value_or(row.version);
    Recipe recipe = find_recipe(s.recipe_dirs, row.software, to);
    if (!recipe.supports(row.backend))
      fail(ErrorKind::invalid, "{}/{} does not run on {}", row.software, to, row.backend);
    if (rq.patches) check_series_for(s, row.software, to, *rq.patches);
    std::optional<UpgradeCheck> check;
    if (rq.to_version) {
      if (rq.patches) fail(ErrorKind::invalid, "--patches is for update; upgrade adapts the service's series");
      check = check_upgrade(s, rq.service, to);
      out.patches = check->patches;
      if (check->blocked()) {
        std::string which;
        for (const auto& p : check->patches)
          if (p.status == "conflict" || p.status == "removed") which += (which.empty() ? "" : ", ") + p.name + " (" + p.status + ")";
        fail(ErrorKind::conflict, "upgrade of {} to {}/{} refused: {}", rq.service, row.software, to, which);
      }
    }
    // The backup first (its own job and lock), then the update under the service's lock.
    out.backup = backup_service(s, {rq.service, std::nullopt}).archive;

    host::make_dir(s.work_dir(), fs::perms::owner_all);
    host::remove_tree(work);
    host::make_dir(work, fs::perms::owner_all);
    auto fmode = fs::perms::owner_read | fs::perms::owner_write;
    host::write_file(work / "to-version", to + "\n", fmode);
    host::write_file(work / "from-version", row.version + "\n", fmode);
    host::write_file(work / "backup", out.backup.string() + "\n", fmode);
    Layout l = layout(s, rq.service, find_recipe(s.recipe_dirs, row.software, row.version));
    if (supervisor::status(s, rq.service).state == "run") host::write_file(work / "was-running", "", fmode);
    auto current = service_series(s, rq.service);
    if (rq.patches) {
      build_code(s, row.software, to, rq.patches, work / "code");  // a series that does not apply stops here
      host::write_file(work / "code-built", "", fmode);
    } else if (check && current) {
      auto store = poe::Store::open(poe_store(s), poe::StoreMode::open_existing);
      poe::AdaptRequest ar;
      ar.series = *current;
      ar.onto = check->onto;
      ar.output = work / "series";
      ar.workdir = work / "adapt";
      auto adapted = poe::adapt_series(store, ar);
      if (!adapted.complete) fail(ErrorKind::conflict, "the series of {} does not adapt to {}", rq.service, check->onto);
      out.dropped = adapted.dropped;
    } else if (current) {
      fs::copy(*current, work / "series", fs::copy_options::recursive);
    }
    out.from_version = row.version;
  }

  try {
    auto lock = core::FileLock::acquire(s.locks, "xoe.service." + rq.service);
    auto db = registry::open(s);
    core::JobRunner jobs(db);
    auto result = jobs.run(update_job(s, rq.service), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
    out.resumed = result.resumed;
  } catch (const core::Error& e) {
    bool rolled_back = true;
    {
      auto db = registry::open(s);
      core::JobRunner jobs(db);
      auto j = jobs.find("service.update", "service:" + rq.service);
      rolled_back = !j || j->status == core::JobStatus::rolled_back;
      std::error_code ec;
      if (fs::exists(work, ec) && (!j || !j->unfinished())) host::remove_tree(work);
    }
    // Only a rollback that finished is said to have happened (its failure is logged above).
    if (!rolled_back)
      throw core::Error(e.kind(), fmt::format("update of {} failed, and undoing it failed too: {}", rq.service,
                                              e.what()));
    throw core::Error(e.kind(), fmt::format("update of {} failed and was rolled back: {}", rq.service, e.what()));
  }
  out.to_version = need_service(s, rq.service).version;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  core::logger("xoe")->info("updated {} from {}/{} to {}/{} in {:.1f} s", rq.service, row.software, out.from_version,
                            row.software, out.to_version, out.seconds);
  return out;
}

}  // namespace xoe
