// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/service.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "code.hpp"
#include "admin.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/backup.hpp"
#include "xoe/monitor.hpp"
#include "xoe/recipe.hpp"
#include "xoe/software.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;

const std::vector<std::string>& roles() {
  static const std::vector<std::string> r = {"production", "training", "test", "student"};
  return r;
}

// Helpers shared with backup.cpp and copy.cpp (service_impl.hpp).
namespace detail {

// ---------------------------------------------------------------- names

std::string services_group(const Settings& s) {
  struct stat st {};
  if (::stat(s.state.c_str(), &st) == 0)
    if (auto legacy = host::find_group(std::string(legacy_services_group)); legacy && *legacy == st.st_gid)
      return std::string(legacy_services_group);
  return "oe-xoe-" + host::short_hash(s.root.string()).substr(0, 8);
}

std::string user_for(const std::string& name) {
  std::string u = "xoe-" + name;
  if (u.size() <= 32) return u;
  return "xoe-" + name.substr(0, 19) + "-" + host::short_hash(name).substr(0, 8);
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(1, sep)) + s;
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string template_name(const std::string& software, const std::string& version, const std::string& backend,
                          const std::vector<std::string>& modules) {
  std::string v = version;
  std::replace(v.begin(), v.end(), '.', '-');
  return "xoe-tpl-" + software + "-" + v + "-" + backend + "-" + host::short_hash(join(modules, ',')).substr(0, 8);
}

std::string probe_address(const Settings& s) { return s.listen == "0.0.0.0" ? "127.0.0.1" : s.listen; }

std::uint16_t first_free_port(const Settings& s, const std::set<std::int64_t>& taken) {
  for (std::int64_t p = s.port_min; p <= s.port_max; ++p)
    if (!taken.count(p) && host::port_free(s.listen, static_cast<std::uint16_t>(p))) return static_cast<std::uint16_t>(p);
  fail(ErrorKind::conflict, "no free port in {}..{}", s.port_min, s.port_max);
}

// ---------------------------------------------------------------- layout

Layout layout(const Settings& s, const std::string& name, const Recipe& recipe) {
  fs::path dir = s.services_dir() / name;
  return {dir, dir / recipe.config_name, dir / "admin-password", dir / "data", s.logs / name};
}

fs::path served_databases_file(const Settings& s, const std::string& name) {
  return s.services_dir() / name / "databases";
}

std::vector<std::string> served_databases(const Settings& s, const std::string& name) {
  std::vector<std::string> out;
  auto db = registry::open_existing(s);
  if (!db) return out;
  if (auto row = registry::find_service(*db, name)) out.push_back(row->database);
  auto students = db->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'students'");
  if (students.step()) {
    auto q = db->query("SELECT database FROM students WHERE service = ?1 ORDER BY database", name);
    while (q.step()) out.push_back(q.column_text(0));
  }
  return out;
}

void write_served_databases(const Settings& s, const std::string& name) {
  auto row = need_service(s, name);
  std::string text;
  for (const auto& d : served_databases(s, name)) text += d + "\n";
  fs::path file = served_databases_file(s, name);
  host::write_file(file, text, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  if (auto account = host::find_user(row.user)) host::chown_path(file, 0, account->gid);
}

// ---------------------------------------------------------------- PostgreSQL

std::string quote_ident(const std::string& id) {
  std::string out = "\"";
  for (char c : id) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string psql(const Settings& s, const std::string& sql, const std::string& database) {
  auto r = core::run(pg_command(s, {"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql}),
                     {.timeout = 300s, .env_extra = {{"PGCONNECT_TIMEOUT", "10"}}});
  return r.out;
}

std::string psql_script(const Settings& s, const std::string& script, const std::string& database) {
  auto r = core::run(pg_command(s, {"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"}),
                     {.timeout = 30min, .stdin_data = script, .env_extra = {{"PGCONNECT_TIMEOUT", "10"}}});
  return r.out;
}

void run_concurrently(const std::vector<std::function<void()>>& tasks) {
  std::vector<std::future<void>> running;
  for (const auto& task : tasks) running.push_back(std::async(std::launch::async, task));
  std::exception_ptr first;
  for (auto& r : running) {
    try {
      r.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

bool pg_database_exists(const Settings& s, const std::string& name) {
  std::string lit = "'";
  for (char c : name) lit += (c == '\'') ? std::string("''") : std::string(1, c);
  lit += "'";
  return psql(s, "SELECT 1 FROM pg_database WHERE datname = " + lit).find('1') != std::string::npos;
}

void pg_drop(const Settings& s, const std::string& name) {
  psql(s, "DROP DATABASE IF EXISTS " + quote_ident(name) + " WITH (FORCE)");
}

// ---------------------------------------------------------------- recipe commands

void set_mail(TemplateVars& v, const Settings& s, bool neutralised) {
  std::string uri = neutralised ? s.mail_catcher : s.mail_relay.empty() ? std::string(default_mail_relay) : s.mail_relay;
  v.vars["mail_uri"] = uri;
  // smtp://HOST:PORT, for recipes that want the parts (Odoo's smtp_server, smtp_port)
  std::string rest = uri.substr(uri.find("://") == std::string::npos ? 0 : uri.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  rest = rest.substr(rest.rfind('@') == std::string::npos ? 0 : rest.rfind('@') + 1);
  auto colon = rest.rfind(':');
  v.vars["mail_host"] = colon == std::string::npos ? rest : rest.substr(0, colon);
  v.vars["mail_port"] = colon == std::string::npos ? "25" : rest.substr(colon + 1);
}

TemplateVars vars_for(const Settings& s, const Recipe& recipe, const Code& code, const std::string& name,
                      const std::string& database, const fs::path& data, const fs::path& config,
                      std::uint16_t port, const std::string& backend, const std::vector<std::string>& modules) {
  TemplateVars v;
  v.modules = modules;
  v.vars = {{"name", name},
            {"software", recipe.software},
            {"version", recipe.version},
            {"python", recipe.python},
            {"code", code.code.string()},
            {"site", code.site.string()},
            {"config", config.string()},
            {"database", database},
            {"data", data.string()},
            {"port", std::to_string(port)},
            {"listen", s.listen},
            {"db_host", s.db_service_host},
            {"db_port", std::to_string(s.db_port)},
            {"admin_login", recipe.admin_login},
            {"modules_csv", join(modules, ',')},
            {"share", installed_data_dir().string()},
            // The guard of a Tryton server (docs/xoe.md): the service's
            // databases, which xoe writes, and the record of its last use,
            // which the server writes in its data folder.
            {"databases_file", served_databases_file(s, name).string()},
            {"last_use_file", (data / std::string(last_use_name)).string()},
            {"mail_catcher", s.mail_catcher},
            {"mail_from", s.mail_from},
            {"role", ""},
            {"copy_of", ""}};
  set_mail(v, s, false);
  // A service's server connects with its own role (pg.hpp); a template build as xoe-template.
  if (backend == "postgresql") {
    fs::path own = service_password_file(s, name);
    std::error_code ec;
    bool is_service = fs::exists(own, ec);
    fs::path pw = is_service ? own : template_password_file(s);
    v.vars["db_user"] = is_service ? service_role(name) : std::string(template_role);
    std::string secret = fs::exists(pw, ec) ? host::read_file(pw) : std::string();
    v.vars["db_password"] = secret.substr(0, secret.find('\n'));
  } else {
    v.vars["db_user"] = "";
    v.vars["db_password"] = "";
  }
  v.vars["db_uri"] = render(backend == "sqlite" ? recipe.uri_sqlite : recipe.uri_postgresql, v);
  return v;
}

std::map<std::string, std::string> server_env(const Recipe& recipe, const TemplateVars& v) {
  std::map<std::string, std::string> env;
  for (const auto& [k, t] : recipe.server_env) env[k] = render(t, v);
  return env;
}

// Runs one of the recipe's database commands as `user` (root for a template
// build) with the admin password from `password_file` (first line), as the
// recipe says. The password file is root's (0600): root reads it, and the
// command gets it on stdin, a sealed file in memory that the user can open
// again by name, so password_env names /dev/stdin (trytond-admin opens the
// file TRYTONPASSFILE names and reads one line) and nothing is written to disk.
void run_admin(const Recipe& recipe, const std::vector<std::string>& argv_template, const TemplateVars& v,
               const fs::path& password_file, const fs::path& cwd, const std::optional<std::string>& user) {
  auto argv = render_argv(argv_template, v);
  core::RunOptions opt;
  opt.timeout = 30min;
  opt.env_extra = server_env(recipe, v);
  opt.cwd = cwd;
  if (user) {
    auto account = host::find_user(*user);
    if (!account) fail(ErrorKind::internal, "user {} vanished", *user);
    opt.uid = account->uid;
    opt.gid = account->gid;
  }
  std::string pw = host::read_file(password_file);
  if (auto nl = pw.find('\n'); nl != std::string::npos) pw.resize(nl);
  if (!recipe.password_env.empty()) {
    opt.env_extra[recipe.password_env] = "/dev/stdin";
    opt.stdin_data = pw + "\n";
    opt.stdin_kind = core::RunOptions::Stdin::memory_file;
  } else {
    TemplateVars with = v;
    with.vars["password"] = pw;
    opt.stdin_data = render(recipe.password_stdin, with);
  }
  core::run(argv, opt);
}

std::vector<std::string> hash_passwords(const Recipe& recipe, const TemplateVars& v, const fs::path& cwd,
                                        const std::string& user, const std::vector<std::string>& passwords) {
  if (passwords.empty()) return {};
  if (recipe.students_hash.empty()) fail(ErrorKind::invalid, "{} has no students.hash command", recipe.file.string());
  std::string input;
  for (const auto& pw : passwords) input += pw + "\n";
  auto account = host::find_user(user);
  if (!account) fail(ErrorKind::internal, "user {} vanished", user);
  core::RunOptions opt;
  opt.timeout = 10min;
  opt.stdin_data = input;
  opt.env_extra = server_env(recipe, v);
  opt.cwd = cwd;
  opt.uid = account->uid;
  opt.gid = account->gid;
  auto r = core::run(render_argv(recipe.students_hash, v), opt);
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string hash; out.size() < passwords.size() && std::getline(lines, hash);) {
    // The hash goes into SQL between quotes: only the characters of crypt-style hashes.
    bool ok = !hash.empty();
    for (char c : hash)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("$./+=_-,").find(c) != std::string_view::npos);
    if (!ok)
      fail(ErrorKind::external, "{}: students.hash printed something that is not a password hash", recipe.file.string());
    out.push_back(hash);
  }
  if (out.size() != passwords.size())
    fail(ErrorKind::external, "{}: students.hash printed {} hashes for {} passwords", recipe.file.string(), out.size(),
         passwords.size());
  return out;
}

void set_admin_password(const Settings& s, const Recipe& recipe, const TemplateVars& v, const Layout& l,
                        const std::string& service, const std::string& user, const std::string& backend,
                        const std::string& database) {
  if (recipe.password_sql.empty()) return run_admin(recipe, recipe.set_password, v, l.password, l.dir, user);
  std::string pw = host::read_file(l.password);
  if (auto nl = pw.find('\n'); nl != std::string::npos) pw.resize(nl);
  TemplateVars with = v;
  with.vars["password_hash"] = hash_passwords(recipe, v, l.dir, user, {pw}).front();
  std::vector<std::string> sql;
  for (const auto& t : recipe.password_sql) sql.push_back(render(t, with));
  // As the service's user, the file opened by SQLite there (sqlite_file.hpp).
  if (backend == "sqlite") return sqlite_file::execute(user, l.data / (database + ".sqlite"), sql);
  std::string script = "\\set VERBOSITY terse\nBEGIN;\n";  // errors without the statement (a hash)
  for (const auto& q : sql) script += q + ";\n";
  script += "COMMIT;\n";
  // As the service's own role, in its own database (pg.hpp).
  psql_as(s, {service_login(s, service)}, database, script);
}

void wait_probe(const Settings& s, const Recipe& recipe, const std::string& name, std::uint16_t port,
                const fs::path& logs) {
  auto deadline = std::chrono::steady_clock::now() + probe_timeout;
  std::set<pid_t> pids;  // a server that keeps dying is reported at once, not after the timeout
  TemplateVars none;
  std::string path = render(recipe.probe_path, none), body = render(recipe.probe_body, none);
  for (;;) {
    auto a = host::http_post(probe_address(s), port, path, body, 2s);
    if (a && a->status == 200 && a->body.find(recipe.probe_expect) != std::string::npos) {
      // The answer must come from this service's server, not from another process on its port.
      // (/proc's process tree is read only when the server itself does not hold the socket.)
      auto st = supervisor::status(s, name);
      auto holders = st.pid ? host::port_holders(port) : std::set<pid_t>{};
      if (!holders.empty() && !holders.contains(*st.pid)) {
        auto ours = process_tree(*st.pid, read_process_parents());
        if (std::none_of(holders.begin(), holders.end(),
                         [&](pid_t h) { return std::find(ours.begin(), ours.end(), h) != ours.end(); }))
          fail(ErrorKind::conflict, "port {} of service {} is held by another process (pid {}), not by its server",
               port, name, *holders.begin());
      }
      return;
    }
    if (auto st = supervisor::status(s, name); st.pid) pids.insert(*st.pid);
    if (pids.size() > 3)
      fail(ErrorKind::external, "service {} keeps dying on start (log: {}/current)", name, logs.string());
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "service {} did not answer on port {} within {} s (log: {}/current)", name, port,
           probe_timeout.count(), logs.string());
    std::this_thread::sleep_for(200ms);
  }
}

// ---------------------------------------------------------------- templates

// The template database of (software, version, backend, modules), built
// once with the recipe's init (and activate) commands and kept. Built under
// a temporary name/folder and recorded last, so a failed build leaves
// nothing; the lock serialises builders.
void ensure_template(const Settings& s, const Recipe& recipe, const Code& code, const std::string& backend,
                     const std::vector<std::string>& modules, const std::string& tpl) {
  auto lock = core::FileLock::acquire(s.locks, "xoe.template." + tpl);
  auto log = core::logger("xoe");
  {
    auto db = registry::open(s);
    if (auto row = registry::find_template(db, tpl)) {
      // Recorded, and still there: kept. Gone (dropped by hand, a cluster
      // made anew, a folder removed): built again.
      std::error_code ec;
      bool present = backend == "sqlite" ? fs::exists(fs::path(row->location) / (tpl + ".sqlite"), ec)
                                         : pg_database_exists(s, tpl);
      if (present) return;
      log->warn("template database {} is recorded but missing: building it again", tpl);
      db.execute("DELETE FROM templates WHERE name = ?1", tpl);
    }
  }
  log->info("building template database {} (once)", tpl);
  auto dmode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
  host::make_dir(s.templates_dir(), dmode);
  if (backend == "postgresql") pg_ensure_role(s, std::string(template_role), template_password_file(s));
  fs::path work = s.templates_dir() / ("." + tpl + ".partial");
  host::remove_tree(work);
  host::make_dir(work, fs::perms::owner_all);
  fs::path config = work / recipe.config_name;
  auto v = vars_for(s, recipe, code, tpl, tpl, work, config, 0, backend, modules);
  try {
    host::write_file(config, render(recipe.config, v), fs::perms::owner_read | fs::perms::owner_write);
    // Its admin password is thrown away: each service sets its own.
    host::write_file(work / ".password", host::random_password() + "\n", fs::perms::owner_read | fs::perms::owner_write);
    if (backend == "sqlite") {
      host::write_file(work / (tpl + ".sqlite"), "", fs::perms::owner_read | fs::perms::owner_write);
    } else {
      pg_drop(s, tpl);
      psql_script(s, "CREATE DATABASE " + quote_ident(tpl) + " ENCODING 'UTF8' TEMPLATE template0;\n" +
                         seal_sql(tpl, std::string(template_role)));
    }
    // As root: the standard code as fetched (root's files, no customer's
    // series) on a new database that holds nothing of anyone (docs/xoe.md).
    run_admin(recipe, recipe.init, v, work / ".password", work, std::nullopt);
    if (!modules.empty()) {
      if (recipe.activate.empty()) fail(ErrorKind::invalid, "{} has no database.activate command", recipe.file.string());
      run_admin(recipe, recipe.activate, v, work / ".password", work, std::nullopt);
    }
    fs::remove(work / ".password");
    fs::remove(config);
    std::string location;
    if (backend == "sqlite") {
      fs::path final_dir = s.templates_dir() / tpl;
      host::remove_tree(final_dir);
      fs::rename(work, final_dir);
      location = final_dir.string();
    } else {
      host::remove_tree(work);
      location = "postgresql:" + tpl;
    }
    auto db = registry::open(s);
    db.execute("INSERT OR REPLACE INTO templates (name, software, version, backend, modules, location, created) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               tpl, recipe.software, recipe.version, backend, join(modules, ','), location, host::now_iso());
  } catch (...) {
    std::error_code ec;
    fs::remove_all(work, ec);
    if (backend == "postgresql") {
      try {
        pg_drop(s, tpl);
      } catch (const core::Error& e) {
        log->warn("cannot drop the partial template {}: {}", tpl, e.what());
      }
    }
    throw;
  }
}

// What a template build killed half-way (a `kill -9` of the create) left: its
// `.partial` folder, a SQLite template moved in place but not recorded, its
// database under the template's name. Removed when no registry row names
// the template, under the template's lock, so never a build in progress nor
// a template other services were made from. Idempotent.
void drop_unrecorded_template(const Settings& s, const std::string& backend, const std::string& tpl) {
  auto lock = core::FileLock::acquire(s.locks, "xoe.template." + tpl);
  {
    auto db = registry::open(s);
    if (registry::find_template(db, tpl)) return;
  }
  host::remove_tree(s.templates_dir() / ("." + tpl + ".partial"));
  if (backend == "sqlite") host::remove_tree(s.templates_dir() / tpl);
  if (backend == "postgresql" && !pg_cluster_absent(s) && pg_database_exists(s, tpl)) {
    core::logger("xoe")->info("dropping the half-built template database {}", tpl);
    pg_drop(s, tpl);
  }
}

// ---------------------------------------------------------------- the create job

void supervise(const Settings& s, const Layout& l, const Recipe& recipe, const TemplateVars& v,
               const std::string& user) {
  write_served_databases(s, v.vars.at("name"));
  supervisor::define(s, {v.vars.at("name"), user, services_group(s), render_argv(recipe.server_argv, v),
                         server_env(recipe, v), l.dir, l.logs});
}

core::Job create_job(const Settings& s, const Plan& p) {
  core::Job job{"service.create", "service:" + p.name, {}};
  auto registry_delete = [&s, p] {
    auto db = registry::open(s);
    db.execute("DELETE FROM services WHERE name = ?1 AND state = 'creating'", p.name);
  };
  job.steps.push_back({"register", [&s, p] {
    auto db = registry::open(s);
    if (registry::find_service(db, p.name)) return;  // resumed
    db.execute("INSERT INTO services (name, software, version, role, backend, database, port, user, modules, state, "
               "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'creating', ?10)",
               p.name, p.software, p.version, p.role, p.backend, p.database, p.port, p.user, join(p.modules, ','),
               host::now_iso());
  }, registry_delete});

  // The plan is complete only once registered: the undos below work from it
  // and tolerate steps that did not run.
  job.steps.push_back({"user", [&s, p] {
    host::ensure_group(services_group(s));
    if (!host::find_user(p.user)) host::create_user(p.user, services_group(s), s.services_dir() / p.name / "data");
  }, [p] { host::delete_user(p.user); }});

  job.steps.push_back({"files", [&s, p] {
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Code code = fetched_code(s, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    auto account = host::find_user(p.user);
    auto group = host::find_group(services_group(s));
    if (!account || !group) fail(ErrorKind::internal, "user {} vanished", p.user);
    // The service's user reaches its folder through the state folders, by group.
    // Traversal only (0710): a service's user cannot list the other services.
    auto gmode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
    auto tmode = fs::perms::owner_all | fs::perms::group_exec;
    // ROOT/var/lib/oe stays 0750, as core::Paths::prepare_for_writing sets it on every command.
    for (const auto& d : {s.state.parent_path(), s.state, s.services_dir()}) {
      host::make_dir(d, d == s.state.parent_path() ? gmode : tmode);
      host::chown_path(d, 0, *group);
    }
    host::make_dir(l.dir, gmode);
    host::chown_path(l.dir, 0, account->gid);
    host::make_dir(l.data, fs::perms::owner_all);
    host::chown_path(l.data, account->uid, account->gid);
    if (!fs::exists(l.password))  // kept on resume: it is printed at the end
      host::write_file(l.password, host::random_password() + "\n", fs::perms::owner_read | fs::perms::owner_write);
    // The password of its PostgreSQL role (the role step), in its config.
    fs::path db_password = service_password_file(s, p.name);
    if (p.backend == "postgresql" && !fs::exists(db_password))
      host::write_file(db_password, host::random_password() + "\n", fs::perms::owner_read | fs::perms::owner_write);
    auto v = vars_for(s, recipe, code, p.name, p.database, l.data, l.config, p.port, p.backend, p.modules);
    // A service that is not production sends its mail to the catcher from
    // the start, as after a copy into it (the recipe's neutralise.config).
    if (p.role != "production") set_mail(v, s, true);
    std::string config = render(recipe.config, v);
    if (p.role != "production") config += render(recipe.neutralise_config, v);
    host::write_file(l.config, config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    host::chown_path(l.config, 0, account->gid);
  }, [&s, p] { host::remove_tree(s.services_dir() / p.name); }});

  // Its own PostgreSQL role, which will own its database (pg.hpp).
  job.steps.push_back({"role", [&s, p] {
    if (p.backend == "postgresql") pg_ensure_role(s, service_role(p.name), service_password_file(s, p.name));
  }, [&s, p] {
    if (p.backend == "postgresql") pg_drop_role(s, service_role(p.name));
  }});

  // The service's own copy of the code: the standard, plus its series.
  job.steps.push_back({"code", [&s, p] {
    fs::path dir = code_dir(s, p.name), work = s.services_dir() / p.name / ".code.partial";
    std::error_code ec;
    if (fs::is_directory(dir / "tree", ec)) return;  // resumed
    build_code(s, p.software, p.version, p.patches, work);
    fs::rename(work, dir);
  }, [&s, p] {
    host::remove_tree(s.services_dir() / p.name / ".code.partial");
    host::remove_tree(code_dir(s, p.name));
  }});

  job.steps.push_back({"supervise", [&s, p] {
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Code code = service_code(s, p.name, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    auto v = vars_for(s, recipe, code, p.name, p.database, l.data, l.config, p.port, p.backend, p.modules);
    host::make_dir(l.logs, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    supervise(s, l, recipe, v, p.user);  // down until the start step
  }, [&s, p] {
    supervisor::release(s, p.name);
    host::remove_tree(s.logs / p.name);
  }});

  job.steps.push_back({"template", [&s, p] {
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Code code = fetched_code(s, p.software, p.version);
    ensure_template(s, recipe, code, p.backend, p.modules, template_name(p.software, p.version, p.backend, p.modules));
  }, [&s, p] {
    // A built template is kept for the next service; a half-built one goes.
    drop_unrecorded_template(s, p.backend, template_name(p.software, p.version, p.backend, p.modules));
  }});

  job.steps.push_back({"database", [&s, p] {
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    std::string tpl = template_name(p.software, p.version, p.backend, p.modules);
    auto account = host::find_user(p.user);
    if (!account) fail(ErrorKind::internal, "user {} vanished", p.user);
    if (p.backend == "sqlite") {
      fs::path to = l.data / (p.database + ".sqlite"), tmp = l.data / (p.database + ".sqlite.tmp");
      fs::copy_file(s.templates_dir() / tpl / (tpl + ".sqlite"), tmp, fs::copy_options::overwrite_existing);
      fs::rename(tmp, to);
      host::chown_path(to, account->uid, account->gid);
    } else {
      pg_drop(s, p.database);  // a copy a killed run left
      psql_script(s, "CREATE DATABASE " + quote_ident(p.database) + " TEMPLATE " + quote_ident(tpl) + ";\n" +
                         seal_sql(p.database, service_role(p.name)));
      pg_hand_over(s, {{p.database, service_role(p.name)}}, {std::string(template_role)});
    }
  }, [&s, p] {
    if (p.backend == "postgresql") pg_drop(s, p.database);
    std::error_code ec;
    fs::remove(s.services_dir() / p.name / "data" / (p.database + ".sqlite"), ec);
  }});

  // A series may change the modules' data and schema: the database is
  // updated with the service's code (the recipe's update command).
  job.steps.push_back({"update", [&s, p] {
    if (p.finish == CreateFinish::for_restore || !service_series(s, p.name)) return;
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Code code = service_code(s, p.name, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    auto v = vars_for(s, recipe, code, p.name, p.database, l.data, l.config, p.port, p.backend, p.modules);
    if (recipe.update.empty()) fail(ErrorKind::invalid, "{} has no database.update command", recipe.file.string());
    run_admin(recipe, recipe.update, v, l.password, l.dir, p.user);
  }, {}});

  job.steps.push_back({"password", [&s, p] {
    if (p.finish == CreateFinish::for_restore) return;  // the restore's password step sets it on its database
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Code code = service_code(s, p.name, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    auto v = vars_for(s, recipe, code, p.name, p.database, l.data, l.config, p.port, p.backend, p.modules);
    set_admin_password(s, recipe, v, l, p.name, p.user, p.backend, p.database);
    auto account = host::find_user(p.user);
    if (account) host::chown_tree(l.data, account->uid, account->gid);  // files the admin run made
  }, {}});

  job.steps.push_back({"start", [&s, p] {
    if (p.finish == CreateFinish::for_restore) return;  // the restore's start step starts it
    Recipe recipe = find_recipe(s.recipe_dirs, p.software, p.version);
    Layout l = layout(s, p.name, recipe);
    supervisor::up(s, p.name);
    wait_probe(s, recipe, p.name, p.port, l.logs);
  }, [&s, p] { supervisor::down(s, p.name); }});

  job.steps.push_back({"ready", [&s, p] {
    auto db = registry::open(s);
    db.execute("UPDATE services SET state = 'ready' WHERE name = ?1", p.name);
  }, {}});
  return job;
}

Plan plan_from_row(const registry::ServiceRow& r) {
  return {r.name, r.software, r.version, r.role, r.backend, r.database, r.user,
          static_cast<std::uint16_t>(r.port), split(r.modules, ',')};
}

ServiceInfo info_from_row(const Settings& s, const registry::ServiceRow& r, bool with_state) {
  ServiceInfo i;
  i.name = r.name;
  i.software = r.software;
  i.version = r.version;
  i.role = r.role;
  i.backend = r.backend;
  i.database = r.database;
  i.port = static_cast<std::uint16_t>(r.port);
  i.url = fmt::format("http://{}:{}/", probe_address(s), r.port);
  i.user = r.user;
  i.modules = split(r.modules, ',');
  i.state = r.state;
  try {
    i.admin_login = find_recipe(s.recipe_dirs, r.software, r.version).admin_login;
  } catch (const core::Error&) {
    i.admin_login = "admin";
  }
  if (with_state && r.state == "ready") {
    auto st = supervisor::status(s, r.name);
    i.state = st.state;
    i.pid = st.pid;
    i.seconds = st.seconds;
  }
  if (with_state)
    if (auto kind = supervisor::entry_kind(s, r.name)) i.supervisor = kind_name(*kind);
  return i;
}

registry::ServiceRow need_service(const Settings& s, const std::string& name) {
  core::validate_label(name, "service name");
  auto db = registry::open_existing(s);
  std::optional<registry::ServiceRow> row;
  if (db) row = registry::find_service(*db, name);
  if (!row) fail(ErrorKind::not_found, "no service {}", name);
  return *row;
}

void validate_module(const std::string& m) {
  bool ok = !m.empty() && m.size() <= 64;
  for (char c : m) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) fail(ErrorKind::invalid, "module name '{}': only a-z, 0-9 and '_'", core::escape_for_display(m));
}

}  // namespace detail

using namespace detail;

CreatePlan plan_create(const Settings& s, const CreateRequest& rq) {
  core::validate_label(rq.name, "service name");
  if (!core::is_label(rq.software)) fail(ErrorKind::invalid, "--software '{}': not a software name", core::escape_for_display(rq.software));
  core::validate_version(rq.version, "--version");
  if (std::find(roles().begin(), roles().end(), rq.role) == roles().end())
    fail(ErrorKind::invalid, "--role '{}': one of production, training, test, student", core::escape_for_display(rq.role));
  std::vector<std::string> modules = rq.modules;
  for (const auto& m : modules) validate_module(m);
  std::sort(modules.begin(), modules.end());
  modules.erase(std::unique(modules.begin(), modules.end()), modules.end());
  Recipe recipe = find_recipe(s.recipe_dirs, rq.software, rq.version);
  std::string backend = rq.backend.empty() ? s.default_backend : rq.backend;
  if (backend != "sqlite" && backend != "postgresql")
    fail(ErrorKind::invalid, "--db-backend '{}': postgresql or sqlite", core::escape_for_display(backend));
  if (!recipe.supports(backend))
    fail(ErrorKind::invalid, "{}/{} does not run on {}", recipe.software, recipe.version, backend);
  Code code = fetched_code(s, rq.software, rq.version);
  if (rq.patches) {
    check_series_for(s, rq.software, rq.version, *rq.patches);
  } else {  // a series may add modules of its own
    for (const auto& m : modules) {
      std::error_code ec;
      bool found = recipe.modules_dirs.empty();
      for (const auto& d : recipe.modules_dirs)
        found = found || fs::exists(code.standard / d / m / recipe.module_marker, ec);
      if (!found)
        fail(ErrorKind::not_found,
             "module '{}' is not in {}/{} as fetched ({}'s [source] says what is fetched; if it lists the module now, "
             "xoe software fetch {}/{} --refresh)",
             m, rq.software, rq.version, recipe.file.string(), rq.software, rq.version);
    }
  }

  CreatePlan plan;
  auto db = registry::open_existing(s);
  std::optional<registry::ServiceRow> row;
  if (db) row = registry::find_service(*db, rq.name);
  if (row) {
    if (row->state != "creating") fail(ErrorKind::conflict, "service {} exists", rq.name);
    bool same = row->software == rq.software && row->version == rq.version && row->role == rq.role &&
                row->backend == backend && row->modules == join(modules, ',') &&
                (!rq.port || *rq.port == row->port);
    if (!same)
      fail(ErrorKind::conflict, "an unfinished creation of {} with other settings exists: xoe service remove {} rolls "
                                "it back", rq.name, rq.name);
    plan.resume = true;
    plan.service = info_from_row(s, *row, false);
  } else {
    std::string user = user_for(rq.name);
    if (host::find_user(user)) fail(ErrorKind::conflict, "system user {} exists already", user);
    std::set<std::int64_t> taken;
    if (db) {
      auto q = db->query("SELECT port FROM services");
      while (q.step()) taken.insert(q.column_int64(0));
    }
    std::uint16_t port = 0;
    if (rq.port) {
      if (*rq.port < 1024) fail(ErrorKind::invalid, "--port {}: below 1024", *rq.port);
      if (taken.count(*rq.port)) fail(ErrorKind::conflict, "port {} is given to another service", *rq.port);
      if (!host::port_free(s.listen, *rq.port)) fail(ErrorKind::conflict, "port {} is in use", *rq.port);
      port = *rq.port;
    } else {
      port = first_free_port(s, taken);
    }
    // (xoe's own cluster not made yet has no database: a dry run does not make it)
    if (backend == "postgresql" && !pg_cluster_absent(s) && pg_database_exists(s, rq.name))
      fail(ErrorKind::conflict, "PostgreSQL database {} exists already", rq.name);
    registry::ServiceRow r{rq.name, rq.software, rq.version, rq.role, backend, rq.name, user,
                           join(modules, ','), "planned", {}, port};
    plan.service = info_from_row(s, r, false);
  }
  plan.template_name = template_name(rq.software, rq.version, backend, modules);
  if (db) plan.template_exists = registry::find_template(*db, plan.template_name).has_value();
  return plan;
}

Created create_service(const Settings& s, const CreateRequest& rq) {
  return detail::create_service(s, rq, CreateFinish::start);
}

namespace detail {

Created create_service(const Settings& s, const CreateRequest& rq, CreateFinish finish) {
  core::validate_label(rq.name, "service name");
  host::make_dir(s.state, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + rq.name);
  CreatePlan cp = plan_create(s, rq);
  const ServiceInfo& i = cp.service;
  Plan p{i.name, i.software, i.version, i.role, i.backend, i.database, i.user, i.port, i.modules, rq.patches, finish};
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  auto result = jobs.run(create_job(s, p), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  if (p.role == "production" && s.mail_relay.empty())
    core::logger("xoe")->warn("no mail relay is configured (mail.relay): the mail of {} goes to {}, which must "
                              "take it for the mail to leave this host",
                              p.name, default_mail_relay);
  Created c;
  c.resumed = result.resumed;
  c.service = show_service(s, rq.name);
  std::string pw = host::read_file(s.services_dir() / rq.name / "admin-password");
  if (!pw.empty() && pw.back() == '\n') pw.pop_back();
  c.admin_password = pw;
  return c;
}

}  // namespace detail

std::vector<ServiceInfo> list_services(const Settings& s) {
  auto db = registry::open_existing(s);
  std::vector<ServiceInfo> out;
  if (!db) return out;
  for (const auto& r : registry::all_services(*db)) out.push_back(info_from_row(s, r, true));
  return out;
}

ServiceInfo show_service(const Settings& s, const std::string& name) {
  return info_from_row(s, need_service(s, name), true);
}

ServiceInfo start_service(const Settings& s, const std::string& name) {
  auto row = need_service(s, name);
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  if (row.state == "dropped")
    fail(ErrorKind::conflict, "service {} has no database (xoe db drop): xoe db create {} makes a new one", name, name);
  if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", name, row.state);
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  Layout l = layout(s, name, recipe);
  auto port = static_cast<std::uint16_t>(row.port);
  // Another process on the port: refused, the service left as it was (its server could not listen).
  if (supervisor::status(s, name).state != "run" && !host::port_free(s.listen, port)) {
    auto holders = host::port_holders(port);
    fail(ErrorKind::conflict, "port {} of service {} is in use by another process{}", port, name,
         holders.empty() ? std::string() : fmt::format(" (pid {})", *holders.begin()));
  }
  supervisor::up(s, name);
  wait_probe(s, recipe, name, port, l.logs);
  return show_service(s, name);
}

ServiceInfo stop_service(const Settings& s, const std::string& name) {
  auto row = need_service(s, name);
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  if (row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", name, row.state);
  supervisor::down(s, name);
  return show_service(s, name);
}

ServiceInfo restart_service(const Settings& s, const std::string& name) {
  stop_service(s, name);
  return start_service(s, name);
}

std::vector<SupervisorMove> migrate_supervisor(const Settings& s) {
  std::vector<SupervisorMove> out;
  const std::string to(kind_name(supervisor_kind(s)));
  auto moved = [&](const std::string& name, const supervisor::PendingMove& m) {
    out.push_back({name, std::string(kind_name(m.from)), to, m.running});
  };
  if (auto m = pg_move_cluster(s)) moved(std::string(cluster_service_name), *m);
  auto db = registry::open_existing(s);
  if (!db) return out;
  for (const auto& row : registry::all_services(*db)) {
    // An unfinished creation moves when it is resumed (its `supervise` step).
    if (row.state != "ready" && row.state != "dropped") continue;
    auto m = supervisor::pending_move(s, row.name);
    if (!m) continue;
    auto lock = core::FileLock::acquire(s.locks, "xoe.service." + row.name);
    Service svc = load_service(s, row.name);
    supervise(s, svc.l, svc.recipe, service_vars(s, svc, row), row.user);
    if (m->running) wait_probe(s, svc.recipe, row.name, static_cast<std::uint16_t>(row.port), svc.l.logs);
    moved(row.name, *m);
  }
  return out;
}

Removed remove_service(const Settings& s, const std::string& name) {
  core::validate_label(name, "service name");
  auto lock = core::FileLock::acquire(s.locks, "xoe.service." + name);
  auto existing = registry::open_existing(s);
  if (!existing) fail(ErrorKind::not_found, "no service {}", name);
  existing.reset();
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  auto row = registry::find_service(db, name);
  auto create = jobs.find("service.create", "service:" + name);
  if (create && create->unfinished()) {
    // A creation that was killed: roll it back with its own compensations.
    Plan p = row ? plan_from_row(*row) : Plan{name, "", "", "", "", name, user_for(name), 0, {}};
    jobs.rollback(create_job(s, p));
    return {name, true, list_backups(s, name).size()};
  }
  if (!row) fail(ErrorKind::not_found, "no service {}", name);
  Plan p = plan_from_row(*row);
  db.execute("UPDATE services SET state = 'removing' WHERE name = ?1", name);
  core::Job job{"service.remove", "service:" + name, {}};
  job.steps.push_back({"supervisor", [&s, p] { supervisor::release(s, p.name); }, {}});
  job.steps.push_back({"database", [&s, p] {
    // The students' copies it serves (xoe students) go with it.
    std::vector<std::string> copies;
    {
      auto d = registry::open(s);
      auto q = d.query("SELECT database FROM students WHERE service = ?1", p.name);
      while (q.step()) copies.push_back(q.column_text(0));
    }
    if (p.backend == "postgresql") {
      for (const auto& c : copies) pg_drop(s, c);
      pg_drop(s, p.database);
      pg_drop_role(s, service_role(p.name));
    }
    auto d = registry::open(s);
    d.execute("DELETE FROM students WHERE service = ?1", p.name);
  }, {}});
  job.steps.push_back({"files", [&s, p] {
    host::remove_tree(s.services_dir() / p.name);
    host::remove_tree(s.logs / p.name);
  }, {}});
  job.steps.push_back({"user", [p] { host::delete_user(p.user); }, {}});
  job.steps.push_back({"unregister", [&s, p] {
    auto d = registry::open(s);
    d.execute("DELETE FROM services WHERE name = ?1", p.name);
  }, {}});
  jobs.run(job, core::JobPolicy::resume);
  return {name, false, list_backups(s, name).size()};
}

}  // namespace xoe
