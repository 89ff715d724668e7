// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/config.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "tempdir.hpp"

namespace {

const core::Schema& schema() {
  static const core::Schema s = {
      {"database.backend", core::ValueType::string, std::string{"postgresql"}, "backend",
       core::check_one_of({"postgresql", "sqlite"})},
      {"database.port", core::ValueType::integer, std::int64_t{5432}, "port", core::check_range(1, 65535)},
      {"monitor.enabled", core::ValueType::boolean, true, "on"},
      {"modules", core::ValueType::list, std::vector<std::string>{"base"}, "modules"},
      {"mail.password", core::ValueType::string, std::string{}, "secret", {}, true},
  };
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    return e.what();
  }
  return "no error";
}

TEST(Config, DefaultsWhenNothingElse) {
  test::TempDir dir;
  auto cfg = core::Config::load("xoe", schema(), dir.path() / "missing.toml", {}, {});
  EXPECT_EQ(cfg.get_string("database.backend"), "postgresql");
  EXPECT_EQ(cfg.get_int("database.port"), 5432);
  EXPECT_TRUE(cfg.get_bool("monitor.enabled"));
  EXPECT_EQ(cfg.entry("database.port").origin, "default");
}

TEST(Config, LayersFileEnvCommandLineInOrder) {
  test::TempDir dir;
  auto file = dir.write("xoe.toml",
                        "# comment\nmodules = [\"sale\", \"stock\"]\n[database]\nbackend = \"sqlite\" # trailing comment\n"
                        "port = 6000\n[monitor]\nenabled = false\n");
  auto cfg = core::Config::load("xoe", schema(), file, {"database.port=7000"},
                                {{"OE_XOE_DATABASE_PORT", "6500"}, {"OE_XOE_MONITOR_ENABLED", "true"}});
  EXPECT_EQ(cfg.get_string("database.backend"), "sqlite");
  EXPECT_EQ(cfg.entry("database.backend").origin, file.string() + ":4");
  EXPECT_EQ(cfg.get_int("database.port"), 7000);
  EXPECT_EQ(cfg.entry("database.port").origin, "--set");
  EXPECT_TRUE(cfg.get_bool("monitor.enabled"));
  EXPECT_EQ(cfg.entry("monitor.enabled").origin, "env OE_XOE_MONITOR_ENABLED");
  EXPECT_EQ(cfg.get_list("modules"), (std::vector<std::string>{"sale", "stock"}));
}

TEST(Config, UnknownKeyInFileNamesFileAndLine) {
  test::TempDir dir;
  auto file = dir.write("xoe.toml", "[database]\nport = 5433\nbackned = \"sqlite\"\n");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), file, {}, {}); }),
            file.string() + ":3: unknown key 'database.backned'");
}

TEST(Config, SyntaxErrorNamesFileAndLine) {
  test::TempDir dir;
  auto file = dir.write("xoe.toml", "[database]\nport = = 5\n");
  auto msg = error_of([&] { core::Config::load("xoe", schema(), file, {}, {}); });
  EXPECT_EQ(msg.rfind(file.string() + ":2: ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

TEST(Config, BadValuesRejected) {
  test::TempDir dir;
  auto wrong_type = dir.write("a.toml", "[database]\nport = \"high\"\n");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), wrong_type, {}, {}); }),
            wrong_type.string() + ":2: database.port must be an integer");
  auto out_of_range = dir.write("b.toml", "[database]\nport = 70000\n");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), out_of_range, {}, {}); }),
            out_of_range.string() + ":2: database.port: 70000 is out of range 1..65535");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), dir.path() / "none", {"database.backend=mysql"}, {}); }),
            "--set: database.backend: 'mysql' is not one of postgresql, sqlite");
  EXPECT_EQ(error_of([&] {
              core::Config::load("xoe", schema(), dir.path() / "none", {}, {{"OE_XOE_DATABASE_PORT", "12ab"}});
            }),
            "env OE_XOE_DATABASE_PORT: database.port must be an integer, not '12ab'");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), dir.path() / "none", {"nokey"}, {}); }),
            "--set 'nokey': expected KEY=VALUE");
  EXPECT_EQ(error_of([&] { core::Config::load("xoe", schema(), dir.path() / "none", {"x.y=1"}, {}); }),
            "--set: unknown key 'x.y'");
  EXPECT_EQ(error_of([&] {
              core::Config::load("xoe", schema(), dir.path() / "none", {}, {{"OE_XOE_DATABSE_PORT", "1"}});
            }),
            "env OE_XOE_DATABSE_PORT: unknown key");
}

TEST(Config, OtherToolsVariablesIgnored) {
  test::TempDir dir;
  auto cfg = core::Config::load("xoe", schema(), dir.path() / "none", {}, {{"OE_CLOE_ANYTHING", "1"}, {"OE_ROOT", "/"}});
  EXPECT_EQ(cfg.get_int("database.port"), 5432);
}

TEST(Config, SecretsNeverDisplayed) {
  test::TempDir dir;
  auto cfg = core::Config::load("xoe", schema(), dir.path() / "none", {"mail.password=hunter2"}, {});
  EXPECT_EQ(cfg.get_string("mail.password"), "hunter2");
  EXPECT_EQ(core::Config::display(cfg.entry("mail.password")), "***");
  EXPECT_EQ(core::Config::display(cfg.entry("database.backend")), "\"postgresql\"");
  EXPECT_EQ(core::Config::display(cfg.entry("modules")), "[\"base\"]");
}

TEST(Config, EnvName) {
  EXPECT_EQ(core::env_name("xoe", "database.host"), "OE_XOE_DATABASE_HOST");
  EXPECT_EQ(core::env_name("cloe", "ssh.connect-timeout"), "OE_CLOE_SSH_CONNECT_TIMEOUT");
}

}  // namespace
