// SPDX-License-Identifier: GPL-3.0-or-later
#include "replace.hpp"

#include "admin.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "code.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::detail {

using core::ErrorKind;
using core::fail;

fs::path work_dir(const Settings& s, const std::string& target) { return s.work_dir() / target; }
fs::path new_data(const Settings& s, const std::string& target) { return work_dir(s, target) / "new-data"; }
static fs::path old_data(const Settings& s, const std::string& target) { return work_dir(s, target) / "old-data"; }

// Labels are at most 63 characters, like PostgreSQL names: a hash keeps these short.
std::string new_database(const std::string& target) { return "xoe-new-" + host::short_hash(target); }
std::string old_database(const std::string& target) { return "xoe-old-" + host::short_hash(target); }

void fresh_work_dir(const Settings& s, const std::string& target) {
  host::make_dir(s.work_dir(), fs::perms::owner_all);
  host::remove_tree(work_dir(s, target));
  host::make_dir(work_dir(s, target), fs::perms::owner_all);
}

void discard_prepared(const Settings& s, const std::string& target) {
  auto row = [&] {
    auto db = registry::open(s);
    return registry::find_service(db, target);
  }();
  // The old data, code or database still in the work folder means a swap
  // that was not undone: they may be the only copy, and are never removed here.
  std::error_code ec;
  for (const char* kept : {"old-data", "old-code"})
    if (fs::exists(fs::symlink_status(work_dir(s, target) / kept, ec)))
      fail(ErrorKind::conflict, "not discarding the work folder of {}: it holds the service's {} ({}), which a swap "
           "left; run the command again to finish it", target, kept, (work_dir(s, target) / kept).string());
  if (row && row->backend == "postgresql") {
    if (pg_database_exists(s, old_database(target)))
      fail(ErrorKind::conflict, "not discarding the work of {}: its old database is kept as {}, which a swap left; "
           "run the command again to finish it", target, old_database(target));
    pg_drop(s, new_database(target));
  }
  host::remove_tree(work_dir(s, target));
}

void rename_attachments(const Settings& s, const std::string& target, const std::string& from, const std::string& to) {
  if (from == to) return;
  fs::path nd = new_data(s, target);
  std::error_code ec;
  if (fs::is_directory(nd / from, ec)) {
    host::remove_tree(nd / to);
    fs::rename(nd / from, nd / to);
  }
}

void refuse_other_jobs(core::JobRunner& jobs, const std::string& target, const std::string& kind) {
  for (const char* other :
       {"service.restore", "db.copy", "service.config", "db.rename", "db.drop", "db.create", "service.update"}) {
    if (kind == other) continue;
    auto j = jobs.find(other, "service:" + target);
    if (j && j->unfinished())
      fail(ErrorKind::conflict, "an unfinished {} of {} exists: run it again to finish it", other, target);
  }
}

void neutralise(const Settings& s, const std::string& name, const std::string& copy_of) {
  auto row = need_service(s, name);
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  Code code = service_code(s, name, row.software, row.version);
  Layout l = layout(s, name, recipe);
  auto modules = split(row.modules, ',');
  auto v = vars_for(s, recipe, code, name, row.database, l.data, l.config, static_cast<std::uint16_t>(row.port),
                    row.backend, modules);
  v.vars["role"] = row.role;
  v.vars["copy_of"] = copy_of;
  std::vector<std::string> sql;
  for (const auto& t : recipe.neutralise_sql) sql.push_back(render(t, v));
  if (row.backend == "sqlite") {
    sqlite_file::execute(row.user, l.data / (row.database + ".sqlite"), sql);
  } else {
    // As the service's own role: a trigger on these tables runs with its rights alone.
    std::string all = "BEGIN;\n";
    for (const auto& q : sql) all += q + ";\n";
    psql_as(s, {service_login(s, name)}, row.database, all + "COMMIT;\n");
  }
  if (!recipe.neutralise_argv.empty())
    run_admin(recipe, recipe.neutralise_argv, v, l.password, l.dir, row.user);
  // The config as create wrote it, its mail to the catcher, plus the recipe's
  // neutralisation. The service's own settings (xoe service config set) stay.
  set_mail(v, s, true);
  std::string config =
      with_stored_settings(s, name, row.software, render(recipe.config, v) + render(recipe.neutralise_config, v));
  host::write_file(l.config, config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  if (auto account = host::find_user(row.user)) host::chown_path(l.config, 0, account->gid);
  core::logger("xoe")->info("neutralised {} ({} copy of {})", name, row.role, copy_of);
}

namespace {

void start(const Settings& s, const Service& t) {
  supervisor::up(s, t.row.name);
  wait_probe(s, t.recipe, t.row.name, static_cast<std::uint16_t>(t.row.port), t.l.logs);
}

void chown_data(const Service& t) {
  if (auto account = host::find_user(t.row.user)) host::chown_tree(t.l.data, account->uid, account->gid);
}

}  // namespace

void run_or_undo(const std::function<void()>& action, const std::function<void()>& undo, std::string_view what) {
  try {
    action();
  } catch (const std::exception& failure) {
    try {
      undo();
    } catch (const std::exception& e) {
      auto kind = ErrorKind::failed;
      if (const auto* err = dynamic_cast<const core::Error*>(&failure)) kind = err->kind();
      throw core::StepHalfDone(kind, fmt::format("{}; undoing the half-done {} failed too: {}; nothing else was undone "
                                                 "(run the command again to finish it)",
                                                 failure.what(), what, e.what()));
    }
    throw;
  }
}

void add_replace_steps(core::Job& job, const Settings& s, const Replacement& r) {
  job.steps.push_back({"stop", [&s, r] {
    Service t = load_service(s, r.target);
    supervisor::down(s, t.row.name);
  }, [&s, r] {
    Service t = load_service(s, r.target);
    if (t.row.state == "ready") start(s, t);
  }});

  // A swap that fails half-way is undone by the same code as the rollback's:
  // renames only, the exact inverse of the swap's, so that an undo never
  // removes data (the new data goes back to where the prepare step left it,
  // and a resumed job swaps it in again).
  auto swap_back = [&s, r] {
    Service t = load_service(s, r.target);
    fs::path od = old_data(s, r.target), nd = new_data(s, r.target);
    fs::path oc = work_dir(s, r.target) / "old-code", nc = work_dir(s, r.target) / "code", dir = code_dir(s, r.target);
    std::error_code ec;
    auto put_back = [&](const fs::path& live, const fs::path& old, const fs::path& fresh) {
      if (!fs::exists(fs::symlink_status(old, ec))) return;
      if (fs::exists(fs::symlink_status(live, ec))) {
        if (!fs::exists(fs::symlink_status(fresh, ec))) {
          fs::rename(live, fresh);
        } else {
          host::remove_tree(live);  // made by the swap after the fresh one was moved: empty
        }
      }
      fs::rename(old, live);
    };
    put_back(t.l.data, od, nd);
    put_back(dir, oc, nc);
    if (t.row.backend == "postgresql" && pg_database_exists(s, old_database(r.target))) {
      if (pg_database_exists(s, t.row.database)) {
        if (!pg_database_exists(s, new_database(r.target))) {
          psql(s, "ALTER DATABASE " + quote_ident(t.row.database) + " RENAME TO " + quote_ident(new_database(r.target)));
        } else {
          pg_drop(s, t.row.database);
        }
      }
      psql(s, "ALTER DATABASE " + quote_ident(old_database(r.target)) + " RENAME TO " + quote_ident(t.row.database));
    }
  };
  auto swap = [&s, r] {
    Service t = load_service(s, r.target);
    fs::path od = old_data(s, r.target), nd = new_data(s, r.target);
    std::error_code ec;
    if (!fs::exists(od, ec) && fs::exists(t.l.data, ec)) fs::rename(t.l.data, od);
    if (fs::exists(nd, ec)) fs::rename(nd, t.l.data);
    host::make_dir(t.l.data, fs::perms::owner_all);
    chown_data(t);
    // The code, when the prepare step built one (a restore of an archive whose series differs).
    fs::path nc = work_dir(s, r.target) / "code", oc = work_dir(s, r.target) / "old-code", dir = code_dir(s, r.target);
    if (fs::exists(nc, ec)) {
      if (!fs::exists(oc, ec) && fs::exists(dir, ec)) fs::rename(dir, oc);
      fs::rename(nc, dir);
    }
    if (t.row.backend == "postgresql") {
      std::string nw = new_database(r.target), old = old_database(r.target);
      if (!pg_database_exists(s, old) && pg_database_exists(s, t.row.database))
        psql(s, "ALTER DATABASE " + quote_ident(t.row.database) + " RENAME TO " + quote_ident(old));
      if (pg_database_exists(s, nw))
        psql(s, "ALTER DATABASE " + quote_ident(nw) + " RENAME TO " + quote_ident(t.row.database));
    }
  };
  std::string what = "swap (the old data is kept in " + old_data(s, r.target).string() + ")";
  job.steps.push_back({"swap", [swap, swap_back, what] { run_or_undo(swap, swap_back, what); }, swap_back});

  // The database carries the admin password of its source: the service keeps its own.
  job.steps.push_back({"password", [&s, r] {
    Service t = load_service(s, r.target);
    Code code = service_code(s, t.row.name, t.row.software, t.row.version);
    auto v = vars_for(s, t.recipe, code, t.row.name, t.row.database, t.l.data, t.l.config,
                      static_cast<std::uint16_t>(t.row.port), t.row.backend, split(t.row.modules, ','));
    chown_data(t);  // a SQLite file is changed by its user
    set_admin_password(s, t.recipe, v, t.l, t.row.name, t.row.user, t.row.backend, t.row.database);
    chown_data(t);
  }, {}});

  job.steps.push_back({"neutralise", [&s, r] {
    Service t = load_service(s, r.target);
    if (t.row.role != "production") neutralise(s, r.target, r.copy_of);
    chown_data(t);
  }, {}});

  job.steps.push_back({"start", [&s, r] { start(s, load_service(s, r.target)); }, [&s, r] {
    Service t = load_service(s, r.target);
    supervisor::down(s, t.row.name);
  }});

  job.steps.push_back({"finish", [&s, r] {
    Service t = load_service(s, r.target);
    {
      auto db = registry::open(s);
      db.execute("UPDATE services SET modules = ?1 WHERE name = ?2", join(r.modules, ','), r.target);
    }
    if (t.row.backend == "postgresql") {
      pg_drop(s, old_database(r.target));
      pg_drop(s, new_database(r.target));
    }
    host::remove_tree(work_dir(s, r.target));
  }, {}});
}

}  // namespace xoe::detail
