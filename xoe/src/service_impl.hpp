// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private helpers of service.cpp that backups (backup.cpp), database copies
// (copy.cpp) and students' copies (students.cpp) share: the service's
// layout, PostgreSQL through psql, the recipe's commands, the probe,
// registry rows.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "registry.hpp"
#include "xoe/recipe.hpp"
#include "xoe/service.hpp"
#include "xoe/settings.hpp"
#include "xoe/software.hpp"

namespace xoe::detail {

// The group whose members (this root's service users) may traverse xoe's
// state folders (mode 0710: no listing) to reach their own: one per root,
// "oe-xoe-" and 8 hex digits of the root's path, so a service user of one
// root cannot even enter another root's state. A root made before
// (its state folder's group is the host-wide "oe-xoe") keeps that group
// (docs/xoe.md, "Files and modes").
std::string services_group(const Settings& s);
inline constexpr std::string_view legacy_services_group = "oe-xoe";
inline constexpr std::chrono::seconds probe_timeout{180};

std::string user_for(const std::string& name);
std::string join(const std::vector<std::string>& v, char sep);
std::vector<std::string> split(const std::string& s, char sep);
std::string template_name(const std::string& software, const std::string& version, const std::string& backend,
                          const std::vector<std::string>& modules);
// The address probes and URLs use (services.listen, or 127.0.0.1 for 0.0.0.0).
std::string probe_address(const Settings& s);
// The first port of services.port_min..port_max not in `taken` and free on
// services.listen; throws conflict when there is none.
std::uint16_t first_free_port(const Settings& s, const std::set<std::int64_t>& taken);

// Where a service's files are.
struct Layout {
  std::filesystem::path dir, config, password, data, logs;
};
Layout layout(const Settings& s, const std::string& name, const Recipe& recipe);

// The guard of a Tryton server (docs/xoe.md) answers only for the databases
// its service serves: its own and the students' copies it serves (the
// registry's), named one a line in services/NAME/databases (root:USER 0640),
// which write_served_databases writes anew (the server reads it again when
// it changes): when the run file is written (supervise), the files rebased
// (rebase_files: a renamed database) and the students' copies made or removed.
std::filesystem::path served_databases_file(const Settings& s, const std::string& name);
std::vector<std::string> served_databases(const Settings& s, const std::string& name);
void write_served_databases(const Settings& s, const std::string& name);
// The file in a service's data folder whose modification time the guard
// sets at each authenticated use (xoe monitor's last login).
inline constexpr std::string_view last_use_name = ".xoe-last-use";

// PostgreSQL on the configured server, through psql (argv, no shell).
std::string quote_ident(const std::string& id);
std::string psql(const Settings& s, const std::string& sql, const std::string& database = "postgres");
// The same with the statements (and psql's meta-commands, e.g. \connect) on
// stdin: for many statements in one run, and for values kept off the command line.
std::string psql_script(const Settings& s, const std::string& script, const std::string& database = "postgres");
bool pg_database_exists(const Settings& s, const std::string& name);
// DROP DATABASE IF EXISTS ... WITH (FORCE).
void pg_drop(const Settings& s, const std::string& name);

// The placeholders of a service's recipe templates.
// Where a service's mail goes (the placeholders mail_uri, mail_host and
// mail_port): mail.relay (or default_mail_relay) for a live service, the
// catcher for a neutralised one.
inline constexpr std::string_view default_mail_relay = "smtp://localhost:25";
void set_mail(TemplateVars& v, const Settings& s, bool neutralised);

TemplateVars vars_for(const Settings& s, const Recipe& recipe, const Code& code, const std::string& name,
                      const std::string& database, const std::filesystem::path& data,
                      const std::filesystem::path& config, std::uint16_t port, const std::string& backend,
                      const std::vector<std::string>& modules);
std::map<std::string, std::string> server_env(const Recipe& recipe, const TemplateVars& v);
// Removes what a template build killed half-way left (its database, its
// `.partial` folder) when no registry row names the template; takes the
// template's lock. The undo of the template steps.
void drop_unrecorded_template(const Settings& s, const std::string& backend, const std::string& tpl);
// Runs a recipe database command with the admin password of `password_file`
// (read by root, handed over in memory: see run_admin in service.cpp), in
// `cwd`, as the system user `user`: a service's own user whenever the code
// is a service's, which may carry the customer's series (root never runs a
// customer's code). std::nullopt runs it as root, for template builds only
// (the standard code as fetched, a new empty database). `cwd` and the files
// the command reads must be within reach of `user`.
void run_admin(const Recipe& recipe, const std::vector<std::string>& argv_template, const TemplateVars& v,
               const std::filesystem::path& password_file, const std::filesystem::path& cwd,
               const std::optional<std::string>& user);
// The recipe's students.hash run once for `passwords` (on stdin, one a
// line, never in argv) as the system user `user` with the service's
// environment `v` (its code may carry the customer's series: never root), in
// `cwd`; one crypt-style hash per password, in order. Throws external when
// the command prints anything else.
std::vector<std::string> hash_passwords(const Recipe& recipe, const TemplateVars& v, const std::filesystem::path& cwd,
                                        const std::string& user, const std::vector<std::string>& passwords);
// Sets the admin password of `service`'s database `database` to the one of
// its admin-password file. With database.password_sql: hashed by
// hash_passwords as `user`, then the statements run with {password_hash} in
// one transaction, as the service's own role (PostgreSQL) or as `user` in
// its SQLite file; else the recipe's set_password command (run_admin).
void set_admin_password(const Settings& s, const Recipe& recipe, const TemplateVars& v, const Layout& l,
                        const std::string& service, const std::string& user, const std::string& backend,
                        const std::string& database);
// Waits until the service answers its health probe (probe_timeout).
void wait_probe(const Settings& s, const Recipe& recipe, const std::string& name, std::uint16_t port,
                const std::filesystem::path& logs);

// A profile's services are SET-production, SET-training and SET-test
// (profile.cpp): the SET of `service` when it is SET-SUFFIX, else nullopt.
std::optional<std::string> profile_set_of(const std::string& service, std::string_view suffix);

// The template database of (software, version, backend, modules), built once and kept.
void ensure_template(const Settings& s, const Recipe& recipe, const Code& code, const std::string& backend,
                     const std::vector<std::string>& modules, const std::string& tpl);
// The service's supervisor entry (supervisor::define): its server's argv and environment, run as `user`.
void supervise(const Settings& s, const Layout& l, const Recipe& recipe, const TemplateVars& v,
               const std::string& user);
// PostgreSQL copies (copy.cpp) with CREATE DATABASE ... TEMPLATE, which fails
// while anyone else is connected to the source. drain_source (PostgreSQL
// only) leaves `marker` and drains the source as its recipe says
// (server.drain): "sessions", its database refuses new sessions
// (ALLOW_CONNECTIONS false) and its server's sessions end, the server
// running on (its requests to this database wait or fail meanwhile);
// "restart", its server is stopped when it runs. When `marker` exists,
// reopen_source opens the database again and removes the marker, or starts
// the stopped server without waiting; release_source does the same and
// waits for the probe of a restarted server before it removes the marker;
// a rollback or the next run after a crash calls it. All are idempotent.
void drain_source(const Settings& s, const std::string& source, const std::filesystem::path& marker);
void reopen_source(const Settings& s, const std::string& source, const std::filesystem::path& marker);
void release_source(const Settings& s, const std::string& source, const std::filesystem::path& marker);
// How pg_clone copies. `single`: the server's default strategy (WAL_LOG
// since PostgreSQL 15: no checkpoint, but the whole copy is written to the
// WAL). `batch`, for many copies of one stopped source: STRATEGY FILE_COPY
// (the files copied and one WAL record per copy; each copy asks for a
// checkpoint, which concurrent copies share) on up to eight sessions at
// once: a copy waits mostly on the fsync of each of its files (a Tryton
// database has some 850), and the file system commits concurrent fsyncs
// together (measured: 30 copies in 3.4 s on one session, 2.0 s on two, 1.3 s
// on eight).
enum class CloneMode { single, batch };
// CREATE DATABASE of each of `to` with TEMPLATE `from`, owned by `owner`
// and closed to PUBLIC (pg.hpp seal_sql: the objects in it keep the owners
// they had in `from`); conflict when another session holds `from`.
void pg_clone(const Settings& s, const std::string& from, const std::vector<std::string>& to, const std::string& owner,
              CloneMode mode = CloneMode::single);

// Runs the tasks on threads of their own, waits for all, then rethrows the
// first failure (processes through core::run, which is thread-safe).
void run_concurrently(const std::vector<std::function<void()>>& tasks);

// How the create job ends. `start`: the database updated with the series,
// the admin password set, the server started and answering (service
// create). `for_restore`: none of these, the service left ready and down:
// a restore follows at once, replaces the template's database with the
// archive's (updated with its series when it was made) and sets the
// password and starts the server itself (its password and start steps).
enum class CreateFinish { start, for_restore };

// A service as the create job sees it.
struct Plan {
  std::string name, software, version, role, backend, database, user;
  std::uint16_t port = 0;
  std::vector<std::string> modules;
  std::optional<std::filesystem::path> patches;  // the series given to create
  CreateFinish finish = CreateFinish::start;
};
// create_service with the job's end chosen (restore_service: CreateFinish::for_restore).
Created create_service(const Settings& s, const CreateRequest& request, CreateFinish finish);
Plan plan_from_row(const registry::ServiceRow& r);
ServiceInfo info_from_row(const Settings& s, const registry::ServiceRow& r, bool with_state);
// The registry row of `name`; throws not_found.
registry::ServiceRow need_service(const Settings& s, const std::string& name);

// The xoe executable that runs xoe from outside (the boot unit, the nightly
// cron job): this program when it is xoe, else xoe on PATH, else the installed one.
std::filesystem::path xoe_binary();

}  // namespace xoe::detail
