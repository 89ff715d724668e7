// SPDX-License-Identifier: GPL-3.0-or-later
#include "sqlite_file.hpp"

#include <sqlite3.h>

#include <memory>
#include <thread>

#include "core/error.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::sqlite_file {

using core::ErrorKind;
using core::fail;

namespace {

struct Closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

// A service's database file is the customer's: never followed when it is a
// symbolic link (it could name another customer's file), and opened in
// defensive mode with an untrusted schema, so that a view or a trigger the
// customer wrote cannot call a function with side effects nor corrupt the
// file through its shadow tables (docs/architecture.md).
Handle open(const fs::path& file, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &raw, flags | SQLITE_OPEN_NOFOLLOW, nullptr);
  Handle h(raw);  // owned even when the open failed
  if (rc != SQLITE_OK)
    fail(ErrorKind::external, "sqlite: cannot open {}: {}", file.string(), raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  sqlite3_db_config(h.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(h.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(h.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_busy_timeout(h.get(), 30000);
  return h;
}

}  // namespace

void backup(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) fail(ErrorKind::not_found, "no database file {}", from.string());
  fs::remove(to, ec);
  Handle src = open(from, SQLITE_OPEN_READONLY);
  Handle dst = open(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  struct Finisher {
    void operator()(sqlite3_backup* b) const noexcept { sqlite3_backup_finish(b); }
  };
  std::unique_ptr<sqlite3_backup, Finisher> b(sqlite3_backup_init(dst.get(), "main", src.get(), "main"));
  if (!b) fail(ErrorKind::external, "sqlite backup of {}: {}", from.string(), sqlite3_errmsg(dst.get()));
  for (int tries = 0;; ++tries) {
    int rc = sqlite3_backup_step(b.get(), -1);
    if (rc == SQLITE_DONE) break;
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 600) {
      std::this_thread::sleep_for(50ms);
      continue;
    }
    fail(ErrorKind::external, "sqlite backup of {}: {}", from.string(), sqlite3_errstr(rc));
  }
  int rc = sqlite3_backup_finish(b.release());
  if (rc != SQLITE_OK) fail(ErrorKind::external, "sqlite backup of {}: {}", from.string(), sqlite3_errstr(rc));
}

void execute(const fs::path& file, const std::vector<std::string>& statements) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) fail(ErrorKind::not_found, "no database file {}", file.string());
  Handle db = open(file, SQLITE_OPEN_READWRITE);
  auto exec = [&](const std::string& sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &msg);
    std::string why = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) fail(ErrorKind::external, "sqlite {}: {}: {}", file.filename().string(), sql.substr(0, 60), why);
  };
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& s : statements) exec(s);
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::optional<std::string> query_value(const fs::path& file, const std::string& sql, std::chrono::milliseconds busy) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) fail(ErrorKind::not_found, "no database file {}", file.string());
  Handle db = open(file, SQLITE_OPEN_READONLY);
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy.count()));
  sqlite3_exec(db.get(), "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
  struct Finaliser {
    void operator()(sqlite3_stmt* st) const noexcept { sqlite3_finalize(st); }
  };
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, Finaliser> st(raw);
  if (rc != SQLITE_OK)
    fail(ErrorKind::external, "sqlite {}: {}: {}", file.filename().string(), sql.substr(0, 60), sqlite3_errmsg(db.get()));
  rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW)
    fail(ErrorKind::external, "sqlite {}: {}: {}", file.filename().string(), sql.substr(0, 60), sqlite3_errmsg(db.get()));
  if (sqlite3_column_type(st.get(), 0) == SQLITE_NULL) return std::nullopt;
  const auto* text = sqlite3_column_text(st.get(), 0);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(st.get(), 0)));
}

}  // namespace xoe::sqlite_file
