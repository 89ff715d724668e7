// SPDX-License-Identifier: GPL-3.0-or-later
#include "pg.hpp"

#include <cctype>
#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "service_impl.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::detail {

using core::ErrorKind;
using core::fail;

namespace {

constexpr std::string_view pg_lib = "/usr/lib/postgresql";
constexpr std::string_view cluster_service = cluster_service_name;
constexpr auto cluster_start_timeout = 60s;

// Reads a SCRAM-SHA-256 verifier of the password on stdin (RFC 7677, as
// PostgreSQL stores it): the server never sees the password itself, as with
// psql's \password. An alphanumeric password needs no SASLprep.
constexpr std::string_view scram_py =
    "import sys, os, hashlib, hmac, base64\n"
    "p = sys.stdin.readline().rstrip('\\n').encode()\n"
    "salt, n = os.urandom(16), 4096\n"
    "k = hashlib.pbkdf2_hmac('sha256', p, salt, n)\n"
    "c = hmac.new(k, b'Client Key', 'sha256').digest()\n"
    "s = hmac.new(k, b'Server Key', 'sha256').digest()\n"
    "b = lambda x: base64.b64encode(x).decode()\n"
    "print('SCRAM-SHA-256$%d:%s$%s:%s' % (n, b(salt), b(hashlib.sha256(c).digest()), b(s)))\n";

std::string first_line(const fs::path& file) {
  std::string text = host::read_file(file);
  return text.substr(0, text.find('\n'));
}


bool ready(const Settings& s) {
  auto r = core::run({"pg_isready", "-q", "-h", s.db_host, "-p", std::to_string(s.db_port), "-t", "2"},
                     {.timeout = 10s, .check = false});
  return r.exit_code == 0;
}

// The folder of the PostgreSQL binaries: those of the cluster's version once
// it exists, else the newest installed.
fs::path postgres_bin(const Settings& s) {
  std::error_code ec;
  fs::path version_file = s.cluster_data / "PG_VERSION";
  if (fs::exists(version_file, ec)) {
    std::string v = first_line(version_file);
    fs::path bin = fs::path(pg_lib) / v / "bin";
    if (!fs::exists(bin / "postgres", ec))
      fail(ErrorKind::precondition, "PostgreSQL {} is not installed, and the cluster in {} needs it", v,
           s.cluster_data.string());
    return bin;
  }
  int best = 0;
  for (const auto& e : fs::directory_iterator(pg_lib, ec)) {
    int v = std::atoi(e.path().filename().c_str());
    if (v > best && fs::exists(e.path() / "bin/postgres", ec) && fs::exists(e.path() / "bin/initdb", ec)) best = v;
  }
  if (best == 0)
    fail(ErrorKind::precondition,
         "no PostgreSQL server installed (database.host is empty, so xoe runs its own cluster): "
         "run `xoe self-install`, or set database.host");
  return fs::path(pg_lib) / std::to_string(best) / "bin";
}

void write_owned(const fs::path& file, const std::string& text, const host::Account& pg) {
  host::write_file(file, text, fs::perms::owner_read | fs::perms::owner_write);
  host::chown_path(file, pg.uid, pg.gid);
}

// initdb once, under a temporary name renamed when complete.
void initialise(const Settings& s, const fs::path& bin, const host::Account& pg) {
  std::error_code ec;
  if (fs::exists(s.cluster_data / "PG_VERSION", ec)) return;
  fs::path parent = s.cluster_data.parent_path(), partial = s.cluster_data.string() + ".partial";
  if (!fs::exists(parent, ec)) {
    host::make_dir(parent, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    host::chown_path(parent, pg.uid, pg.gid);
  }
  host::remove_tree(partial);
  host::remove_tree(s.cluster_data);  // a folder without PG_VERSION is no cluster
  core::logger("xoe")->info("creating xoe's PostgreSQL cluster in {}", s.cluster_data.string());
  core::run({(bin / "initdb").string(), "-D", partial.string(), "-U", s.db_user, "--auth-local=peer",
             "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"},
            {.timeout = 5min, .cwd = parent, .uid = pg.uid, .gid = pg.gid});
  std::string conf = host::read_file(partial / "postgresql.conf");
  write_owned(partial / "postgresql.conf", conf + "\n# xoe's settings\ninclude = 'xoe.conf'\n", pg);
  fs::rename(partial, s.cluster_data);
}

// The settings xoe owns, written on each start (the port may have changed).
void configure(const Settings& s, const host::Account& pg) {
  write_owned(s.cluster_data / "xoe.conf",
              "# Written by xoe for its own cluster (database.host is empty). Do not edit: xoe rewrites it.\n"
              "listen_addresses = '127.0.0.1'\n"
              "port = " + std::to_string(s.db_port) + "\n"
              "unix_socket_directories = " + quote_literal(s.db_host) + "\n"
              "max_connections = 300\n"
              "password_encryption = 'scram-sha-256'\n",
              pg);
  // The superuser only over the socket and only for root (xoe) and postgres;
  // every other role (the services', xoe-template) with its password over TCP.
  write_owned(s.cluster_data / "pg_hba.conf",
              "# Written by xoe. Do not edit: xoe rewrites it.\n"
              "local all " + quote_ident(s.db_user) + " peer map=xoe\n"
              "local all all reject\n"
              "host all " + quote_ident(s.db_user) + " all reject\n"
              "host all all 127.0.0.1/32 scram-sha-256\n",
              pg);
  write_owned(s.cluster_data / "pg_ident.conf",
              "# Written by xoe. Do not edit: xoe rewrites it.\n"
              "xoe root " + quote_ident(s.db_user) + "\n"
              "xoe postgres " + quote_ident(s.db_user) + "\n",
              pg);
}

// Supervised like a service (runit or systemd), restarted when it dies;
// stopped with a fast shutdown (INT), not a smart one (TERM) that waits
// for the services' sessions.
ServiceProgram cluster_program(const Settings& s, const fs::path& bin) {
  const std::string name(cluster_service);
  fs::path logs = s.logs / name;
  host::make_dir(logs, fs::perms::owner_all);
  return {name, "postgres", "postgres", {(bin / "postgres").string(), "-D", s.cluster_data.string()},
          {}, s.cluster_data, logs, "INT"};
}

// Waits until the cluster answers; throws external when it keeps dying or
// does not answer within cluster_start_timeout.
void wait_cluster(const Settings& s) {
  const std::string name(cluster_service);
  fs::path logs = s.logs / name;
  auto deadline = std::chrono::steady_clock::now() + cluster_start_timeout;
  std::set<pid_t> pids;
  while (!ready(s)) {
    if (auto now = supervisor::status(s, name); now.pid) pids.insert(*now.pid);
    if (pids.size() > 3)
      fail(ErrorKind::external, "xoe's PostgreSQL cluster keeps dying on start (log: {}/current)", logs.string());
    if (std::chrono::steady_clock::now() > deadline)
      fail(ErrorKind::external, "xoe's PostgreSQL cluster did not start within {} s (log: {}/current)",
           cluster_start_timeout.count(), logs.string());
    std::this_thread::sleep_for(100ms);
  }
  core::logger("xoe")->info("xoe's PostgreSQL cluster answers on 127.0.0.1:{}", s.db_port);
}

void start_cluster(const Settings& s) {
  // The superuser's socket is in the data folder; a Unix socket's path has
  // at most 107 characters (sun_path), and PostgreSQL would only say so in
  // its log once started.
  fs::path socket = s.cluster_data / (".s.PGSQL." + std::to_string(s.db_port));
  if (socket.string().size() > 107)
    fail(ErrorKind::invalid,
         "the root {} is too long for xoe's PostgreSQL cluster: its socket {} would have {} characters, and at most "
         "107 fit; use a shorter --root, or set database.host",
         s.root.string(), socket.string(), socket.string().size());
  fs::path bin = postgres_bin(s);
  auto pg = host::find_user("postgres");
  if (!pg)
    fail(ErrorKind::precondition, "no user postgres: install PostgreSQL (`xoe self-install`), or set database.host");
  initialise(s, bin, *pg);
  configure(s, *pg);
  const std::string name(cluster_service);
  if (supervisor::status(s, name).state != "run" && !host::port_free("127.0.0.1", static_cast<std::uint16_t>(s.db_port)))
    fail(ErrorKind::precondition,
         "port {} on 127.0.0.1 is taken (another PostgreSQL?): set database.cluster_port, or database.host to use "
         "that server",
         s.db_port);
  supervisor::define(s, cluster_program(s, bin));
  supervisor::up(s, name);
  wait_cluster(s);
}

}  // namespace

fs::path template_password_file(const Settings& s) { return s.templates_dir() / ".role-password"; }
std::string service_role(const std::string& service) { return user_for(service); }
fs::path service_password_file(const Settings& s, const std::string& service) {
  return s.services_dir() / service / "db-password";
}

std::string quote_literal(std::string_view value) {
  std::string out = "'";
  for (char c : value) out += (c == '\'') ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> pg_command(const Settings& s, std::vector<std::string> argv) {
  pg_prepare(s);
  argv.insert(argv.begin() + 1, {"-h", s.db_host, "-p", std::to_string(s.db_port), "-U", s.db_user});
  return argv;
}

bool pg_cluster_absent(const Settings& s) {
  std::error_code ec;
  return s.own_cluster && !fs::exists(s.cluster_data / "PG_VERSION", ec);
}

void pg_prepare(const Settings& s) {
  static std::mutex mutex;
  static std::set<std::string> prepared;
  std::lock_guard guard(mutex);
  std::string key = s.root.string() + '\n' + s.db_host + '\n' + std::to_string(s.db_port);
  if (prepared.count(key)) return;
  if (s.own_cluster) {
    auto lock = core::FileLock::acquire(s.locks, "xoe.postgresql");
    if (!ready(s)) start_cluster(s);
  }
  prepared.insert(key);
}

std::optional<supervisor::PendingMove> pg_move_cluster(const Settings& s) {
  if (!s.own_cluster || pg_cluster_absent(s)) return std::nullopt;
  auto lock = core::FileLock::acquire(s.locks, "xoe.postgresql");
  auto move = supervisor::pending_move(s, std::string(cluster_service));
  if (!move) return std::nullopt;
  supervisor::define(s, cluster_program(s, postgres_bin(s)));
  if (move->running) wait_cluster(s);
  return move;
}

namespace {

std::string scram_verifier(const std::string& password, const std::string& role) {
  auto r = core::run({"python3", "-c", std::string(scram_py)}, {.timeout = 60s, .stdin_data = password + "\n"});
  std::string verifier = r.out.substr(0, r.out.find('\n'));
  if (verifier.rfind("SCRAM-SHA-256$", 0) != 0) fail(ErrorKind::internal, "no SCRAM verifier for role {}", role);
  return verifier;
}

constexpr std::string_view login_options = " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT";

// A libpq password file (PGPASSFILE) for one run: 0600, in a folder of
// root's alone, removed when the run is over.
class PassFile {
 public:
  PassFile(const Settings& s, const std::vector<RoleLogin>& logins) {
    fs::path dir = s.run / "pgpass";
    host::make_dir(dir, fs::perms::owner_all);
    std::string text;
    auto field = [](std::string_view v) {
      std::string out;
      for (char c : v) {
        if (c == ':' || c == '\\') out += '\\';
        out += c;
      }
      return out;
    };
    for (const auto& l : logins)
      text += field(s.db_service_host) + ":" + std::to_string(s.db_port) + ":*:" + field(l.role) + ":" +
              field(l.password) + "\n";
    path_ = dir / ("pgpass-" + host::random_password(12));
    host::write_file(path_, text, fs::perms::owner_read | fs::perms::owner_write);
  }
  PassFile(const PassFile&) = delete;
  PassFile& operator=(const PassFile&) = delete;
  ~PassFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

void pg_ensure_role(const Settings& s, const std::string& role, const fs::path& password_file) {
  std::error_code ec;
  if (!fs::exists(password_file, ec))
    host::write_file(password_file, host::random_password() + "\n", fs::perms::owner_read | fs::perms::owner_write);
  std::string verifier = scram_verifier(first_line(password_file), role);
  psql_script(s,
              "DO $xoe$ BEGIN CREATE ROLE " + quote_ident(role) +
                  "; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $xoe$;\n"
                  "ALTER ROLE " + quote_ident(role) + std::string(login_options) + " PASSWORD " +
                  quote_literal(verifier) + ";\n");
}

RoleLogin service_login(const Settings& s, const std::string& service) {
  fs::path file = service_password_file(s, service);
  std::error_code ec;
  if (!fs::exists(file, ec)) fail(ErrorKind::not_found, "service {} has no PostgreSQL role password ({})", service, file.string());
  return {service_role(service), first_line(file)};
}

std::string pg_run_as(const Settings& s, const std::vector<RoleLogin>& logins, std::vector<std::string> argv,
                      const RoleRun& options) {
  if (logins.empty() || argv.empty()) fail(ErrorKind::internal, "pg_run_as without a login or a command");
  pg_prepare(s);
  PassFile pass(s, logins);
  argv.insert(argv.begin() + 1, {"-h", s.db_service_host, "-p", std::to_string(s.db_port), "-U", logins.front().role, "-w"});
  std::string path = options.search_path;
  path.erase(std::remove(path.begin(), path.end(), ' '), path.end());  // PGOPTIONS splits at spaces
  std::string pgoptions = "-c search_path=" + path;
  if (options.read_only) pgoptions += " -c default_transaction_read_only=on -c statement_timeout=20000";
  auto r = core::run(argv, {.timeout = options.timeout,
                            .stdin_data = options.stdin_data,
                            .env_extra = {{"PGPASSFILE", pass.path().string()},
                                          {"PGCONNECT_TIMEOUT", "10"},
                                          {"PGOPTIONS", pgoptions}},
                            .cwd = fs::path("/"),
                            .check = false,
                            .stdout_to = options.stdout_to});
  if (r.exit_code != 0) {
    // The server's error, not the statement pg_restore prints after it.
    std::string why = r.timed_out ? "timed out" : "";
    std::istringstream lines(r.err);
    for (std::string line; why.empty() && std::getline(lines, line);)
      if (line.find("ERROR:") != std::string::npos || line.find("FATAL:") != std::string::npos ||
          line.find("error:") != std::string::npos)
        why = line;
    if (why.empty()) why = r.err.substr(0, r.err.find('\n'));
    fail(ErrorKind::external, "{} as {} exited with status {}: {}", argv.front(), logins.front().role, r.exit_code,
         core::escape_for_display(why, 300));
  }
  return r.out;
}

std::string psql_as(const Settings& s, const std::vector<RoleLogin>& logins, const std::string& database,
                    const std::string& script, RoleRun options) {
  options.stdin_data = script;
  return pg_run_as(s, logins, {"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"},
                   options);
}

void pg_drop_role(const Settings& s, const std::string& role) {
  try {
    psql(s, "DROP ROLE IF EXISTS " + quote_ident(role));
  } catch (const core::Error& e) {
    if (std::string_view(e.what()).find("depend") == std::string_view::npos) throw;
    fail(ErrorKind::conflict, "role {} still owns objects: {}", role, e.what());
  }
}

std::string seal_sql(const std::string& database, const std::string& role) {
  return "ALTER DATABASE " + quote_ident(database) + " OWNER TO " + quote_ident(role) + ";\nREVOKE ALL ON DATABASE " +
         quote_ident(database) + " FROM PUBLIC;\n";
}

std::string hand_over_sql(const std::string& role) {
  // Tables first: ALTER TABLE also moves their indexes and the sequences of
  // their columns, which are then skipped (owner checked again).
  return "DO $xoe$\n"
         "DECLARE\n"
         "  target name := " + quote_literal(role) + ";\n"
         "  target_oid oid := (SELECT oid FROM pg_roles WHERE rolname = " + quote_literal(role) + ");\n"
         "  r record;\n"
         "BEGIN\n"
         "  FOR r IN SELECT n.nspname FROM pg_namespace n\n"
         "           WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'\n"
         "             AND pg_get_userbyid(n.nspowner) NOT IN (target, 'pg_database_owner') LOOP\n"
         "    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, target);\n"
         "  END LOOP;\n"
         "  FOR r IN SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
         "           WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'\n"
         "             AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relowner <> target_oid\n"
         "             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass\n"
         "                             AND d.objid = c.oid AND d.deptype = 'e')\n"
         "           ORDER BY c.relkind = 'S' LOOP\n"
         "    IF (SELECT relowner FROM pg_class WHERE oid = r.oid) <> target_oid THEN\n"
         "      EXECUTE format('ALTER %s %s OWNER TO %I',\n"
         "                     CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'\n"
         "                       WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,\n"
         "                     r.oid::regclass, target);\n"
         "    END IF;\n"
         "  END LOOP;\n"
         "  FOR r IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace\n"
         "           WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'\n"
         "             AND p.proowner <> target_oid\n"
         "             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass\n"
         "                             AND d.objid = p.oid AND d.deptype = 'e') LOOP\n"
         "    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.oid::regprocedure, target);\n"
         "  END LOOP;\n"
         "END\n"
         "$xoe$;\n";
}

void pg_hand_over(const Settings& s, const std::vector<HandOver>& items, const std::set<std::string>& owners,
                  std::size_t sessions) {
  if (items.empty()) return;
  std::string name = "xoe-handover-" + host::random_password(12);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  RoleLogin handover{name, host::random_password()};
  std::set<std::string> members = owners;
  for (const auto& i : items) members.insert(i.to);
  std::string grant;
  for (const auto& m : members) grant += (grant.empty() ? "" : ", ") + quote_ident(m);
  psql_script(s, "CREATE ROLE " + quote_ident(name) + std::string(login_options) + " PASSWORD " +
                     quote_literal(scram_verifier(handover.password, name)) + ";\nGRANT " + grant + " TO " +
                     quote_ident(name) + ";\n");
  struct Drop {
    const Settings& s;
    const std::string& name;
    ~Drop() {
      try {
        psql(s, "DROP ROLE IF EXISTS " + quote_ident(name));
      } catch (const core::Error& e) {
        core::logger("xoe")->warn("cannot drop the hand-over role {}: {}", name, e.what());
      }
    }
  } drop{s, name};
  sessions = std::max<std::size_t>(1, std::min(sessions, items.size()));
  std::vector<std::string> scripts(sessions);
  for (std::size_t i = 0; i < items.size(); ++i)
    scripts[i % sessions] += "\\connect " + quote_ident(items[i].database) + "\n" + hand_over_sql(items[i].to);
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < sessions; ++i)
    tasks.push_back([&s, &handover, db = items[i].database, script = scripts[i]] {
      // pg_catalog alone: nothing the customers put in their schemas is called.
      psql_as(s, {handover}, db, script, {.search_path = "pg_catalog"});
    });
  run_concurrently(tasks);
}

}  // namespace xoe::detail
