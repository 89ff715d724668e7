// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/sqlite.hpp"

#include "core/error.hpp"
#include "core/log.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace core::sqlite {
namespace {

std::shared_ptr<spdlog::logger> core_log() { return logger("core"); }

// SQLITE_TRANSIENT is an old-style cast in a macro; spelled out here so the
// warning flags stay clean.
sqlite3_destructor_type transient() noexcept {
  return reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));
}

// The first words of `sql` on one line, for error messages: enough to tell
// which statement failed without quoting values (there are none: values are
// bound) or pages of DDL.
std::string sql_head(std::string_view sql) {
  constexpr std::size_t max_words = 4;
  constexpr std::size_t max_chars = 48;
  std::string head;
  std::size_t words = 0;
  bool in_space = true;
  bool truncated = false;
  for (char c : sql) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space) {
      if (words == max_words || head.size() >= max_chars) {
        truncated = true;
        break;
      }
      if (!head.empty()) head += ' ';
      ++words;
      in_space = false;
    }
    if (head.size() >= max_chars) {
      truncated = true;
      break;
    }
    head += c;
  }
  if (truncated) head += "...";
  return head;
}

std::string file_name_of(sqlite3* db) {
  const char* name = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  if (name == nullptr || *name == '\0') return ":memory:";
  return name;
}

ErrorKind kind_for(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CONSTRAINT: return ErrorKind::conflict;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS: return ErrorKind::io;
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_SCHEMA:
    case SQLITE_TOOBIG: return ErrorKind::internal;
    default: return ErrorKind::failed;
  }
}

bool is_corrupt(int rc) noexcept {
  return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

// Converts the SQLite error `rc` just returned by a call on `db` about
// `file`; `context` is what was being done (usually the SQL's first words).
[[noreturn]] void throw_error(std::string_view file, sqlite3* db, int rc, std::string_view context,
                              const char* message = nullptr) {
  if (is_corrupt(rc)) {
    if (context.empty()) {
      fail(ErrorKind::io, "{}: not a valid SQLite database (file is corrupt or not a database)", file);
    }
    fail(ErrorKind::io, "{}: not a valid SQLite database (file is corrupt or not a database); at {}",
         file, context);
  }
  std::string text;
  if (message != nullptr) {
    text = message;
  } else if (db != nullptr) {
    text = sqlite3_errmsg(db);
  } else {
    text = sqlite3_errstr(rc);
  }
  // SQLite messages are one line, but SQL in them ("near ...") might not be.
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (context.empty()) fail(kind_for(rc), "{}: {}", file, text);
  fail(kind_for(rc), "{}: {}: {}", file, context, text);
}

[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context,
                              const char* message = nullptr) {
  throw_error(file_name_of(db), db, rc, context, message);
}

// SQLite's own diagnostics (recovered WAL frames, corruption details, ...)
// go to the "core" logger. Process-wide; must precede sqlite3_initialize(), so
// it is skipped when something else in the process initialised SQLite first.
void route_sqlite_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto callback = [](void*, int code, const char* message) {
      core_log()->debug("sqlite: ({}) {}", code, message != nullptr ? message : "");
    };
    sqlite3_config(SQLITE_CONFIG_LOG, static_cast<void (*)(void*, int, const char*)>(callback),
                   nullptr);
  });
}

// Runs one statement of open(): SQLITE_OK and the first column of the last
// row in `result`, or the error code (the message stays on the connection).
int run_open_statement(sqlite3* db, std::string_view sql, std::string& result) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    if (const unsigned char* text = sqlite3_column_text(stmt.get(), 0); text != nullptr) {
      result = reinterpret_cast<const char*>(text);
    }
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

struct FreeMessage {
  void operator()(char* message) const noexcept { sqlite3_free(message); }
};

}  // namespace

// --- Database ---------------------------------------------------------------

void Database::Closer::operator()(sqlite3* db) const noexcept {
  // close_v2 defers the close until the last statement is finalized instead
  // of failing with SQLITE_BUSY.
  if (int rc = sqlite3_close_v2(db); rc != SQLITE_OK) {
    core_log()->warn("sqlite: closing {}: {}", file_name_of(db), sqlite3_errstr(rc));
  }
}

Database::Database(std::unique_ptr<sqlite3, Closer> db, std::filesystem::path path,
                   std::chrono::milliseconds busy_timeout)
    : db_(std::move(db)), path_(std::move(path)), busy_timeout_(busy_timeout) {}

Database Database::open(const std::filesystem::path& path, OpenMode mode,
                        std::chrono::milliseconds busy_timeout) {
  route_sqlite_log();
  const std::string file = path.string();
  int flags = mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, Closer> owner(raw);
  if (rc != SQLITE_OK) {
    if (mode == OpenMode::read_only && (rc & 0xff) == SQLITE_CANTOPEN) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        fail(ErrorKind::not_found, "{}: database does not exist", file);
      }
    }
    throw_error(file, raw, rc, "open");
  }
  sqlite3_extended_result_codes(raw, 1);

  Database db(std::move(owner), path, busy_timeout);
  db.set_busy_timeout(busy_timeout);

  // Touch the header and the schema now, so that a foreign or damaged file is
  // reported at open with the file's name instead of at some later query.
  // SQLite does not call the busy handler on every path these statements
  // take (switching a new file to WAL while another process opens it answers
  // SQLITE_BUSY at once), so SQLITE_BUSY is retried here up to the timeout.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::clamp(busy_timeout, std::chrono::milliseconds::zero(),
                                   std::chrono::milliseconds(std::numeric_limits<int>::max()));
  auto check = [&](std::string_view sql) {
    for (;;) {
      std::string result;
      int status = run_open_statement(raw, sql, result);
      if (status == SQLITE_OK) return result;
      if ((status & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (is_corrupt(status)) throw_error(file, raw, status, "");
      throw_error(file, raw, status, sql_head(sql));
    }
  };
  check("SELECT count(*) FROM sqlite_schema");
  check("PRAGMA foreign_keys = ON");
  // The journal mode is persistent: only a new file needs switching.
  if (mode == OpenMode::read_write_create && check("PRAGMA journal_mode") != "wal") {
    std::string journal = check("PRAGMA journal_mode = WAL");
    if (journal != "wal" && journal != "memory") {
      core_log()->warn("sqlite: {}: journal mode is {}, not wal (filesystem without shared memory?)",
                       file, journal);
    }
  }
  return db;
}

void Database::set_busy_timeout(std::chrono::milliseconds timeout) {
  auto ms = timeout.count();
  if (ms < 0) ms = 0;
  if (ms > std::numeric_limits<int>::max()) ms = std::numeric_limits<int>::max();
  if (int rc = sqlite3_busy_timeout(db_.get(), static_cast<int>(ms)); rc != SQLITE_OK) {
    throw_error(db_.get(), rc, "busy_timeout");
  }
  busy_timeout_ = timeout;
}

void Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* raw_message = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &raw_message);
  std::unique_ptr<char, FreeMessage> message(raw_message);
  if (rc != SQLITE_OK) throw_error(db_.get(), rc, sql_head(sql), message.get());
}

Statement Database::prepare(std::string_view sql) { return Statement(*this, sql); }

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(db_.get()); }

std::int64_t Database::last_insert_rowid() const noexcept {
  return sqlite3_last_insert_rowid(db_.get());
}

bool Database::in_transaction() const noexcept { return sqlite3_get_autocommit(db_.get()) == 0; }

// --- Statement --------------------------------------------------------------

void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

Statement::Statement(Database& db, std::string_view sql) : db_(db.handle()), head_(sql_head(sql)) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    fail(ErrorKind::internal, "{}: {}: statement too long", file_name_of(db_), head_);
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
  stmt_.reset(raw);
  if (rc != SQLITE_OK) throw_error(db_, rc, head_);
  if (stmt_ == nullptr) fail(ErrorKind::internal, "{}: empty SQL statement", file_name_of(db_));
  // Reject a second statement instead of silently ignoring it.
  std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  while (!rest.empty()) {
    sqlite3_stmt* extra_raw = nullptr;
    const char* extra_tail = nullptr;
    int erc = sqlite3_prepare_v3(db_, rest.data(), static_cast<int>(rest.size()), 0, &extra_raw,
                                 &extra_tail);
    std::unique_ptr<sqlite3_stmt, Finalizer> extra(extra_raw);
    if (erc != SQLITE_OK) throw_error(db_, erc, sql_head(rest));
    if (extra != nullptr) {
      fail(ErrorKind::internal, "{}: {}: more than one statement in prepared SQL", file_name_of(db_),
           head_);
    }
    if (extra_tail == nullptr || extra_tail == rest.data()) break;
    rest = std::string_view(extra_tail,
                            static_cast<std::size_t>(rest.data() + rest.size() - extra_tail));
  }
}

void Statement::check_parameter_count(std::size_t given) const {
  auto expected = static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt_.get()));
  if (given != expected) {
    fail(ErrorKind::internal, "{}: {}: {} parameters given, the statement has {}", file_name_of(db_),
         head_, given, expected);
  }
}

void Statement::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(stmt_.get(), index, value); rc != SQLITE_OK) {
    throw_error(db_, rc, fmt::format("{} (parameter {})", head_, index));
  }
}

void Statement::bind(int index, double value) {
  if (int rc = sqlite3_bind_double(stmt_.get(), index, value); rc != SQLITE_OK) {
    throw_error(db_, rc, fmt::format("{} (parameter {})", head_, index));
  }
}

void Statement::bind(int index, std::string_view value) {
  // A non-null pointer even for an empty string: NULL would bind SQL NULL.
  const char* data = value.data() != nullptr ? value.data() : "";
  if (int rc = sqlite3_bind_text64(stmt_.get(), index, data, value.size(), transient(), SQLITE_UTF8);
      rc != SQLITE_OK) {
    throw_error(db_, rc, fmt::format("{} (parameter {})", head_, index));
  }
}

void Statement::bind(int index, std::nullptr_t) {
  if (int rc = sqlite3_bind_null(stmt_.get(), index); rc != SQLITE_OK) {
    throw_error(db_, rc, fmt::format("{} (parameter {})", head_, index));
  }
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_error(db_, rc, head_);
}

void Statement::reset() noexcept {
  // The error of a failed step is reported by step() itself.
  sqlite3_reset(stmt_.get());
}

void Statement::clear_bindings() noexcept { sqlite3_clear_bindings(stmt_.get()); }

int Statement::column_count() const noexcept { return sqlite3_data_count(stmt_.get()); }

void Statement::check_column(int index) const {
  if (index < 0 || index >= sqlite3_data_count(stmt_.get())) {
    fail(ErrorKind::internal, "{}: {}: no column {} in the current row", file_name_of(db_), head_,
         index);
  }
}

bool Statement::column_is_null(int index) const {
  check_column(index);
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int index) const {
  check_column(index);
  return sqlite3_column_int64(stmt_.get(), index);
}

double Statement::column_double(int index) const {
  check_column(index);
  return sqlite3_column_double(stmt_.get(), index);
}

std::string Statement::column_text(int index) const {
  check_column(index);
  const unsigned char* text = sqlite3_column_text(stmt_.get(), index);
  // column_bytes after column_text: the length of the UTF-8 form.
  int size = sqlite3_column_bytes(stmt_.get(), index);
  if (text == nullptr) {
    if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail(ErrorKind::failed, "sqlite: out of memory");
    return {};
  }
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::int64_t> Statement::column_optional_int64(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int64(index);
}

std::optional<double> Statement::column_optional_double(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_double(index);
}

std::optional<std::string> Statement::column_optional_text(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_text(index);
}

// --- Transaction ------------------------------------------------------------

Transaction::Transaction(Database& db, TransactionMode mode) : db_(db) {
  db_.exec(mode == TransactionMode::immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

void Transaction::commit() {
  db_.exec("COMMIT");
  committed_ = true;
}

Transaction::~Transaction() {
  if (committed_) return;
  // Some errors (disk full, I/O, out of memory) make SQLite roll back by itself.
  if (!db_.in_transaction()) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const std::exception& e) {
    core_log()->error("sqlite: rollback failed: {}", e.what());
  }
}

// --- Migrations -------------------------------------------------------------

namespace {

bool has_version_table(Database& db) {
  auto statement =
      db.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  return statement.step();
}

std::int64_t read_version(Database& db, std::string_view tier) {
  auto statement = db.query("SELECT version FROM schema_version WHERE tier = ?1", tier);
  if (!statement.step()) return 0;
  return statement.column_int64(0);
}

[[noreturn]] void newer_schema(Database& db, std::string_view tier, std::int64_t recorded,
                               std::size_t known) {
  fail(ErrorKind::conflict,
       "{}: database schema of tier {} is version {}, newer than this program ({}); upgrade the "
       "program",
       db.path().string(), tier, recorded, known);
}

}  // namespace

std::int64_t schema_version(Database& db, std::string_view tier) {
  if (!has_version_table(db)) return 0;
  return read_version(db, tier);
}

std::int64_t migrate(Database& db, std::string_view tier, std::span<const std::string_view> steps) {
  const auto target = static_cast<std::int64_t>(steps.size());
  // Fast path without the write lock: already current (works read-only too).
  std::int64_t current = schema_version(db, tier);
  if (current == target) return current;
  if (current > target) newer_schema(db, tier, current, steps.size());

  if (!has_version_table(db)) {
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "tier TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  }
  for (;;) {
    Transaction transaction(db);
    // Read again under the write lock: another process may have migrated.
    current = read_version(db, tier);
    if (current > target) newer_schema(db, tier, current, steps.size());
    if (current < 0) {
      fail(ErrorKind::internal, "{}: schema version of tier {} is {}", db.path().string(), tier,
           current);
    }
    if (current == target) {
      transaction.commit();
      return current;
    }
    core_log()->info("sqlite: {}: migrating schema of tier {} to version {}", db.path().string(),
                     tier, current + 1);
    try {
      db.exec(steps[static_cast<std::size_t>(current)]);
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("schema migration {} of tier {}: {}", current + 1, tier,
                                        e.what()));
    }
    db.execute(
        "INSERT INTO schema_version (tier, version) VALUES (?1, ?2) "
        "ON CONFLICT (tier) DO UPDATE SET version = excluded.version",
        tier, current + 1);
    transaction.commit();
  }
}

}  // namespace core::sqlite
