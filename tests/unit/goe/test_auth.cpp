// SPDX-License-Identifier: GPL-3.0-or-later
// goe's users, sessions, CSRF tokens, rate limit and roles (auth.hpp).
#include "auth.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "../core/tempdir.hpp"
#include "core/error.hpp"
#include "goe/panel.hpp"

namespace {

using namespace std::chrono_literals;
using core::ErrorKind;
using goe::Clock;
using goe::Role;

core::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no core::Error thrown";
  return ErrorKind::internal;
}

TEST(GoePassword, HashesWithArgon2idAndChecks) {
  std::string h = goe::hash_password("correct horse");
  EXPECT_TRUE(h.starts_with("$argon2id$")) << h;
  EXPECT_EQ(h.find("correct horse"), std::string::npos);
  EXPECT_TRUE(goe::check_password(h, "correct horse"));
  EXPECT_FALSE(goe::check_password(h, "correct hors"));
  EXPECT_FALSE(goe::check_password(h, ""));
  EXPECT_NE(goe::hash_password("correct horse"), h);  // salted
}

TEST(GoeToken, RandomHexAndConstantTimeCompare) {
  std::string a = goe::random_token(), b = goe::random_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(goe::same_token(a, a));
  EXPECT_FALSE(goe::same_token(a, b));
  EXPECT_FALSE(goe::same_token(a, a.substr(0, 63)));
  EXPECT_FALSE(goe::same_token("", ""));
}

TEST(GoeUsers, AddCheckListPasswdRemove) {
  test::TempDir dir;
  auto db = dir.path() / "var/lib/oe/goe/goe.db";
  goe::Users users(db);
  users.add("alice", Role::operator_, "a long password");
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto u = users.check("alice", "a long password");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->role, Role::operator_);
  EXPECT_FALSE(users.check("alice", "a wrong password"));
  EXPECT_FALSE(users.check("nobody", "a long password"));

  EXPECT_EQ(kind_of([&] { users.add("alice", Role::admin, "another password"); }), ErrorKind::conflict);
  EXPECT_EQ(kind_of([&] { users.add("Bob", Role::admin, "another password"); }), ErrorKind::invalid);
  EXPECT_EQ(kind_of([&] { users.add("bob", Role::admin, "short"); }), ErrorKind::invalid);
  EXPECT_EQ(kind_of([&] { users.add("bob;drop", Role::admin, "another password"); }), ErrorKind::invalid);

  users.set_password("alice", "the new password");
  EXPECT_FALSE(users.check("alice", "a long password"));
  EXPECT_TRUE(users.check("alice", "the new password"));
  EXPECT_EQ(kind_of([&] { users.set_password("nobody", "the new password"); }), ErrorKind::not_found);

  users.add("bob", Role::viewer, "bob's password");
  auto all = users.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "alice");
  EXPECT_EQ(all[1].name, "bob");
  EXPECT_EQ(all[1].role, Role::viewer);

  users.remove("bob");
  EXPECT_EQ(users.list().size(), 1u);
  EXPECT_EQ(kind_of([&] { users.remove("bob"); }), ErrorKind::not_found);
}

TEST(GoeUsers, RoleNamesRoundTrip) {
  for (Role r : {Role::viewer, Role::operator_, Role::admin}) EXPECT_EQ(goe::parse_role(goe::role_name(r)), r);
  EXPECT_FALSE(goe::parse_role("root"));
  test::TempDir dir;
  EXPECT_EQ(kind_of([&] { goe::user_add(core::Paths(dir.path()), "carol", "root", "a long password"); }),
            ErrorKind::invalid);
}

TEST(GoeSessions, OpenFindExpireClose) {
  goe::Sessions sessions(60s);
  auto t0 = Clock::now();
  std::string token = sessions.open({"alice", Role::admin, ""}, t0);
  auto s = sessions.find(token, t0 + 30s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->user, "alice");
  EXPECT_EQ(s->role, Role::admin);
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_NE(s->csrf, token);
  // Each use moves the expiry on: 80 s after opening, 50 s after the last use.
  EXPECT_TRUE(sessions.find(token, t0 + 80s));
  EXPECT_FALSE(sessions.find(token, t0 + 141s));  // expired, and dropped
  EXPECT_FALSE(sessions.find(token, t0 + 1s));
  EXPECT_FALSE(sessions.find("", t0));
  EXPECT_FALSE(sessions.find(goe::random_token(), t0));

  std::string a = sessions.open({"alice", Role::admin, ""}, t0);
  std::string b = sessions.open({"bob", Role::viewer, ""}, t0);
  sessions.close(a);
  EXPECT_FALSE(sessions.find(a, t0));
  EXPECT_TRUE(sessions.find(b, t0));
  sessions.close_user("bob");
  EXPECT_FALSE(sessions.find(b, t0));
}

TEST(GoeCsrf, OnlyTheSessionsOwnToken) {
  goe::Sessions sessions(60s);
  auto s1 = *sessions.find(sessions.open({"alice", Role::admin, ""}));
  auto s2 = *sessions.find(sessions.open({"alice", Role::admin, ""}));
  EXPECT_TRUE(goe::csrf_ok(s1, s1.csrf));
  EXPECT_FALSE(goe::csrf_ok(s1, s2.csrf));
  EXPECT_FALSE(goe::csrf_ok(s1, ""));
  EXPECT_FALSE(goe::csrf_ok(s1, s1.csrf.substr(1)));
}

TEST(GoeRateLimit, LocksAfterFailuresUntilTheLockoutEnds) {
  goe::RateLimit limit(3, 60s, 300s);
  auto t0 = Clock::now();
  EXPECT_FALSE(limit.locked("user:alice", t0));
  limit.failure("user:alice", t0);
  limit.failure("user:alice", t0 + 1s);
  EXPECT_FALSE(limit.locked("user:alice", t0 + 2s));
  limit.failure("user:alice", t0 + 2s);
  EXPECT_TRUE(limit.locked("user:alice", t0 + 3s));
  EXPECT_FALSE(limit.locked("user:bob", t0 + 3s));
  EXPECT_TRUE(limit.locked("user:alice", t0 + 301s));
  EXPECT_FALSE(limit.locked("user:alice", t0 + 303s));
  // Failures spread wider than the window do not lock.
  limit.failure("user:carol", t0);
  limit.failure("user:carol", t0 + 30s);
  limit.failure("user:carol", t0 + 70s);
  EXPECT_FALSE(limit.locked("user:carol", t0 + 71s));
  // A success forgets the failures.
  limit.failure("user:dave", t0);
  limit.failure("user:dave", t0);
  limit.success("user:dave");
  limit.failure("user:dave", t0);
  EXPECT_FALSE(limit.locked("user:dave", t0));
}

TEST(GoeRoles, WhoMayDoWhat) {
  for (const char* a : {"start", "stop", "restart"}) {
    EXPECT_FALSE(goe::allowed(Role::viewer, "production", a));
    EXPECT_FALSE(goe::allowed(Role::viewer, "test", a));
    EXPECT_TRUE(goe::allowed(Role::admin, "production", a));
    EXPECT_TRUE(goe::allowed(Role::operator_, "training", a));
  }
  EXPECT_TRUE(goe::allowed(Role::operator_, "production", "start"));
  EXPECT_TRUE(goe::allowed(Role::operator_, "production", "restart"));
  EXPECT_FALSE(goe::allowed(Role::operator_, "production", "stop"));
  EXPECT_FALSE(goe::allowed(Role::operator_, "test", "remove"));
  for (const char* a : {"backup", "verify"}) {
    EXPECT_TRUE(goe::allowed(Role::operator_, "production", a));
    EXPECT_TRUE(goe::allowed(Role::admin, "production", a));
    EXPECT_FALSE(goe::allowed(Role::viewer, "training", a));
  }
  // Copies: a refresh overwrites a training service, a dissemination may
  // stop its source; removing students drops only their databases.
  for (const char* a : {"refresh", "disseminate"}) {
    EXPECT_TRUE(goe::allowed(Role::operator_, "training", a));
    EXPECT_FALSE(goe::allowed(Role::operator_, "production", a));
    EXPECT_TRUE(goe::allowed(Role::admin, "production", a));
    EXPECT_FALSE(goe::allowed(Role::viewer, "training", a));
  }
  EXPECT_TRUE(goe::allowed(Role::operator_, "training", "remove-students"));
  EXPECT_FALSE(goe::allowed(Role::viewer, "training", "remove-students"));
  EXPECT_TRUE(goe::allowed(Role::operator_, "production", "restore-new"));
  EXPECT_FALSE(goe::allowed(Role::viewer, "production", "restore-new"));
  EXPECT_FALSE(goe::allowed(Role::operator_, "production", "restore"));  // over it: admins only
  EXPECT_TRUE(goe::allowed(Role::operator_, "training", "restore"));
  EXPECT_TRUE(goe::allowed(Role::admin, "production", "restore"));
  EXPECT_FALSE(goe::allowed(Role::viewer, "training", "restore"));
}

TEST(GoeListen, ParsesAddressAndPort) {
  goe::ServeOptions o;
  goe::parse_listen("0.0.0.0:9000", o);
  EXPECT_EQ(o.address, "0.0.0.0");
  EXPECT_EQ(o.port, 9000);
  goe::parse_listen(":9001", o);
  EXPECT_EQ(o.address, "0.0.0.0");
  EXPECT_EQ(o.port, 9001);
  goe::parse_listen("[::1]:9002", o);
  EXPECT_EQ(o.address, "::1");
  EXPECT_EQ(o.port, 9002);
  goe::parse_listen("localhost", o);
  EXPECT_EQ(o.address, "localhost");
  EXPECT_EQ(o.port, 9002);
  for (const char* bad : {"", ":", "1.2.3.4:0", "1.2.3.4:70000", "a b:80", "1.2.3.4:80x"})
    EXPECT_EQ(kind_of([&] { goe::parse_listen(bad, o); }), ErrorKind::invalid) << bad;
}

}  // namespace
