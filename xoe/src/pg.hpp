// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// PostgreSQL as xoe uses it: the cluster it runs itself when database.host
// is empty, and one role per service.
//
// xoe connects as the superuser (database.user); the services never do.
// Each PostgreSQL service has its own LOGIN role (named after its system
// user) with a password from a CSPRNG (services/NAME/db-password, 0600
// root; it reaches the server as a SCRAM verifier, never in clear), owns its
// database and every object in it, and PUBLIC may not connect to it: one
// customer's server cannot open another's database. Template databases are
// built by the role xoe-template and closed to PUBLIC too. docs/xoe.md.

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xoe/settings.hpp"
#include "xoe/supervisor.hpp"

namespace xoe::detail {

// The role that builds template databases (its password: templates/.role-password).
inline constexpr std::string_view template_role = "xoe-template";
std::filesystem::path template_password_file(const Settings& s);
// A service's role: the name of its system user.
std::string service_role(const std::string& service);
std::filesystem::path service_password_file(const Settings& s, const std::string& service);

// Makes sure the server can be reached: with database.host empty, creates
// xoe's own cluster (initdb as the user postgres, once) and starts it under
// the supervisor unless it answers. Once per process and root; thread-safe.
// Throws precondition (no PostgreSQL server installed, the port taken by
// someone else), external (it does not start).
void pg_prepare(const Settings& s);

// The supervisor's name of xoe's own cluster (not a label: never a service's).
inline constexpr std::string_view cluster_service_name = "_postgresql";

// Moves xoe's own cluster to the root's supervisor when its entry was
// written for the other one (supervisor.kind changed; supervisor::define),
// and waits until it answers when it was running. What was moved; none when
// there was nothing to move.
std::optional<supervisor::PendingMove> pg_move_cluster(const Settings& s);

// `argv` (psql, pg_dump, pg_restore) with xoe's connection to the server
// (-h -p -U) after its program, once the server is reachable (pg_prepare).
std::vector<std::string> pg_command(const Settings& s, std::vector<std::string> argv);

// True when database.host is empty and xoe's own cluster was never created.
bool pg_cluster_absent(const Settings& s);

// Creates the role (LOGIN, nothing else) or sets its password again, from
// `password_file`, which is written first (24 random characters, 0600) when
// missing. Idempotent; safe against a concurrent creation of the same role.
void pg_ensure_role(const Settings& s, const std::string& role, const std::filesystem::path& password_file);
// DROP ROLE IF EXISTS; throws conflict while it still owns a database.
void pg_drop_role(const Settings& s, const std::string& role);

// ---- Sessions inside a customer's database (docs/architecture.md, "Root
// and the superuser never run a customer's code"). The superuser's sessions
// (psql, psql_script) go to the database "postgres" only: a customer owns
// its database and can put code there (a schema named after the superuser
// that comes first in its search_path, a function shadowing a built-in, a
// CHECK constraint, a trigger, a default or an index expression in a dump)
// that would run with the rights of whoever reads or writes it. Every
// statement, dump and restore inside a customer's database runs as a role
// that owns nothing more than that database: the service's own role.

// A role and its password (kept in memory and in a 0600 libpq password
// file for the life of one run; never on a command line or in the
// environment).
struct RoleLogin {
  std::string role;
  std::string password;
};
// The login of a service's own role (its password file; not_found when the
// service has none).
RoleLogin service_login(const Settings& s, const std::string& service);

struct RoleRun {
  std::chrono::milliseconds timeout = std::chrono::minutes(30);
  // The session's search_path: the customer's schemas come after pg_catalog.
  std::string search_path = "pg_catalog, public";
  bool read_only = false;  // default_transaction_read_only, and a statement timeout of 20 s
  std::optional<std::string> stdin_data;
  std::optional<std::filesystem::path> stdout_to;
};
// Runs `argv` (psql, pg_dump or pg_restore, then its arguments) connected
// over TCP to database.host (or xoe's own cluster) as logins.front(), its
// password from a password file that also holds the others' (psql's
// \connect DB ROLE). The child runs in /. Throws as core::run does.
std::string pg_run_as(const Settings& s, const std::vector<RoleLogin>& logins, std::vector<std::string> argv,
                      const RoleRun& options = {});
// psql with `script` on stdin, as logins.front() in `database`.
std::string psql_as(const Settings& s, const std::vector<RoleLogin>& logins, const std::string& database,
                    const std::string& script, RoleRun options = {});

// One item of pg_hand_over.
struct HandOver {
  std::string database;
  std::string to;  // the role that will own every object in it
};
// Makes `to` the owner of every schema, table, view, sequence and routine
// (not a system one, not an extension's) in each database, which `owners`
// own now (xoe-template for a copy of a template, the source service's role
// for a copy of its database), without a superuser session inside them: a
// login role made for this call (xoe-handover-RANDOM, its password in
// memory only), member of `owners` and of each `to` for its life, changes
// the owners with search_path pg_catalog alone (no customer's function is
// called), then is dropped. The databases must be sealed already (seal_sql:
// owned by `to`, closed to PUBLIC). On `sessions` psql sessions at once.
void pg_hand_over(const Settings& s, const std::vector<HandOver>& items, const std::set<std::string>& owners,
                  std::size_t sessions = 1);
// The DO block of pg_hand_over, for `role` (run in the database). Pure; tested.
std::string hand_over_sql(const std::string& role);

// "ALTER DATABASE ... OWNER TO ...; REVOKE ALL ON DATABASE ... FROM PUBLIC;":
// for a copy of a database whose objects the role owns already.
std::string seal_sql(const std::string& database, const std::string& role);

// A SQL string literal ('...' with quotes doubled).
std::string quote_literal(std::string_view value);

}  // namespace xoe::detail
