// SPDX-License-Identifier: GPL-3.0-or-later
#include "auth.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <array>
#include <regex>

#include "core/error.hpp"
#include "core/sqlite.hpp"

namespace goe {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

std::optional<Role> parse_role(std::string_view text) {
  if (text == "viewer") return Role::viewer;
  if (text == "operator") return Role::operator_;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::admin: return "admin";
  }
  return "viewer";
}

namespace {

void sodium() {
  if (sodium_init() < 0) fail(ErrorKind::internal, "libsodium cannot be initialised");
}

void check_password_text(const std::string& password) {
  if (password.size() < min_password)
    fail(ErrorKind::invalid, "a password needs at least {} characters", min_password);
  if (password.size() > 1024) fail(ErrorKind::invalid, "a password has at most 1024 characters");
}

}  // namespace

std::string hash_password(const std::string& password) {
  sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    fail(ErrorKind::failed, "cannot hash the password (out of memory)");
  return std::string(out.data());
}

bool check_password(const std::string& hash, const std::string& password) {
  sodium();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string random_token() {
  sodium();
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data());
}

bool same_token(const std::string& a, const std::string& b) {
  sodium();
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void check_user_name(const std::string& name) {
  static const std::regex re("[a-z][a-z0-9._-]{0,63}");
  if (!std::regex_match(name, re))
    fail(ErrorKind::invalid, "bad user name '{}': a lowercase letter, then letters, digits, '.', '_' or '-' (64 at most)",
         name);
}

// ---------------------------------------------------------------------------

namespace {

constexpr std::string_view steps[] = {
    "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL "
    "CHECK (role IN ('viewer','operator','admin')), hash TEXT NOT NULL, created TEXT NOT NULL)",
    // The tasks (tasks.hpp): history, and the running one of each target.
    "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target TEXT NOT NULL, "
    "user TEXT NOT NULL, started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL "
    "CHECK (status IN ('running','done','failed')), error TEXT NOT NULL DEFAULT '', "
    "detail TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL, pid_start INTEGER NOT NULL); "
    "CREATE UNIQUE INDEX tasks_one_running ON tasks (target) WHERE status = 'running'",
    // A task's log (Tasks::note): one line a step, never a secret.
    "CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT, task INTEGER NOT NULL REFERENCES tasks (id), "
    "time TEXT NOT NULL, line TEXT NOT NULL); CREATE INDEX task_log_task ON task_log (task, id)",
};

}  // namespace

core::sqlite::Database open_database(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) core::fail_errno(ErrorKind::io, "create " + path.parent_path().string(), ec.value());
  // Only root enters the folder, and the file is 0600 before its first write
  // (SQLite gives the -wal and -shm files the database file's mode). The
  // process's umask is left alone: goe runs libxoe in process, and a umask
  // of 077 made the folders of xoe's scratch services unreadable to their
  // users (a verify from goe failed with "keeps dying on start").
  if (::chmod(path.parent_path().c_str(), 0700) != 0) core::fail_errno(ErrorKind::io, "chmod " + path.parent_path().string(), errno);
  auto db = core::sqlite::Database::open(path);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::path f = path.string() + suffix;
    if (fs::exists(f, ec) && ::chmod(f.c_str(), 0600) != 0) core::fail_errno(ErrorKind::io, "chmod " + f.string(), errno);
  }
  db.set_busy_timeout(std::chrono::seconds(10));
  core::sqlite::migrate(db, "goe", steps);
  return db;
}

Users::Users(fs::path database) : path_(std::move(database)) {}

void Users::add(const std::string& name, Role role, const std::string& password) {
  check_user_name(name);
  check_password_text(password);
  std::string hash = hash_password(password);
  auto db = open_database(path_);
  core::sqlite::Transaction tx(db);
  auto q = db.query("SELECT 1 FROM users WHERE name = ?", name);
  if (q.step()) fail(ErrorKind::conflict, "user '{}' exists", name);
  db.execute("INSERT INTO users (name, role, hash, created) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
             name, std::string(role_name(role)), hash);
  tx.commit();
}

void Users::remove(const std::string& name) {
  check_user_name(name);
  auto db = open_database(path_);
  if (db.execute("DELETE FROM users WHERE name = ?", name) == 0) fail(ErrorKind::not_found, "no user '{}'", name);
}

void Users::set_password(const std::string& name, const std::string& password) {
  check_user_name(name);
  check_password_text(password);
  std::string hash = hash_password(password);
  auto db = open_database(path_);
  if (db.execute("UPDATE users SET hash = ? WHERE name = ?", hash, name) == 0)
    fail(ErrorKind::not_found, "no user '{}'", name);
}

std::vector<User> Users::list() {
  auto db = open_database(path_);
  std::vector<User> out;
  auto q = db.query("SELECT name, role, created FROM users ORDER BY name");
  while (q.step())
    out.push_back({q.column_text(0), parse_role(q.column_text(1)).value_or(Role::viewer), q.column_text(2)});
  return out;
}

std::optional<User> Users::check(const std::string& name, const std::string& password) {
  auto db = open_database(path_);
  auto q = db.query("SELECT role, hash, created FROM users WHERE name = ?", name);
  if (!q.step()) {
    // The same work as for a known user: the time does not tell which names exist.
    static const std::string dummy = hash_password("not a password of anyone");
    (void)check_password(dummy, password);
    return std::nullopt;
  }
  if (!check_password(q.column_text(1), password)) return std::nullopt;
  return User{name, parse_role(q.column_text(0)).value_or(Role::viewer), q.column_text(2)};
}

// ---------------------------------------------------------------------------

std::string Sessions::open(const User& user, Clock::time_point now) {
  std::string token = random_token();
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();)  // drop the expired ones
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  sessions_[token] = {user.name, user.role, random_token(), now + lifetime_};
  return token;
}

std::optional<Session> Sessions::find(const std::string& token, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.expires = now + lifetime_;
  return it->second;
}

void Sessions::close(const std::string& token) {
  std::lock_guard lock(mutex_);
  sessions_.erase(token);
}

void Sessions::close_user(const std::string& user) {
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.user == user ? sessions_.erase(it) : std::next(it);
}

bool csrf_ok(const Session& session, const std::string& header_token) {
  return same_token(session.csrf, header_token);
}

// ---------------------------------------------------------------------------

bool RateLimit::locked(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.locked_until) return false;
  if (*it->second.locked_until > now) return true;
  entries_.erase(it);
  return false;
}

void RateLimit::failure(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[key];
  if (e.failures == 0 || now - e.first > window_) {
    e.failures = 0;
    e.first = now;
  }
  if (++e.failures >= max_) e.locked_until = now + lockout_;
}

void RateLimit::success(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

bool allowed(Role role, const std::string& service_role, std::string_view action) {
  if (role == Role::viewer) return false;
  if (role == Role::admin) return true;
  // A stop, a training refresh (it overwrites the target) and a
  // dissemination (PostgreSQL stops the source for the copies) of production.
  if (action == "stop" || action == "refresh" || action == "disseminate" || action == "restore")
    return service_role != "production";
  return action == "start" || action == "restart" || action == "backup" || action == "verify" ||
         action == "remove-students" || action == "restore-new";
}

}  // namespace goe
