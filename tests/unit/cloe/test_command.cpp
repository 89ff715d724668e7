// SPDX-License-Identifier: GPL-3.0-or-later
// Group commands as pure logic: which vservers a target names (a vserver, a
// group, a name that is both, nothing), the start order, user names, the
// argv run inside for a user.
#include <gtest/gtest.h>

#include "cloe/command.hpp"
#include "core/error.hpp"

namespace {

cloe::Vserver vs(std::string name, std::string node, std::vector<std::string> groups) {
  cloe::Vserver v;
  v.name = std::move(name);
  v.node = std::move(node);
  v.groups = std::move(groups);
  return v;
}

std::vector<std::string> names(const std::vector<cloe::Vserver>& all) {
  std::vector<std::string> out;
  for (const auto& v : all) out.push_back(v.name);
  return out;
}

core::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.kind();
  }
  return core::ErrorKind::internal;  // did not throw: no kind a test expects
}

const std::vector<cloe::Vserver> all = {vs("web1", "n1", {"web", "www"}), vs("db", "n0", {"data"}),
                                        vs("web2", "n0", {"web"}), vs("data", "n1", {})};

TEST(CloeCommand, TargetGroupOrVserver) {
  EXPECT_EQ(names(cloe::command_targets(all, "web", "t")), (std::vector<std::string>{"web1", "web2"}));
  EXPECT_EQ(names(cloe::command_targets(all, "web2", "t")), (std::vector<std::string>{"web2"}));
  EXPECT_EQ(names(cloe::command_targets(all, "group:www", "t")), (std::vector<std::string>{"web1"}));
}

TEST(CloeCommand, BothIsAConflictSettledByPrefix) {
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "data", "t"); }), core::ErrorKind::conflict);
  try {
    cloe::command_targets(all, "data", "t");
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("both a vserver and a group (db)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(names(cloe::command_targets(all, "vserver:data", "t")), (std::vector<std::string>{"data"}));
  EXPECT_EQ(names(cloe::command_targets(all, "group:data", "t")), (std::vector<std::string>{"db"}));
}

TEST(CloeCommand, NothingOrBadIsAnError) {
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "nope", "t"); }), core::ErrorKind::not_found);
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "group:web1", "t"); }), core::ErrorKind::not_found);
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "vserver:web", "t"); }), core::ErrorKind::not_found);
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "Web", "t"); }), core::ErrorKind::invalid);
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "", "t"); }), core::ErrorKind::invalid);
  EXPECT_EQ(kind_of([] { cloe::command_targets(all, "vserver:a_b", "t"); }), core::ErrorKind::invalid);
  EXPECT_EQ(kind_of([] { cloe::command_targets({}, "web", "t"); }), core::ErrorKind::not_found);
}

TEST(CloeCommand, Order) {
  auto v = all;
  cloe::command_sort(v, cloe::CommandOrder::name);
  EXPECT_EQ(names(v), (std::vector<std::string>{"data", "db", "web1", "web2"}));
  cloe::command_sort(v, cloe::CommandOrder::node);
  EXPECT_EQ(names(v), (std::vector<std::string>{"db", "web2", "data", "web1"}));
}

TEST(CloeCommand, UserNames) {
  for (const char* ok : {"nobody", "root", "_apt", "www-data", "a1", "machine$"})
    EXPECT_NO_THROW(cloe::check_command_user(ok)) << ok;
  for (const char* bad :
       {"", "Root", "1a", "-x", "a b", "a;b", "$", "a$b", "../x", "abcdefghijklmnopqrstuvwxyz0123456"})
    EXPECT_EQ(kind_of([&] { cloe::check_command_user(bad); }), core::ErrorKind::invalid) << bad;
}

TEST(CloeCommand, ArgvForAUser) {
  std::vector<std::string> cmd = {"id", "-u"};
  EXPECT_EQ(cloe::command_argv(std::nullopt, cmd), cmd);
  EXPECT_EQ(cloe::command_argv(std::string("root"), cmd), cmd);
  EXPECT_EQ(cloe::command_argv(std::string("nobody"), cmd),
            (std::vector<std::string>{"runuser", "-u", "nobody", "--", "id", "-u"}));
}

}  // namespace
