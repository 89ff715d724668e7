// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/sqlite.hpp"

#include "core/error.hpp"
#include "tempdir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using core::ErrorKind;
using test::TempDir;
using core::sqlite::Database;
using core::sqlite::OpenMode;
using core::sqlite::Statement;
using core::sqlite::Transaction;
using namespace std::chrono_literals;

using test::error_of;

std::string query_text(Database& db, std::string_view sql) {
  auto statement = db.query(sql);
  EXPECT_TRUE(statement.step()) << sql;
  return statement.column_text(0);
}

std::int64_t query_int(Database& db, std::string_view sql) {
  auto statement = db.query(sql);
  EXPECT_TRUE(statement.step()) << sql;
  return statement.column_int64(0);
}

bool table_exists(Database& db, std::string_view name) {
  auto statement =
      db.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", name);
  return statement.step();
}

class SqliteTest : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path file = dir.path() / "state.db";
};

// --- open ---------------------------------------------------------------------

TEST_F(SqliteTest, OpenCreatesFileInWalModeWithForeignKeysAndBusyTimeout) {
  auto db = Database::open(file);
  EXPECT_TRUE(fs::exists(file));
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int(db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 5000);
  EXPECT_EQ(db.busy_timeout(), 5000ms);
  EXPECT_EQ(db.path(), file);
}

TEST_F(SqliteTest, BusyTimeoutIsConfigurable) {
  auto db = Database::open(file, OpenMode::read_write_create, 250ms);
  EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 250);
  db.set_busy_timeout(1234ms);
  EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 1234);
  EXPECT_EQ(db.busy_timeout(), 1234ms);
}

TEST_F(SqliteTest, ForeignKeysAreEnforced) {
  auto db = Database::open(file);
  db.exec(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent (id))");
  auto e = error_of([&] { db.execute("INSERT INTO child (parent) VALUES (?1)", 42); });
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(e.what()).find("FOREIGN KEY constraint failed"), std::string::npos) << e.what();
}

TEST_F(SqliteTest, ReadOnlyModeReadsButNeverWrites) {
  {
    auto db = Database::open(file);
    db.exec("CREATE TABLE t (x TEXT)");
    db.execute("INSERT INTO t (x) VALUES (?1)", "kept");
  }
  auto db = Database::open(file, OpenMode::read_only);
  EXPECT_EQ(query_text(db, "SELECT x FROM t"), "kept");
  auto e = error_of([&] { db.execute("INSERT INTO t (x) VALUES (?1)", "nope"); });
  EXPECT_EQ(e.kind(), ErrorKind::io);
  EXPECT_NE(std::string(e.what()).find("readonly"), std::string::npos) << e.what();
}

TEST_F(SqliteTest, ReadOnlyOpenOfMissingFileIsNotFound) {
  auto e = error_of([&] { (void)Database::open(dir.path() / "missing.db", OpenMode::read_only); });
  EXPECT_EQ(e.kind(), ErrorKind::not_found);
  EXPECT_NE(std::string(e.what()).find("missing.db"), std::string::npos) << e.what();
  EXPECT_FALSE(fs::exists(dir.path() / "missing.db"));
}

TEST_F(SqliteTest, OpenInMissingDirectoryIsIoError) {
  auto e = error_of([&] { (void)Database::open(dir.path() / "no" / "such" / "x.db"); });
  EXPECT_EQ(e.kind(), ErrorKind::io);
  EXPECT_NE(std::string(e.what()).find("x.db"), std::string::npos) << e.what();
}

TEST_F(SqliteTest, DatabaseIsMovable) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (x INTEGER)");
  Database moved = std::move(db);
  moved.execute("INSERT INTO t (x) VALUES (?1)", 7);
  EXPECT_EQ(query_int(moved, "SELECT x FROM t"), 7);
}

// --- corrupt files --------------------------------------------------------------

std::string corrupt_message(const fs::path& path) {
  return path.string() + ": not a valid SQLite database (file is corrupt or not a database)";
}

TEST_F(SqliteTest, RandomBytesAreNotADatabase) {
  {
    std::ofstream out(file, std::ios::binary);
    std::mt19937 random(42);
    for (int i = 0; i < 8192; ++i) out.put(static_cast<char>(random() & 0xffU));
  }
  auto e = error_of([&] { (void)Database::open(file); });
  EXPECT_EQ(e.kind(), ErrorKind::io);
  EXPECT_EQ(std::string(e.what()), corrupt_message(file));
}

TEST_F(SqliteTest, TextFileIsNotADatabase) {
  std::ofstream(file) << "[service]\nname = \"acme\"\n";
  for (auto mode : {OpenMode::read_write_create, OpenMode::read_only}) {
    auto e = error_of([&] { (void)Database::open(file, mode); });
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(std::string(e.what()), corrupt_message(file));
  }
}

TEST_F(SqliteTest, TruncatedDatabaseIsReportedAtOpen) {
  {
    auto db = Database::open(file);
    db.exec("CREATE TABLE t (x TEXT)");
    Transaction transaction(db);
    auto insert = db.prepare("INSERT INTO t (x) VALUES (?1)");
    for (int i = 0; i < 2000; ++i) {
      insert.reset();
      insert.bind_all(std::string(100, static_cast<char>('a' + i % 26)));
      EXPECT_FALSE(insert.step());
    }
    transaction.commit();
  }
  ASSERT_FALSE(fs::exists(file.string() + "-wal"));  // checkpointed on close
  const auto size = fs::file_size(file);
  ASSERT_GT(size, 100000U);
  for (auto cut : {size / 2, std::uintmax_t{4096}, std::uintmax_t{50}}) {
    fs::path copy = dir.path() / ("cut-" + std::to_string(cut) + ".db");
    fs::copy_file(file, copy);
    fs::resize_file(copy, cut);
    auto e = error_of([&] { (void)Database::open(copy); });
    EXPECT_EQ(e.kind(), ErrorKind::io) << "cut at " << cut;
    EXPECT_EQ(std::string(e.what()), corrupt_message(copy)) << "cut at " << cut;
  }
}

TEST_F(SqliteTest, EmptyFileIsAnEmptyDatabase) {
  std::ofstream{file};
  auto db = Database::open(file);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
}

// --- statements and binding -----------------------------------------------------

TEST_F(SqliteTest, BoundStringsAreStoredVerbatim) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const std::vector<std::string> values = {
      "O'Brien",
      "Robert'); DROP TABLE t; --",
      "\"double\" and 'single' quotes",
      "x' OR '1'='1",
      "back\\slash and \\' escaped",
      "percent %s %n {} {0}",
      "?1 ?2 :name @at $dollar",
      "line one\nline two\r\n\ttab",
      "ünïcödé ✓ 日本語",
      std::string("embedded\0nul", 12),
      "",
      std::string(100000, 'z'),
  };
  for (const auto& value : values) db.execute("INSERT INTO t (v) VALUES (?1)", value);

  EXPECT_TRUE(table_exists(db, "t"));
  auto rows = db.query("SELECT v FROM t ORDER BY id");
  for (const auto& value : values) {
    ASSERT_TRUE(rows.step());
    EXPECT_FALSE(rows.column_is_null(0));
    EXPECT_EQ(rows.column_text(0), value);
  }
  EXPECT_FALSE(rows.step());

  // Lookups by bound value find exactly the one row.
  for (const auto& value : values) {
    auto match = db.query("SELECT count(*) FROM t WHERE v = ?1", value);
    ASSERT_TRUE(match.step());
    EXPECT_EQ(match.column_int64(0), 1) << value.substr(0, 40);
  }
}

TEST_F(SqliteTest, BindsEveryValueType) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (a, b, c, d, e, f, g, h, i, j)");
  const std::optional<std::int64_t> some = 99;
  const std::optional<std::string> none;
  const std::string text = "text";
  db.execute("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
             std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), 2.5,
             nullptr, some, none, 7, true, std::string_view("view"), text);
  auto row = db.query("SELECT a, b, c, d, e, f, g, h, i, j FROM t");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_count(), 10);
  EXPECT_EQ(row.column_int64(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(row.column_int64(1), std::numeric_limits<std::int64_t>::max());
  EXPECT_DOUBLE_EQ(row.column_double(2), 2.5);
  EXPECT_TRUE(row.column_is_null(3));
  EXPECT_EQ(row.column_optional_int64(3), std::nullopt);
  EXPECT_EQ(row.column_optional_text(3), std::nullopt);
  EXPECT_EQ(row.column_optional_double(3), std::nullopt);
  EXPECT_EQ(row.column_text(3), "");
  EXPECT_EQ(row.column_int64(3), 0);
  EXPECT_EQ(row.column_optional_int64(4), 99);
  EXPECT_TRUE(row.column_is_null(5));
  EXPECT_EQ(row.column_int64(6), 7);
  EXPECT_EQ(row.column_int64(7), 1);
  EXPECT_EQ(row.column_optional_text(8), "view");
  EXPECT_EQ(row.column_text(9), "text");
  EXPECT_FALSE(row.step());
}

TEST_F(SqliteTest, UnsignedOutOfInt64RangeIsRefused) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (x INTEGER)");
  auto e = error_of(
      [&] { db.execute("INSERT INTO t VALUES (?1)", std::numeric_limits<std::uint64_t>::max()); });
  EXPECT_EQ(e.kind(), ErrorKind::internal);
  db.execute("INSERT INTO t VALUES (?1)", std::uint64_t{42});
  EXPECT_EQ(query_int(db, "SELECT x FROM t"), 42);
}

TEST_F(SqliteTest, StatementCanBeResetAndRebound) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (n INTEGER, s TEXT)");
  auto insert = db.prepare("INSERT INTO t (n, s) VALUES (?1, ?2)");
  for (int i = 0; i < 5; ++i) {
    insert.reset();
    insert.bind(1, i);
    insert.bind(2, "row " + std::to_string(i));
    EXPECT_FALSE(insert.step());
    EXPECT_EQ(db.changes(), 1);
    EXPECT_EQ(db.last_insert_rowid(), i + 1);
  }
  insert.reset();
  insert.clear_bindings();
  EXPECT_FALSE(insert.step());  // NULL, NULL

  auto select = db.prepare("SELECT s FROM t WHERE n = ?1");
  for (int i : {3, 0, 4}) {
    select.reset();
    select.bind_all(i);
    ASSERT_TRUE(select.step());
    EXPECT_EQ(select.column_text(0), "row " + std::to_string(i));
    EXPECT_FALSE(select.step());
  }
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t WHERE n IS NULL AND s IS NULL"), 1);
}

TEST_F(SqliteTest, ExecuteReturnsChangedRows) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (n INTEGER)");
  for (int i = 0; i < 4; ++i) db.execute("INSERT INTO t (n) VALUES (?1)", i);
  EXPECT_EQ(db.execute("UPDATE t SET n = n + 10 WHERE n >= ?1", 2), 2);
  EXPECT_EQ(db.execute("DELETE FROM t"), 4);
}

TEST_F(SqliteTest, ParameterCountMustMatch) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (a, b)");
  auto too_few = error_of([&] { db.execute("INSERT INTO t (a, b) VALUES (?1, ?2)", 1); });
  EXPECT_EQ(too_few.kind(), ErrorKind::internal);
  EXPECT_NE(std::string(too_few.what()).find("INSERT INTO t (a,"), std::string::npos)
      << too_few.what();
  auto too_many = error_of([&] { db.execute("INSERT INTO t (a, b) VALUES (1, 2)", 1); });
  EXPECT_EQ(too_many.kind(), ErrorKind::internal);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 0);
}

TEST_F(SqliteTest, PrepareRefusesASecondStatement) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (a)");
  auto e = error_of([&] { (void)db.prepare("SELECT 1; DROP TABLE t"); });
  EXPECT_EQ(e.kind(), ErrorKind::internal);
  EXPECT_TRUE(table_exists(db, "t"));
  // Trailing separators and comments are fine.
  EXPECT_EQ(query_int(db, "SELECT 1;  "), 1);
  EXPECT_EQ(query_int(db, "SELECT 2 -- the answer\n; /* done */"), 2);
}

TEST_F(SqliteTest, ErrorsNameTheFileTheStatementAndSqliteMessage) {
  auto db = Database::open(file);
  auto e = error_of([&] {
    db.execute("INSERT INTO missing_table (a, b, c)\n  VALUES (?1, ?2, ?3)", 1, 2, 3);
  });
  EXPECT_EQ(e.kind(), ErrorKind::internal);
  std::string message = e.what();
  EXPECT_NE(message.find(file.filename().string()), std::string::npos) << message;
  EXPECT_NE(message.find("INSERT INTO missing_table (a,"), std::string::npos) << message;
  EXPECT_NE(message.find("no such table: missing_table"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;

  auto syntax = error_of([&] { db.exec("CREATE TABLE (oops"); });
  EXPECT_EQ(syntax.kind(), ErrorKind::internal);
  EXPECT_NE(std::string(syntax.what()).find("syntax error"), std::string::npos) << syntax.what();

  db.exec("CREATE TABLE u (x TEXT UNIQUE)");
  db.execute("INSERT INTO u VALUES (?1)", "a");
  auto unique = error_of([&] { db.execute("INSERT INTO u VALUES (?1)", "a"); });
  EXPECT_EQ(unique.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(unique.what()).find("UNIQUE constraint failed: u.x"), std::string::npos)
      << unique.what();
}

TEST_F(SqliteTest, ColumnOutOfRangeIsABug) {
  auto db = Database::open(file);
  auto row = db.query("SELECT 1");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(error_of([&] { (void)row.column_int64(1); }).kind(), ErrorKind::internal);
  EXPECT_EQ(error_of([&] { (void)row.column_text(-1); }).kind(), ErrorKind::internal);
}

TEST_F(SqliteTest, ExecRunsSeveralStatements) {
  auto db = Database::open(file);
  db.exec(R"sql(
    CREATE TABLE a (x);
    CREATE TABLE b (y);
    CREATE INDEX b_y ON b (y);
  )sql");
  EXPECT_TRUE(table_exists(db, "a"));
  EXPECT_TRUE(table_exists(db, "b"));
}

// --- transactions ---------------------------------------------------------------

TEST_F(SqliteTest, CommittedTransactionPersists) {
  {
    auto db = Database::open(file);
    db.exec("CREATE TABLE t (x)");
    Transaction transaction(db);
    EXPECT_TRUE(db.in_transaction());
    db.execute("INSERT INTO t VALUES (?1)", 1);
    transaction.commit();
    EXPECT_FALSE(db.in_transaction());
  }
  auto db = Database::open(file);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteTest, TransactionRollsBackOnException) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (x)");
  db.execute("INSERT INTO t VALUES (?1)", "before");
  EXPECT_THROW(
      {
        Transaction transaction(db);
        db.execute("INSERT INTO t VALUES (?1)", "inside");
        db.execute("DELETE FROM t WHERE x = ?1", "before");
        throw std::runtime_error("step failed");
      },
      std::runtime_error);
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(query_text(db, "SELECT x FROM t"), "before");
}

TEST_F(SqliteTest, TransactionWithoutCommitRollsBack) {
  auto db = Database::open(file);
  db.exec("CREATE TABLE t (x)");
  {
    Transaction transaction(db);
    db.execute("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 0);
  // The connection is usable afterwards.
  Transaction again(db);
  db.execute("INSERT INTO t VALUES (2)");
  again.commit();
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteTest, TransactionsDoNotNest) {
  auto db = Database::open(file);
  Transaction outer(db);
  EXPECT_EQ(error_of([&] { Transaction inner(db); }).kind(), ErrorKind::internal);
  outer.commit();
}

// --- two connections ------------------------------------------------------------

TEST_F(SqliteTest, WalLetsReadersProceedDuringAWrite) {
  auto writer = Database::open(file);
  writer.exec("CREATE TABLE t (x)");
  writer.execute("INSERT INTO t VALUES (1)");
  auto reader = Database::open(file, OpenMode::read_write_create, 0ms);

  Transaction transaction(writer);
  writer.execute("INSERT INTO t VALUES (2)");
  // No waiting, no SQLITE_BUSY: the reader sees the last committed state.
  EXPECT_EQ(query_int(reader, "SELECT count(*) FROM t"), 1);
  transaction.commit();
  EXPECT_EQ(query_int(reader, "SELECT count(*) FROM t"), 2);
}

TEST_F(SqliteTest, SecondWriterGivesUpAfterTheBusyTimeout) {
  auto first = Database::open(file);
  auto second = Database::open(file, OpenMode::read_write_create, 300ms);
  Transaction held(first);

  auto start = std::chrono::steady_clock::now();
  auto e = error_of([&] { Transaction blocked(second); });
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_NE(std::string(e.what()).find("database is locked"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("BEGIN IMMEDIATE"), std::string::npos) << e.what();
  EXPECT_GE(waited, 280ms);
  EXPECT_LT(waited, 3s);
  held.commit();
  Transaction now_free(second);
  now_free.commit();
}

TEST_F(SqliteTest, SecondWriterWaitsForTheFirstWithinTheBusyTimeout) {
  auto first = Database::open(file);
  first.exec("CREATE TABLE t (x)");
  auto held = std::make_unique<Transaction>(first);
  first.execute("INSERT INTO t VALUES (?1)", "first");

  std::atomic<bool> ok = false;
  std::atomic<bool> started = false;
  std::chrono::steady_clock::duration waited{};
  std::thread contender([&] {
    auto second = Database::open(file);  // default 5 s timeout
    started = true;
    auto start = std::chrono::steady_clock::now();
    Transaction transaction(second);
    waited = std::chrono::steady_clock::now() - start;
    second.execute("INSERT INTO t VALUES (?1)", "second");
    transaction.commit();
    ok = true;
  });
  while (!started) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(400ms);
  held->commit();
  held.reset();
  contender.join();
  EXPECT_TRUE(ok);
  EXPECT_GE(waited, 300ms);
  EXPECT_EQ(query_int(first, "SELECT count(*) FROM t"), 2);
}

// --- migrations -----------------------------------------------------------------

constexpr std::array<std::string_view, 3> tier_a_steps = {
    "CREATE TABLE service (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE vm (id INTEGER PRIMARY KEY, service INTEGER NOT NULL REFERENCES service (id))",
    "ALTER TABLE service ADD COLUMN tier TEXT NOT NULL DEFAULT 'basic';"
    "CREATE INDEX service_tier ON service (tier)",
};

TEST_F(SqliteTest, FreshDatabaseHasVersionZero) {
  auto db = Database::open(file);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.a"), 0);
  EXPECT_FALSE(table_exists(db, "schema_version"));
}

TEST_F(SqliteTest, MigrateAppliesAllStepsAndIsIdempotent) {
  auto db = Database::open(file);
  EXPECT_EQ(core::sqlite::migrate(db, "test.a", tier_a_steps), 3);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.a"), 3);
  EXPECT_TRUE(table_exists(db, "service"));
  EXPECT_TRUE(table_exists(db, "vm"));
  db.execute("INSERT INTO service (name) VALUES (?1)", "acme");
  // The steps have no IF NOT EXISTS: running one twice would fail.
  EXPECT_EQ(core::sqlite::migrate(db, "test.a", tier_a_steps), 3);
  auto reopened = Database::open(file);
  EXPECT_EQ(core::sqlite::migrate(reopened, "test.a", tier_a_steps), 3);
  EXPECT_EQ(query_text(reopened, "SELECT tier FROM service WHERE name = 'acme'"), "basic");
}

TEST_F(SqliteTest, MigrateIsIncremental) {
  {
    auto db = Database::open(file);
    EXPECT_EQ(core::sqlite::migrate(db, "test.a", std::span(tier_a_steps).first(1)), 1);
    EXPECT_FALSE(table_exists(db, "vm"));
    db.execute("INSERT INTO service (name) VALUES (?1)", "acme");
  }
  auto db = Database::open(file);
  EXPECT_EQ(core::sqlite::migrate(db, "test.a", std::span(tier_a_steps).first(2)), 2);
  EXPECT_TRUE(table_exists(db, "vm"));
  EXPECT_EQ(core::sqlite::migrate(db, "test.a", tier_a_steps), 3);
  EXPECT_EQ(query_text(db, "SELECT name || '/' || tier FROM service"), "acme/basic");
}

TEST_F(SqliteTest, TiersHaveIndependentVersions) {
  auto db = Database::open(file);
  constexpr std::array<std::string_view, 1> tier_b = {"CREATE TABLE b_thing (x)"};
  EXPECT_EQ(core::sqlite::migrate(db, "test.a", std::span(tier_a_steps).first(2)), 2);
  EXPECT_EQ(core::sqlite::migrate(db, "test.b", tier_b), 1);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.a"), 2);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.b"), 1);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.c"), 0);
}

TEST_F(SqliteTest, NewerSchemaIsRefused) {
  auto db = Database::open(file);
  core::sqlite::migrate(db, "test.a", tier_a_steps);
  auto e = error_of([&] { core::sqlite::migrate(db, "test.a", std::span(tier_a_steps).first(2)); });
  EXPECT_EQ(e.kind(), ErrorKind::conflict);
  EXPECT_EQ(std::string(e.what()),
            file.string() +
                ": database schema of tier test.a is version 3, newer than this program (2); "
                "upgrade the program");
  EXPECT_EQ(core::sqlite::schema_version(db, "test.a"), 3);
}

TEST_F(SqliteTest, FailingMigrationStepLeavesThePreviousVersion) {
  auto db = Database::open(file);
  constexpr std::array<std::string_view, 2> steps = {
      "CREATE TABLE one (x)",
      "CREATE TABLE two (x); INSERT INTO no_such_table VALUES (1)",
  };
  auto e = error_of([&] { core::sqlite::migrate(db, "test.fail", steps); });
  EXPECT_EQ(e.kind(), ErrorKind::internal);
  std::string message = e.what();
  EXPECT_NE(message.find("schema migration 2 of tier test.fail"), std::string::npos) << message;
  EXPECT_NE(message.find("no such table: no_such_table"), std::string::npos) << message;
  EXPECT_EQ(core::sqlite::schema_version(db, "test.fail"), 1);
  EXPECT_TRUE(table_exists(db, "one"));
  EXPECT_FALSE(table_exists(db, "two"));  // DDL is transactional in SQLite
  EXPECT_FALSE(db.in_transaction());
}

TEST_F(SqliteTest, ConcurrentProcessesApplyEachStepOnce) {
  // Each step would fail if applied twice; four processes race to migrate.
  constexpr std::array<std::string_view, 4> steps = {
      "CREATE TABLE s1 (x)", "CREATE TABLE s2 (x)", "CREATE TABLE s3 (x)", "CREATE TABLE s4 (x)"};
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        auto db = Database::open(file);
        code = core::sqlite::migrate(db, "test.race", steps) == 4 ? 0 : 1;
      } catch (...) {
        code = 2;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto db = Database::open(file);
  EXPECT_EQ(core::sqlite::schema_version(db, "test.race"), 4);
}

}  // namespace
