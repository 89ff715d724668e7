// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// goe's own users, their roles, sessions, CSRF tokens and the login rate
// limit (docs/goe.md, "Roles" and "Safeguards"). Users live in goe's SQLite
// database, ROOT/var/lib/oe/goe/goe.db (mode 0600), with argon2id hashes
// (libsodium's crypto_pwhash_str); sessions live in the server's memory.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace core::sqlite {
class Database;
}

namespace goe {

// goe's database at `path` (created 0600, its schema migrated).
core::sqlite::Database open_database(const std::filesystem::path& path);

enum class Role { viewer, operator_, admin };
std::optional<Role> parse_role(std::string_view text);
const char* role_name(Role role);

// An argon2id hash of `password` in libsodium's string form ($argon2id$...).
std::string hash_password(const std::string& password);
// Whether `password` matches `hash` (constant time, libsodium).
bool check_password(const std::string& hash, const std::string& password);
// A random token: 32 bytes from libsodium's CSPRNG, as 64 hex digits.
std::string random_token();
// Constant-time comparison of two tokens.
bool same_token(const std::string& a, const std::string& b);

struct User {
  std::string name;
  Role role = Role::viewer;
  std::string created;  // UTC, ISO 8601
};

// The users of goe's database.
class Users {
 public:
  explicit Users(std::filesystem::path database);
  // Throws invalid (a name that is not [a-z][a-z0-9._-]{0,63}, an empty or
  // too short password), conflict (exists).
  void add(const std::string& name, Role role, const std::string& password);
  // Throws not_found.
  void remove(const std::string& name);
  void set_password(const std::string& name, const std::string& password);
  std::vector<User> list();
  // The user when the name exists and the password matches it.
  std::optional<User> check(const std::string& name, const std::string& password);

 private:
  std::filesystem::path path_;
};

// Checks a user name (invalid otherwise).
void check_user_name(const std::string& name);
// Passwords have at least this many characters.
inline constexpr std::size_t min_password = 8;

using Clock = std::chrono::steady_clock;

struct Session {
  std::string user;
  Role role = Role::viewer;
  std::string csrf;  // sent in the X-CSRF-Token header of every state-changing request
  Clock::time_point expires;
};

// Sessions by their cookie token, each expiring `lifetime` after its last use.
class Sessions {
 public:
  explicit Sessions(std::chrono::seconds lifetime) : lifetime_(lifetime) {}
  // A new session; returns its token (the cookie's value).
  std::string open(const User& user, Clock::time_point now = Clock::now());
  // The session of `token` when it is known and not expired (its expiry moved on).
  std::optional<Session> find(const std::string& token, Clock::time_point now = Clock::now());
  void close(const std::string& token);
  // Closes every session of `user` (removed, or a new password).
  void close_user(const std::string& user);

 private:
  std::chrono::seconds lifetime_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

// Whether the session may make this request: a state-changing request must
// carry the session's CSRF token.
bool csrf_ok(const Session& session, const std::string& header_token);

// Login attempts by key (the user name and the client address each): after
// `max_failures` failures within `window`, the key is locked for `lockout`.
class RateLimit {
 public:
  RateLimit(int max_failures, std::chrono::seconds window, std::chrono::seconds lockout)
      : max_(max_failures), window_(window), lockout_(lockout) {}
  // Whether `key` is locked now.
  bool locked(const std::string& key, Clock::time_point now = Clock::now());
  void failure(const std::string& key, Clock::time_point now = Clock::now());
  void success(const std::string& key);

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point first;
    std::optional<Clock::time_point> locked_until;
  };
  int max_;
  std::chrono::seconds window_, lockout_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// What a role may do to a service of `service_role`: viewers nothing;
// operators start, restart, back up and verify anything, restore a backup
// into a new service ("restore-new") and remove a group of student
// databases ("remove-students"); stop, restore a backup over ("restore"), refresh from production
// ("refresh": the service is the training one it overwrites) and
// disseminate its database ("disseminate") all but production; admins all.
// An unknown action: no one but admins.
bool allowed(Role role, const std::string& service_role, std::string_view action);

}  // namespace goe
