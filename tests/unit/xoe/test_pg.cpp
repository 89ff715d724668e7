// SPDX-License-Identifier: GPL-3.0-or-later
// The SQL xoe sends to hand a database to a service's role, and where the
// settings put xoe's own cluster. The real thing: scenario.xoe_postgresql.
#include "pg.hpp"

#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/paths.hpp"
#include "xoe/tool.hpp"

namespace {

xoe::Settings settings_with(const std::vector<std::string>& assignments) {
  auto config = core::Config::load("xoe", xoe::config_schema(), "/nonexistent/xoe.toml", assignments, {});
  return xoe::make_settings(core::Paths("/srv/oe"), config);
}

}  // namespace

TEST(Pg, LiteralsDoubleTheirQuotes) {
  EXPECT_EQ(xoe::detail::quote_literal("abc"), "'abc'");
  EXPECT_EQ(xoe::detail::quote_literal("a'b''c"), "'a''b''''c'");
  EXPECT_EQ(xoe::detail::quote_literal(""), "''");
}

TEST(Pg, SealGivesTheDatabaseToTheRoleAndShutsPublicOut) {
  EXPECT_EQ(xoe::detail::seal_sql("acme", "xoe-acme"),
            "ALTER DATABASE \"acme\" OWNER TO \"xoe-acme\";\n"
            "REVOKE ALL ON DATABASE \"acme\" FROM PUBLIC;\n");
}

TEST(Pg, HandOverNamesTheRoleQuotedEverywhere) {
  std::string sql = xoe::detail::hand_over_sql("xoe-o'hara");
  // The database is sealed beforehand, by the superuser, outside it.
  EXPECT_EQ(sql.find("ALTER DATABASE"), std::string::npos) << sql;
  EXPECT_NE(sql.find("target name := 'xoe-o''hara';"), std::string::npos) << sql;
  EXPECT_NE(sql.find("WHERE rolname = 'xoe-o''hara'"), std::string::npos) << sql;
  // Tables before sequences (ALTER TABLE moves the sequences of its columns);
  // an extension's objects are left alone.
  EXPECT_NE(sql.find("ORDER BY c.relkind = 'S'"), std::string::npos);
  EXPECT_NE(sql.find("d.deptype = 'e'"), std::string::npos);
  // One dollar-quoted block, closed.
  auto open = sql.find("DO $xoe$"), close = sql.rfind("$xoe$;");
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(close, std::string::npos);
  EXPECT_LT(open, close);
}

TEST(Pg, AnEmptyHostMeansXoesOwnClusterOnItsOwnPort) {
  auto s = settings_with({});
  EXPECT_TRUE(s.own_cluster);
  EXPECT_EQ(s.db_host, "/srv/oe/var/lib/postgresql/oe-xoe");  // its socket in its data folder
  EXPECT_EQ(s.db_port, 5433);
  EXPECT_EQ(s.db_service_host, "127.0.0.1");
  EXPECT_EQ(s.cluster_data, "/srv/oe/var/lib/postgresql/oe-xoe");
  auto moved = settings_with({"database.cluster_port=6000"});
  EXPECT_EQ(moved.db_port, 6000);
}

TEST(Pg, AConfiguredServerIsUsedAsItIs) {
  auto tcp = settings_with({"database.host=db.example", "database.port=5444"});
  EXPECT_FALSE(tcp.own_cluster);
  EXPECT_EQ(tcp.db_host, "db.example");
  EXPECT_EQ(tcp.db_service_host, "db.example");
  EXPECT_EQ(tcp.db_port, 5444);
  // A socket folder is for xoe; the services reach that server over TCP on 127.0.0.1.
  auto socket = settings_with({"database.host=/var/run/postgresql"});
  EXPECT_FALSE(socket.own_cluster);
  EXPECT_EQ(socket.db_host, "/var/run/postgresql");
  EXPECT_EQ(socket.db_service_host, "127.0.0.1");
  EXPECT_EQ(socket.db_port, 5432);
}
