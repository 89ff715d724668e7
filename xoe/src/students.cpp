// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/students.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/tree.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "admin.hpp"
#include "code.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/recipe.hpp"
#include "xoe/software.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

std::vector<std::string> numbered_students(int count) {
  if (count < 1 || count > max_students)
    fail(ErrorKind::invalid, "--students {}: between 1 and {}", count, max_students);
  int width = std::max(2, static_cast<int>(std::to_string(count).size()));
  std::vector<std::string> out;
  for (int i = 1; i <= count; ++i) out.push_back(fmt::format("student{:0{}}", i, width));
  return out;
}

std::vector<std::string> read_student_list(const fs::path& file) {
  std::error_code ec;
  std::ifstream in(file);
  if (!fs::is_regular_file(file, ec) || !in) fail(ErrorKind::invalid, "--list {}: cannot read it", file.string());
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::string login = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    try {
      core::validate_label(login, "login");
    } catch (const core::Error& e) {
      fail(ErrorKind::invalid, "{}:{}: {}", file.string(), n, e.what());
    }
    if (!seen.insert(login).second)
      fail(ErrorKind::invalid, "{}:{}: login '{}' is listed twice", file.string(), n, login);
    if (out.size() == max_students)
      fail(ErrorKind::invalid, "{}:{}: more than {} students", file.string(), n, max_students);
    out.push_back(login);
  }
  if (out.empty()) fail(ErrorKind::invalid, "{}: no login in it", file.string());
  return out;
}

std::string student_database(const std::string& prefix, const std::string& group, const std::string& login,
                             const std::string& suffix) {
  std::string name = prefix + "-" + group + "-" + login + suffix;
  if (!core::is_label(name))
    fail(ErrorKind::invalid, "database name '{}' ({} characters): a label of at most 63 characters is needed; "
                             "choose a shorter group or login",
         core::escape_for_display(name, 80), name.size());
  return name;
}

namespace {

using Clock = std::chrono::steady_clock;

// What a job makes: the student databases, each copied from a service.
struct GroupPlan {
  std::string kind;  // the job: students.disseminate or students.copy
  std::string group;
  std::vector<StudentDatabase> copies;

  // The services that serve the copies.
  [[nodiscard]] std::vector<std::string> services() const { return distinct(&StudentDatabase::service); }
  // The services whose databases are copied.
  [[nodiscard]] std::vector<std::string> sources() const { return distinct(&StudentDatabase::source); }

 private:
  [[nodiscard]] std::vector<std::string> distinct(std::string StudentDatabase::*field) const {
    std::vector<std::string> out;
    for (const auto& c : copies)
      if (std::find(out.begin(), out.end(), c.*field) == out.end()) out.push_back(c.*field);
    std::sort(out.begin(), out.end());
    return out;
  }
};

using Passwords = std::map<std::string, std::string>;  // login -> password

// Not a label: no service's work folder can have this name.
fs::path group_dir(const Settings& s, const std::string& group) { return s.work_dir() / ("group." + group); }
fs::path passwords_file(const Settings& s, const std::string& group) { return group_dir(s, group) / "passwords"; }
fs::path hashes_file(const Settings& s, const std::string& group) { return group_dir(s, group) / "hashes"; }
fs::path drain_marker(const Settings& s, const std::string& group, const std::string& service) {
  return group_dir(s, group) / (service + ".drained");
}
fs::path credentials_file(const Settings& s, const std::string& service, const std::string& group,
                          const std::string& kind) {
  return s.services_dir() / service / "students" / (group + "." + kind + ".credentials");
}

constexpr auto private_file = fs::perms::owner_read | fs::perms::owner_write;

std::string url_of(const Settings& s, const registry::ServiceRow& row, const std::string& database) {
  return fmt::format("http://{}:{}/{}/", probe_address(s), row.port, database);
}

std::vector<StudentDatabase> rows_of(core::sqlite::Database& db, const std::optional<std::string>& group) {
  std::vector<StudentDatabase> out;
  auto exists = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'students'");
  if (!exists.step()) return out;
  std::string sql = "SELECT group_name, login, kind, service, database, state, created FROM students";
  auto q = group ? db.query(sql + " WHERE group_name = ?1 ORDER BY group_name, login, kind", *group)
                 : db.query(sql + " ORDER BY group_name, login, kind");
  while (q.step())
    out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_text(3), q.column_text(4), "",
                   q.column_text(5), q.column_text(6), "", ""});
  return out;
}

// A source service with what its commands need: its own code (the
// standard plus its series), which its server runs on the copies too.
struct Source : Service {
  Code code;
};

Source source_of(const Settings& s, const std::string& service) {
  Service svc = load_service(s, service);
  Code code = service_code(s, service, svc.row.software, svc.row.version);
  return {svc, code};
}

// The recipe's placeholders for one student database served by `src`, a copy of `copy_of`'s.
TemplateVars vars_of(const Settings& s, const Source& src, const std::string& database, const std::string& copy_of) {
  auto v = vars_for(s, src.recipe, src.code, src.row.name, database, src.l.data, src.l.config,
                    static_cast<std::uint16_t>(src.row.port), src.row.backend, split(src.row.modules, ','));
  v.vars["role"] = "student";
  v.vars["copy_of"] = copy_of;
  return v;
}


// The recipe's students.hash, run once for every password (on stdin, never
// in argv) as the service's user (hash_passwords); returns login -> hash.
std::map<std::string, std::string> student_hashes(const Settings& s, const Source& src,
                                                  const std::vector<std::string>& logins, const Passwords& passwords) {
  std::vector<std::string> pws;
  for (const auto& login : logins) pws.push_back(passwords.at(login));
  auto hashes = hash_passwords(src.recipe, vars_of(s, src, src.row.database, src.row.name), src.l.dir, src.row.user, pws);
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < logins.size(); ++i) out[logins[i]] = hashes[i];
  return out;
}

void drop_copy(const Settings& s, const StudentDatabase& c) {
  auto row = need_service(s, c.service);
  fs::path data = s.services_dir() / c.service / "data";
  if (row.backend == "postgresql") {
    pg_drop(s, c.database);
  } else {
    std::error_code ec;
    for (const auto& f : {c.database + ".sqlite", c.database + ".sqlite.partial", c.database + ".sqlite-journal"})
      fs::remove(data / f, ec);
  }
  host::remove_tree(data / c.database);  // its attachments
  host::remove_tree(data / ("." + c.database + ".partial"));
}

std::vector<std::string> logins_of(const GroupPlan& p, const std::string& service) {
  std::vector<std::string> out;
  for (const auto& c : p.copies)
    if (c.service == service) out.push_back(c.login);
  return out;
}

// Makes the copies that do not exist yet: a copy that exists is complete
// (CREATE DATABASE is atomic; SQLite files and attachments are renamed into
// place). Each copy is made in the data folder (and owned by the role) of
// the service that serves it.
void clone_all(const Settings& s, const GroupPlan& p) {
  for (const auto& service : p.services()) {
    Service server = load_service(s, service);
    auto account = host::find_user(server.row.user);
    if (!account) fail(ErrorKind::internal, "user {} vanished", server.row.user);
    std::map<std::string, std::vector<std::string>> missing;  // source -> databases
    std::map<std::string, Service> sources;                    // loaded once each
    for (const auto& c : p.copies) {
      if (c.service != service) continue;
      if (!sources.contains(c.source)) sources.emplace(c.source, load_service(s, c.source));
      const Service& from = sources.at(c.source);
      std::error_code ec;
      // The attachments (Tryton: the data folder's DATABASE/ folder), copied beside, then renamed.
      fs::path files = from.l.data / from.row.database, to = server.l.data / c.database;
      if (fs::is_directory(files, ec) && !fs::exists(to, ec)) {
        fs::path partial = server.l.data / ("." + c.database + ".partial");
        host::remove_tree(partial);
        // By descriptors: both data folders are their users' to change meanwhile.
        core::copy_tree(files, partial, account->uid, account->gid);
        fs::rename(partial, to);
      }
      if (server.row.backend == "sqlite") {
        fs::path file = server.l.data / (c.database + ".sqlite");
        if (fs::exists(file, ec)) continue;
        fs::path partial = server.l.data / (c.database + ".sqlite.partial");
        sqlite_file::backup(from.row.user, from.l.data / (from.row.database + ".sqlite"), partial, from.l.dir);
        // Made 0600 by descriptor; lchown: the name is in the customer's folder.
        host::chown_path(partial, account->uid, account->gid);
        fs::rename(partial, file);
      } else {
        missing[from.row.database].push_back(c.database);
      }
    }
    for (auto& [source_db, dbs] : missing) {
      std::string names;
      for (const auto& m : dbs) names += std::string(names.empty() ? "" : ", ") + "'" + m + "'";  // labels
      auto present = split(psql(s, "SELECT datname FROM pg_database WHERE datname IN (" + names + ")"), '\n');
      std::erase_if(dbs, [&](const std::string& m) {
        return std::find(present.begin(), present.end(), m) != present.end();
      });
      if (!dbs.empty()) pg_clone(s, source_db, dbs, service_role(server.row.name), CloneMode::batch);
    }
  }
}

// The journaled job of a disseminate or students copy. `passwords` is empty
// when the job is only rolled back.
core::Job students_job(const Settings& s, const GroupPlan& p, const Passwords& passwords) {
  core::Job job{p.kind, "group:" + p.group, {}};

  job.steps.push_back({"register", [&s, p, passwords] {
    host::make_dir(s.work_dir(), fs::perms::owner_all);
    host::make_dir(group_dir(s, p.group), fs::perms::owner_all);
    std::error_code ec;
    if (!fs::exists(passwords_file(s, p.group), ec)) {
      std::string text;
      for (const auto& [login, pw] : passwords) text += login + "\t" + pw + "\n";
      host::write_file(passwords_file(s, p.group), text, private_file);
    }
    auto db = registry::open(s);
    core::sqlite::Transaction t(db);
    for (const auto& c : p.copies)
      db.execute("INSERT OR IGNORE INTO students (group_name, login, service, database, kind, state, created) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, 'creating', ?6)",
                 p.group, c.login, c.service, c.database, c.kind, host::now_iso());
    t.commit();
    // Their servers serve them from now on (the guard, docs/xoe.md).
    for (const auto& service : p.services()) write_served_databases(s, service);
  }, [&s, p] {
    auto db = registry::open(s);
    for (const auto& c : p.copies)
      db.execute("DELETE FROM students WHERE group_name = ?1 AND login = ?2 AND kind = ?3 AND state = 'creating'",
                 p.group, c.login, c.kind);
    for (const auto& service : p.services())
      if (registry::find_service(db, service)) write_served_databases(s, service);
    host::remove_tree(group_dir(s, p.group));
  }});

  // CREATE DATABASE ... TEMPLATE needs the source without any session: it
  // is drained once for all the copies (drain_source), and opened again by
  // `reopen` and `release`, by the rollback, or by the next run after a crash.
  job.steps.push_back({"drain", [&s, p] {
    for (const auto& source : p.sources()) drain_source(s, source, drain_marker(s, p.group, source));
  }, [&s, p] {
    for (const auto& source : p.sources()) release_source(s, source, drain_marker(s, p.group, source));
  }});

  // The password hashes are made meanwhile (CPU, while PostgreSQL copies) and
  // kept for `neutralise` in the work folder (0600).
  job.steps.push_back({"clone", [&s, p, passwords] {
    run_concurrently({[&s, &p] { clone_all(s, p); }, [&s, &p, &passwords] {
      std::error_code ec;
      if (fs::exists(hashes_file(s, p.group), ec)) return;
      std::string text;
      for (const auto& service : p.services())
        for (const auto& [login, hash] : student_hashes(s, source_of(s, service), logins_of(p, service), passwords))
          text += service + "\t" + login + "\t" + hash + "\n";
      host::write_file(hashes_file(s, p.group), text, private_file);
    }});
  }, [&s, p] {
    for (const auto& c : p.copies) drop_copy(s, c);
  }});

  // The copies are made: the sources open again (a stopped server starts,
  // and answers while the copies are neutralised: `release` waits for it).
  job.steps.push_back({"reopen", [&s, p] {
    for (const auto& source : p.sources()) reopen_source(s, source, drain_marker(s, p.group, source));
  }, {}});

  // Neutralised as the recipe says (role "student"; the service's config is
  // not touched: the copies share its server), then the student's own user,
  // in one transaction per copy; PostgreSQL: on two sessions at once.
  job.steps.push_back({"neutralise", [&s, p, passwords] {
    std::map<std::pair<std::string, std::string>, std::string> hashes;  // (service, login) -> hash
    std::error_code ec;
    if (fs::exists(hashes_file(s, p.group), ec)) {
      std::istringstream in(host::read_file(hashes_file(s, p.group)));
      for (std::string line; std::getline(in, line);) {
        auto parts = split(line, '\t');
        if (parts.size() == 3) hashes[{parts[0], parts[1]}] = parts[2];
      }
    }
    for (const auto& service : p.services()) {
      Source src = source_of(s, service);
      auto logins = logins_of(p, service);
      if (std::any_of(logins.begin(), logins.end(), [&](const auto& l) { return !hashes.contains({service, l}); }))
        for (const auto& [login, hash] : student_hashes(s, src, logins, passwords)) hashes[{service, login}] = hash;
      std::vector<std::string> scripts(2, "\\set VERBOSITY terse\n");  // errors without the statement (a hash)
      std::vector<std::string> first(2);  // the database each script connects to first
      std::vector<HandOver> hand_overs;
      std::set<std::string> owners;
      std::size_t n = 0;
      for (const auto& c : p.copies) {
        if (c.service != service) continue;
        auto v = vars_of(s, src, c.database, c.source);
        v.vars["login"] = c.login;
        v.vars["password_hash"] = hashes.at({service, c.login});
        std::vector<std::string> sql;
        for (const auto& t : src.recipe.neutralise_sql) sql.push_back(render(t, v));
        for (const auto& t : src.recipe.students_sql) sql.push_back(render(t, v));
        if (src.row.backend == "sqlite") {
          sqlite_file::execute(src.row.user, src.l.data / (c.database + ".sqlite"), sql);
        } else {
          if (first[n % scripts.size()].empty()) first[n % scripts.size()] = c.database;
          std::string& script = scripts[n++ % scripts.size()];
          script += "\\connect " + quote_ident(c.database) + "\n";
          // A copy of another service's database: its objects become the serving service's role's.
          if (c.source != c.service) {
            hand_overs.push_back({c.database, service_role(c.service)});
            owners.insert(service_role(c.source));
          }
          script += "BEGIN;\n";
          for (const auto& q : sql) script += q + ";\n";
          script += "COMMIT;\n";
        }
      }
      if (src.row.backend == "postgresql") {
        pg_hand_over(s, hand_overs, owners, 2);
        // As the serving service's own role, in copies it owns (pg.hpp).
        RoleLogin login = service_login(s, service);
        std::vector<std::function<void()>> tasks;
        for (std::size_t i = 0; i < scripts.size(); ++i)
          if (!first[i].empty())
            tasks.push_back([&s, &login, db = first[i], script = scripts[i]] { psql_as(s, {login}, db, script); });
        run_concurrently(tasks);
      }
      for (const auto& c : p.copies)
        if (c.service == service && !src.recipe.neutralise_argv.empty())
          run_admin(src.recipe, src.recipe.neutralise_argv, vars_of(s, src, c.database, c.source), src.l.password,
                    src.l.dir, src.row.user);
      if (auto account = host::find_user(src.row.user)) host::chown_tree(src.l.data, account->uid, account->gid);
    }
  }, {}});

  job.steps.push_back({"release", [&s, p] {
    for (const auto& source : p.sources()) release_source(s, source, drain_marker(s, p.group, source));
  }, {}});

  // The teacher's files, then the rows are ready and the passwords leave the work folder.
  job.steps.push_back({"record", [&s, p, passwords] {
    std::map<fs::path, std::string> files;
    for (const auto& c : p.copies) {
      fs::path f = credentials_file(s, c.service, p.group, c.kind);
      if (!files.contains(f))
        files[f] = fmt::format("# xoe students: group {}, copies of {} ({}) served by {}, made {}.\n"
                               "# login\tdatabase\turl\tpassword\n",
                               p.group, c.source, c.kind, c.service, host::now_iso());
      files[f] += c.login + "\t" + c.database + "\t" + c.url + "\t" + passwords.at(c.login) + "\n";
    }
    for (const auto& [f, text] : files) {
      host::make_dir(f.parent_path(), fs::perms::owner_all);
      host::write_file(f, text, private_file);
    }
    auto db = registry::open(s);
    core::sqlite::Transaction t(db);
    for (const auto& c : p.copies)
      db.execute("UPDATE students SET state = 'ready' WHERE group_name = ?1 AND login = ?2 AND kind = ?3", p.group,
                 c.login, c.kind);
    t.commit();
    host::remove_tree(group_dir(s, p.group));
  }, {}});
  return job;
}

// Locks the group, then its services in name order (as db copy does), so
// that no two runs deadlock.
std::vector<core::FileLock> lock_all(const Settings& s, const std::string& group,
                                     const std::vector<std::string>& services) {
  host::make_dir(s.state, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  std::vector<core::FileLock> locks;
  locks.push_back(core::FileLock::acquire(s.locks, "xoe.students." + group));
  auto sorted = services;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& service : sorted) locks.push_back(core::FileLock::acquire(s.locks, "xoe.service." + service));
  return locks;
}

constexpr std::array<std::string_view, 2> job_kinds = {"students.disseminate", "students.copy"};

// Checks a plan with no side effect, then runs (or resumes) its job.
StudentsResult run_plan(const Settings& s, const GroupPlan& p, Clock::time_point t0) {
  std::set<std::string> kinds;
  for (const auto& c : p.copies) kinds.insert(c.kind);
  for (const auto& service : p.services()) {
    Source src = source_of(s, service);
    if (src.row.state != "ready") fail(ErrorKind::conflict, "service {} is {}", service, src.row.state);
    if (src.recipe.students_sql.empty())
      fail(ErrorKind::invalid, "{} has no [students] section: {}/{} cannot give students their own login",
           src.recipe.file.string(), src.row.software, src.row.version);
    for (const auto& c : p.copies)
      if (c.login == src.recipe.admin_login)
        fail(ErrorKind::invalid, "login '{}' is the administrator's of {}", c.login, service);
  }
  auto involved = p.services();
  for (const auto& source : p.sources())
    if (std::find(involved.begin(), involved.end(), source) == involved.end()) involved.push_back(source);
  auto locks = lock_all(s, p.group, involved);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  for (auto other : job_kinds) {
    if (other == p.kind) continue;
    auto j = jobs.find(other, "group:" + p.group);
    if (j && j->unfinished())
      fail(ErrorKind::conflict, "an unfinished {} of group {} exists: run it again, or xoe students remove --group {}",
           other, p.group, p.group);
  }
  auto mine = jobs.find(p.kind, "group:" + p.group);
  bool resume = mine && mine->unfinished();
  auto rows = rows_of(db, p.group);
  if (resume) {
    std::set<std::pair<std::string, std::string>> planned, recorded;
    for (const auto& c : p.copies) planned.insert({c.login, c.database});
    for (const auto& r : rows)
      if (kinds.contains(r.kind)) recorded.insert({r.login, r.database});
    if (!recorded.empty() && planned != recorded)
      fail(ErrorKind::conflict, "an unfinished {} of group {} with other students or services exists: run it again "
                                "with the same arguments, or xoe students remove --group {}",
           p.kind, p.group, p.group);
  } else {
    for (const auto& r : rows)
      if (kinds.contains(r.kind))
        fail(ErrorKind::conflict, "group {} exists already ({} copy {}): xoe students remove --group {} first",
             p.group, r.kind, r.database, p.group);
    // No database of the plan may exist: a service's, another group's, or one left on the server.
    std::string names;
    for (const auto& c : p.copies) {
      if (registry::find_service(db, c.database))
        fail(ErrorKind::conflict, "database {} exists: it is service {}'s", c.database, c.database);
      auto q = db.query("SELECT group_name FROM students WHERE database = ?1", c.database);
      if (q.step()) fail(ErrorKind::conflict, "database {} exists: group {} has it", c.database, q.column_text(0));
      auto row = need_service(s, c.service);
      std::error_code ec;
      if (row.backend == "sqlite" && fs::exists(s.services_dir() / c.service / "data" / (c.database + ".sqlite"), ec))
        fail(ErrorKind::conflict, "database file {}.sqlite exists in {}'s data folder", c.database, c.service);
      if (row.backend == "postgresql") names += std::string(names.empty() ? "" : ", ") + "'" + c.database + "'";
    }
    if (!names.empty()) {
      auto present = psql(s, "SELECT datname FROM pg_database WHERE datname IN (" + names + ") LIMIT 1");
      if (!present.empty() && present.back() == '\n') present.pop_back();
      if (!present.empty()) fail(ErrorKind::conflict, "PostgreSQL database {} exists already", present);
    }
  }

  // The passwords of an unfinished run are kept (0600) in its work folder: they are printed at the end.
  Passwords passwords;
  std::error_code ec;
  if (resume && fs::exists(passwords_file(s, p.group), ec)) {
    std::istringstream in(host::read_file(passwords_file(s, p.group)));
    for (std::string line; std::getline(in, line);)
      if (auto tab = line.find('\t'); tab != std::string::npos) passwords[line.substr(0, tab)] = line.substr(tab + 1);
  }
  for (const auto& c : p.copies)
    if (!passwords.contains(c.login)) {
      if (resume && fs::exists(passwords_file(s, p.group), ec))
        fail(ErrorKind::internal, "{} has no password for {}", passwords_file(s, p.group).string(), c.login);
      passwords[c.login] = host::random_password(16);
    }

  auto result =
      jobs.run(students_job(s, p, passwords), core::JobPolicy::resume | core::JobPolicy::rollback_on_failure);
  StudentsResult out;
  out.group = p.group;
  out.resumed = result.resumed;
  std::set<fs::path> files;
  for (auto c : p.copies) {
    c.password = passwords.at(c.login);
    c.state = "ready";
    files.insert(credentials_file(s, c.service, p.group, c.kind));
    out.databases.push_back(c);
  }
  out.credentials.assign(files.begin(), files.end());
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  core::logger("xoe")->info("{}: {} student databases of group {} in {:.1f} s", p.kind, p.copies.size(), p.group,
                            out.seconds);
  return out;
}

// NAME of NAME-production (a profile's services), or the name itself.
std::string base_name(const std::string& service) {
  return profile_set_of(service, "production").value_or(service);
}

// The service that serves the students' copies of `source`'s database: the
// source itself, but for a production service, whose server sends real mail:
// its training service NAME-training (its config sends mail to the catcher),
// which runs the same software, version, backend and series.
std::string server_for(const Settings& s, const registry::ServiceRow& source) {
  if (source.role != "production") return source.name;
  std::string training = base_name(source.name) + "-training";
  auto row = [&] {
    auto db = registry::open_existing(s);
    return db ? registry::find_service(*db, training) : std::nullopt;
  }();
  if (!row || row->role == "production")
    fail(ErrorKind::precondition,
         "{} is a production service, whose server sends real mail: its students' copies are served by its training "
         "service {}, and there is none",
         source.name, training);
  if (row->software != source.software || row->version != source.version || row->backend != source.backend)
    fail(ErrorKind::precondition, "{} runs {}/{} on {} and {} runs {}/{} on {}: {} cannot serve copies of {}", training,
         row->software, row->version, row->backend, source.name, source.software, source.version, source.backend,
         training, source.name);
  if (!same_series(service_series(s, training), service_series(s, source.name)))
    fail(ErrorKind::precondition,
         "{} runs other code than {} (another poe series): xoe training refresh {} first, which brings {}'s code",
         training, source.name, training, source.name);
  return training;
}

// The copies of `logins` of `source`'s database, named PREFIX-GROUP-LOGIN-SUFFIX.
void add_copies(const Settings& s, GroupPlan& p, const std::string& source, const std::string& kind,
                const std::string& prefix, const std::string& suffix, const std::vector<std::string>& logins) {
  auto from = need_service(s, source);
  if (from.state != "ready") fail(ErrorKind::conflict, "service {} is {}", source, from.state);
  auto row = need_service(s, server_for(s, from));
  for (const auto& login : logins) {
    std::string database = student_database(prefix, p.group, login, suffix);
    p.copies.push_back(
        {p.group, login, kind, row.name, database, url_of(s, row, database), "creating", "", "", source});
  }
}

}  // namespace

StudentsResult disseminate(const Settings& s, const DisseminateRequest& rq) {
  auto t0 = Clock::now();
  core::validate_label(rq.service, "service name");
  core::validate_label(rq.group, "--group");
  if (rq.students.has_value() == rq.list.has_value()) fail(ErrorKind::invalid, "give --students N or --list FILE");
  auto logins = rq.students ? numbered_students(*rq.students) : read_student_list(*rq.list);
  (void)need_service(s, rq.service);
  GroupPlan p{"students.disseminate", rq.group, {}};
  add_copies(s, p, rq.service, "reference", rq.service, "", logins);
  StudentsResult out = run_plan(s, p, t0);
  out.service = rq.service;
  return out;
}

StudentsResult copy_for_students(const Settings& s, const StudentsCopyRequest& rq) {
  auto t0 = Clock::now();
  core::validate_label(rq.service, "service name");
  core::validate_label(rq.group, "--group");
  (void)need_service(s, rq.service);
  std::vector<std::string> logins;
  {
    auto db = registry::open_existing(s);
    if (db)
      for (const auto& r : rows_of(*db, rq.group))
        if (std::find(logins.begin(), logins.end(), r.login) == logins.end()) logins.push_back(r.login);
  }
  if (logins.empty()) fail(ErrorKind::not_found, "no group {}", rq.group);
  std::string name = base_name(rq.service);
  std::optional<std::string> test;
  {
    auto db = registry::open_existing(s);
    if (db && name + "-test" != rq.service && registry::find_service(*db, name + "-test")) test = name + "-test";
  }
  GroupPlan p{"students.copy", rq.group, {}};
  add_copies(s, p, rq.service, "production", name, "-prod", logins);
  if (test) add_copies(s, p, *test, "test", name, "-test", logins);
  StudentsResult out = run_plan(s, p, t0);
  out.service = rq.service;
  out.test = test;
  return out;
}

StudentsRemoved remove_students(const Settings& s, const std::string& group) {
  core::validate_label(group, "--group");
  if (!registry::open_existing(s)) fail(ErrorKind::not_found, "no group {}", group);
  StudentsRemoved out;
  out.group = group;
  std::vector<StudentDatabase> rows;
  {
    auto db = registry::open(s);
    rows = rows_of(db, group);
  }
  std::vector<std::string> services;
  for (const auto& r : rows)
    if (std::find(services.begin(), services.end(), r.service) == services.end()) services.push_back(r.service);
  auto locks = lock_all(s, group, services);
  auto db = registry::open(s);
  core::JobRunner jobs(db);
  // An unfinished disseminate or copy is rolled back with its own compensations.
  for (auto kind : job_kinds) {
    auto j = jobs.find(kind, "group:" + group);
    if (!j || !j->unfinished()) continue;
    GroupPlan p{std::string(kind), group, {}};
    for (const auto& r : rows_of(db, group))
      if (r.state == "creating") p.copies.push_back(r);
    jobs.rollback(students_job(s, p, {}));
    out.rolled_back = true;
  }
  rows = rows_of(db, group);
  auto removal = jobs.find("students.remove", "group:" + group);
  if (rows.empty() && !(removal && removal->unfinished())) {
    if (out.rolled_back) return out;
    fail(ErrorKind::not_found, "no group {}", group);
  }
  for (const auto& r : rows) out.databases.push_back(r.database);
  core::Job job{"students.remove", "group:" + group, {}};
  job.steps.push_back({"drop", [&s, rows] {
    for (const auto& r : rows) drop_copy(s, r);
  }, {}});
  job.steps.push_back({"files", [&s, rows, group] {
    std::error_code ec;
    for (const auto& r : rows) fs::remove(credentials_file(s, r.service, group, r.kind), ec);
  }, {}});
  job.steps.push_back({"unregister", [&s, rows, group] {
    auto d = registry::open(s);
    d.execute("DELETE FROM students WHERE group_name = ?1", group);
    std::set<std::string> servers;
    for (const auto& r : rows) servers.insert(r.service);
    for (const auto& service : servers)
      if (registry::find_service(d, service)) write_served_databases(s, service);
  }, {}});
  jobs.run(job, core::JobPolicy::resume);
  core::logger("xoe")->info("removed group {}: {} databases", group, out.databases.size());
  return out;
}

std::vector<StudentDatabase> list_students(const Settings& s, const std::optional<std::string>& group) {
  if (group) core::validate_label(*group, "--group");
  auto db = registry::open_existing(s);
  if (!db) return {};
  auto rows = rows_of(*db, group);
  for (auto& r : rows) {
    auto service = registry::find_service(*db, r.service);
    if (service) r.url = url_of(s, *service, r.database);
  }
  return rows;
}

}  // namespace xoe
