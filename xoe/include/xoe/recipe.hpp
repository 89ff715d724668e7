// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Recipes: one TOML file per software version (etc/oe/recipes/SOFTWARE-VERSION.toml)
// saying where the code comes from, what the host needs, how to run the
// server, how to create and update a database, how to probe it and how to
// neutralise a copy. A new version is a new file, not new code. The format
// is documented in docs/xoe.md.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xoe {

// Where a software version's code comes from.
enum class SourceKind {
  debian,  // apt-get download of `packages` from the Debian suite `suite`, unpacked with dpkg -x
  tree,    // a source tree or git URL the administrator gives to `software fetch --source`
};

struct Recipe {
  std::filesystem::path file;  // where it was loaded from
  std::string software;        // "tryton"
  std::string version;         // "7.0"
  std::vector<std::string> backends;  // "postgresql", "sqlite"
  std::string admin_login;
  // Where the modules are: folders of the version's standard tree (relative)
  // whose subfolders holding `module_marker` are modules. Empty: not checked.
  std::vector<std::string> modules_dirs;
  std::string module_marker;

  SourceKind source = SourceKind::debian;
  std::string suite;                      // debian: the Debian suite
  std::vector<std::string> packages;      // debian: packages downloaded and unpacked
  std::vector<std::string> site_exclude;  // debian: host dist-packages entries (globs) left out of the site folder
  std::string git_branch;                 // tree: the branch cloned from a git URL

  std::vector<std::string> host_packages;  // Debian packages of this host the code needs
  std::string python;                      // the interpreter, e.g. /usr/bin/python3

  std::vector<std::string> server_argv;          // the server's command (templates)
  std::map<std::string, std::string> server_env;  // its environment (templates)
  std::string config_name;                       // file name of the server's config
  std::string config;                            // config template
  // How a copy's source is drained (server.drain): true ("sessions"): its
  // database refuses new sessions and the server's sessions end, the server
  // running (its pool checks a connection before use); false ("restart"):
  // the server is stopped for the copy.
  bool drain_sessions = false;

  std::string uri_sqlite;      // {db_uri} for SQLite services
  std::string uri_postgresql;  // {db_uri} for PostgreSQL services
  std::vector<std::string> init;          // creates a database's schema
  std::vector<std::string> activate;      // activates {modules...} in it
  std::vector<std::string> update;        // updates {modules...}
  std::vector<std::string> set_password;  // sets the admin password
  std::string password_env;    // the password reaches set_password/init through a 0600 file named by this variable...
  std::string password_stdin;  // ...or on stdin, as this template (with {password})
  // When set, the admin password is written as a hash instead of running
  // set_password (which starts the software: about a second): the hash
  // command of [students] (students_hash) hashes it, as the service's user,
  // then these statements run in the service's database with
  // {password_hash}, as the service's own role (PostgreSQL) or user (SQLite).
  std::vector<std::string> password_sql;

  std::string probe_path;  // HTTP POST target of the health probe
  std::string probe_body;  // its JSON body
  std::string probe_expect;  // a text the answer contains when healthy

  // A real login through the server's API (backup verify): POST the body
  // (with {password}, the admin's, and {database}) to the path; logged in
  // when the status is 200 and the answer contains `login_expect`. Empty
  // when the recipe has no [login] section.
  std::string login_path;
  std::string login_body;
  std::string login_expect;

  // A copy that is not production (a restore or db copy into a training,
  // test or student service) is neutralised: these SQL statements run in its
  // database ({role}, {copy_of} name what it is), then the command, and the
  // config text is appended to its server's config.
  std::vector<std::string> neutralise_sql;   // run in a copy that is not production
  std::vector<std::string> neutralise_argv;  // then this command, if any
  std::string neutralise_config;             // appended to a copy's config

  // Usage statistics (xoe monitor; contract-expiry checks), run read-only in
  // the service's database: `usage_users_sql` gives one integer, the
  // active users; `usage_last_login_sql` one UTC timestamp, the last login,
  // or NULL. Both empty when the recipe has no [usage] section.
  std::string usage_users_sql;
  std::string usage_last_login_sql;
  // A student's copy (xoe students) gets the student's own login. The hash
  // command reads one password per line on stdin and prints one password
  // hash per line, in the same order (one run for every student); then the
  // SQL statements run in each copy, after the neutralisation, with {login}
  // and {password_hash}: they create (idempotently) a user with the admin's
  // groups. Empty when the recipe has no [students] section.
  std::vector<std::string> students_hash;
  std::vector<std::string> students_sql;

  [[nodiscard]] bool supports(std::string_view backend) const;
};

// Loads and validates one recipe. Throws core::Error(invalid) naming the file
// and line: TOML syntax, an unknown key, a missing or mistyped key, an
// unknown placeholder in a template, a name or version that does not match
// the file name.
Recipe load_recipe(const std::filesystem::path& file);

// The recipe folders searched, first match wins: `extra` (when not empty),
// ROOT/etc/oe/recipes, then the folder recipes are installed to.
std::vector<std::filesystem::path> recipe_dirs(const std::filesystem::path& root_etc,
                                               const std::string& extra);

// The installed recipes: share/oe/recipes beside the running program's bin
// folder (PREFIX/bin/xoe: PREFIX/share/oe/recipes).
std::filesystem::path installed_recipe_dir();

// xoe's installed data files (the guard of a Tryton server): share/oe/xoe
// beside the running program's bin folder ({share} in a recipe).
std::filesystem::path installed_data_dir();

// Every recipe of `dirs` (the first file of a software version wins), sorted
// by software then version. A broken recipe is an error, not skipped.
std::vector<Recipe> load_recipes(const std::vector<std::filesystem::path>& dirs);

// The recipe of SOFTWARE/VERSION. Throws core::Error(not_found) "no recipe
// for tryton/9.9 (searched: ...)".
Recipe find_recipe(const std::vector<std::filesystem::path>& dirs, const std::string& software,
                   const std::string& version);

// Values of a template's placeholders. `{name}` is replaced by vars[name];
// `{{` and `}}` are literal braces; in an argv list the element
// "{modules...}" becomes one element per module.
struct TemplateVars {
  std::map<std::string, std::string> vars;
  std::vector<std::string> modules;
};

// Throws core::Error(invalid) for an unknown placeholder or unbalanced brace.
std::string render(const std::string& text, const TemplateVars& vars);
std::vector<std::string> render_argv(const std::vector<std::string>& argv, const TemplateVars& vars);

// Every placeholder a recipe may use.
const std::vector<std::string>& placeholder_names();

}  // namespace xoe
