// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// SQLite, the way the suite uses it: RAII owners for the connection and its
// prepared statements, values always bound (never spliced into SQL),
// BEGIN IMMEDIATE transactions, and per-tier schema migrations.
//
// Every SQLite failure is converted into a core::Error right after the failing
// call. The message is one line: "<file>: <first words of the SQL>: <sqlite
// message>". Kinds:
//   conflict  the database is busy or locked past the busy timeout, or a
//             constraint (UNIQUE, FOREIGN KEY, CHECK, NOT NULL) was violated;
//             also a schema newer than the program (see migrate)
//   io        the file cannot be opened, read or written (permissions, disk
//             full, read-only), or is not a valid SQLite database: corrupt or
//             truncated files and foreign files all report
//             "<file>: not a valid SQLite database (file is corrupt or not a database)"
//   not_found opening a database read-only that does not exist
//   internal  bad SQL, wrong parameter count or index, misuse: a bug
//   failed    anything else
//
// Threads: a Database and its Statements belong to one thread at a time. A
// connection must not be carried across fork(): open a new one in the child.

#include "core/error.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace core::sqlite {

enum class OpenMode {
  read_write_create,  // create the file if missing; WAL journal
  read_only,          // the file must exist; nothing is ever written
};

inline constexpr std::chrono::milliseconds default_busy_timeout{5000};

class Statement;

// One connection to one database file.
class Database {
 public:
  // Opens (or, in read_write_create mode, creates) the database at `path`:
  // journal_mode=WAL (read-write mode), foreign_keys=ON, and a busy timeout
  // during which a locked database is retried before SQLITE_BUSY is reported
  // as ErrorKind::conflict. Reads the file's header and schema right away, so
  // a corrupt or foreign file fails here with ErrorKind::io
  // "<path>: not a valid SQLite database (file is corrupt or not a database)".
  // A missing file in read_only mode is ErrorKind::not_found.
  [[nodiscard]] static Database open(const std::filesystem::path& path,
                                     OpenMode mode = OpenMode::read_write_create,
                                     std::chrono::milliseconds busy_timeout = default_busy_timeout);

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() = default;

  // Runs SQL text without parameters, possibly several statements separated
  // by ';'. Only for DDL and pragmas written in the program: anything carrying
  // a value goes through execute()/query() with bound parameters.
  void exec(std::string_view sql);

  // Prepares exactly one statement (trailing text other than whitespace or
  // comments is rejected as ErrorKind::internal).
  [[nodiscard]] Statement prepare(std::string_view sql);

  // Prepares `sql`, binds `params` to ?1, ?2, ... (see Statement::bind for
  // the accepted types; their number must match the SQL) and returns the
  // statement, positioned before the first row: call step().
  template <typename... Params>
  [[nodiscard]] Statement query(std::string_view sql, const Params&... params);

  // Prepares `sql`, binds `params`, runs it to completion and returns the
  // number of rows changed (inserted, updated or deleted). Rows the statement
  // returns are discarded.
  template <typename... Params>
  std::int64_t execute(std::string_view sql, const Params&... params);

  // The number of rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t changes() const noexcept;

  // The rowid of the last successful INSERT on this connection.
  [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;

  // True while a transaction is open on this connection.
  [[nodiscard]] bool in_transaction() const noexcept;

  // Changes how long a locked database is retried before reporting
  // ErrorKind::conflict.
  void set_busy_timeout(std::chrono::milliseconds timeout);
  [[nodiscard]] std::chrono::milliseconds busy_timeout() const noexcept { return busy_timeout_; }

  // The file as given to open().
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // The connection, for the few things this wrapper does not cover. Still
  // owned by this Database.
  [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const noexcept;
  };
  Database(std::unique_ptr<sqlite3, Closer> db, std::filesystem::path path,
           std::chrono::milliseconds busy_timeout);

  std::unique_ptr<sqlite3, Closer> db_;
  std::filesystem::path path_;
  std::chrono::milliseconds busy_timeout_;
};

// One prepared statement. Must not outlive the Database that prepared it.
// Parameter and column indexes follow SQLite: parameters from 1, columns
// from 0.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);

  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() = default;

  // Binds a value to parameter `index` (1-based). Strings are copied and
  // stored byte for byte (quotes, NULs and all). An empty optional and a null
  // const char* bind NULL; unsigned values above INT64_MAX are refused
  // (ErrorKind::internal).
  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind(int index, std::string_view value);
  void bind(int index, std::nullptr_t);
  template <std::integral T>
    requires(!std::same_as<T, std::int64_t>)
  void bind(int index, T value) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (value > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        fail(ErrorKind::internal, "sqlite: parameter {} is {}, out of the int64 range", index, value);
      }
    }
    bind(index, static_cast<std::int64_t>(value));
  }
  void bind(int index, const std::string& value) { bind(index, std::string_view(value)); }
  void bind(int index, const char* value) {
    if (value == nullptr) {
      bind(index, nullptr);
    } else {
      bind(index, std::string_view(value));
    }
  }
  template <typename T>
  void bind(int index, const std::optional<T>& value) {
    if (value) {
      bind(index, *value);
    } else {
      bind(index, nullptr);
    }
  }

  // Binds `params` to parameters 1..N; N must be the statement's parameter
  // count (ErrorKind::internal otherwise).
  template <typename... Params>
  void bind_all(const Params&... params) {
    check_parameter_count(sizeof...(Params));
    int index = 1;
    (bind(index++, params), ...);
  }

  // Advances to the next row: true when a row is available through the
  // column getters, false when the statement has finished.
  bool step();

  // Rewinds the statement so it can be stepped again; bindings are kept.
  void reset() noexcept;
  // Sets every parameter back to NULL.
  void clear_bindings() noexcept;

  // Column getters for the current row (0-based). NULL reads as 0, 0.0 or
  // "" in the plain getters and as nullopt in the optional ones.
  [[nodiscard]] int column_count() const noexcept;
  [[nodiscard]] bool column_is_null(int index) const;
  [[nodiscard]] std::int64_t column_int64(int index) const;
  [[nodiscard]] double column_double(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] std::optional<std::int64_t> column_optional_int64(int index) const;
  [[nodiscard]] std::optional<double> column_optional_double(int index) const;
  [[nodiscard]] std::optional<std::string> column_optional_text(int index) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  void check_parameter_count(std::size_t given) const;
  void check_column(int index) const;

  sqlite3* db_;  // not owned
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  std::string head_;  // the SQL's first words, for error messages
};

enum class TransactionMode {
  immediate,  // BEGIN IMMEDIATE: takes the write lock now (waits up to the busy timeout)
  deferred,   // BEGIN: a consistent read snapshot; the write lock is taken on first write
};

// A transaction on `db`, rolled back on destruction unless commit() returned.
// Transactions do not nest.
class Transaction {
 public:
  explicit Transaction(Database& db, TransactionMode mode = TransactionMode::immediate);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Commits; on failure throws and leaves the transaction to be rolled back
  // by the destructor.
  void commit();

 private:
  Database& db_;
  bool committed_ = false;
};

// The version of `tier`'s schema recorded in the table
// schema_version(tier TEXT PRIMARY KEY, version INTEGER NOT NULL); 0 when the
// tier (or the table) is not there yet.
[[nodiscard]] std::int64_t schema_version(Database& db, std::string_view tier);

// Brings `tier`'s schema to version steps.size(): applies steps[v], steps[v+1],
// ... where v is the recorded version, each in its own BEGIN IMMEDIATE
// transaction together with the new version number, so an interrupted run
// resumes where it stopped and concurrent processes apply each step once.
// A step is SQL text for exec() and must not contain BEGIN/COMMIT. Steps are
// append-only: never edit a released one. Returns the resulting version.
// Throws ErrorKind::conflict "<file>: database schema of tier X is version N,
// newer than this program (M); upgrade the program" when the recorded version
// is above steps.size(); a failing step is reported with the kind of its SQLite
// error and its tier and number, and leaves the schema at the previous version.
std::int64_t migrate(Database& db, std::string_view tier, std::span<const std::string_view> steps);

// ---------------------------------------------------------------------------

template <typename... Params>
Statement Database::query(std::string_view sql, const Params&... params) {
  Statement statement(*this, sql);
  statement.bind_all(params...);
  return statement;
}

template <typename... Params>
std::int64_t Database::execute(std::string_view sql, const Params&... params) {
  Statement statement = query(sql, params...);
  while (statement.step()) {
  }
  return changes();
}

}  // namespace core::sqlite
