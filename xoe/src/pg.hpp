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

#include <filesystem>
#include <optional>
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

// Gives `database` to `role`: its owner, CONNECT and TEMPORARY revoked from
// PUBLIC, and every schema, table, view and sequence in it (not a system
// one, not an extension's) owned by the role. For a database copied from a
// template or another service, or restored from a dump.
void pg_hand_over(const Settings& s, const std::string& database, const std::string& role);
// The SQL of pg_hand_over, for `role` (run in the database). Pure; tested.
std::string hand_over_sql(const std::string& database, const std::string& role);

// "ALTER DATABASE ... OWNER TO ...; REVOKE ALL ON DATABASE ... FROM PUBLIC;":
// for a copy of a database whose objects the role owns already.
std::string seal_sql(const std::string& database, const std::string& role);

// A SQL string literal ('...' with quotes doubled).
std::string quote_literal(std::string_view value);

}  // namespace xoe::detail
