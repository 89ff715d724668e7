// SPDX-License-Identifier: GPL-3.0-or-later
#include "sqlite_file.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/process.hpp"
#include "core/tree.hpp"
#include "host.hpp"
#include "service_impl.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::sqlite_file {

using core::ErrorKind;
using core::fail;

namespace {

// ---- the child: SQLite itself, as the service's user ----

struct Closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

// A service's database file is the customer's: never followed when it is a
// symbolic link (it could name another customer's file), and opened in
// defensive mode with an untrusted schema, so that a view or a trigger the
// customer wrote cannot call a function with side effects nor corrupt the
// file through its shadow tables (docs/architecture.md). The side files are
// opened by name: that is why this runs as the customer's user only.
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

// Every file SQLite opens in the child (the database, its -journal, -wal
// and -shm, their folder): never through a symbolic link, never anything
// but a regular file or a folder. A FIFO the customer planted as a journal
// would otherwise block the child forever (open or read), a device would
// be read. O_NONBLOCK for the open only. Set as the unix VFS's "open".
int guarded_open(const char* path, int flags, int mode) {
  int fd = ::open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    ::close(fd);
    errno = EACCES;
    return -1;
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void guard_opens() {
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  if (vfs == nullptr || vfs->iVersion < 3 || vfs->xSetSystemCall == nullptr ||
      vfs->xSetSystemCall(vfs, "open", reinterpret_cast<sqlite3_syscall_ptr>(&guarded_open)) != SQLITE_OK)
    fail(ErrorKind::internal, "sqlite: cannot guard the opens of the default VFS");
}

// Names the side files that are not regular files (a clearer error than
// SQLite's "unable to open database file", which follows anyway).
void need_file(const fs::path& file) {
  for (const char* side : {"-journal", "-wal", "-shm"}) {
    fs::path p = file;
    p += side;
    std::error_code sec;
    auto st = fs::symlink_status(p, sec);
    if (!sec && fs::exists(st) && !fs::is_regular_file(st))
      fail(ErrorKind::failed, "{} is not a regular file: it is left alone and the database is not opened", p.string());
  }
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(file, ec)))
    fail(ErrorKind::not_found, "no database file {}", file.string());
}

void do_backup(const fs::path& from, const fs::path& to) {
  need_file(from);
  std::error_code ec;
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

void do_execute(const fs::path& file, const std::vector<std::string>& statements) {
  need_file(file);
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

std::optional<std::string> do_query(const fs::path& file, const std::string& sql, std::chrono::milliseconds busy) {
  need_file(file);
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

// ---- the parent: root, which starts the child and reads its answer ----

// Long enough for a large database's copy; a child that a customer stops
// (it runs as their user) is killed then.
constexpr auto child_timeout = std::chrono::hours(1);

nlohmann::json run_child(const std::string& user, const nlohmann::json& request, std::chrono::milliseconds timeout) {
  auto account = host::find_user(user);
  if (!account) fail(ErrorKind::precondition, "no user {}: the service's user is missing", user);
  auto r = core::run({detail::xoe_binary().string(), std::string(child_command)},
                     {.timeout = timeout, .stdin_data = request.dump(), .check = false, .uid = account->uid});
  if (r.exit_code != 0) {
    std::string line = r.err.substr(0, r.err.find('\n'));
    auto tab = line.find('\t');
    int kind = tab == std::string::npos ? -1 : std::atoi(line.substr(0, tab).c_str());
    if (kind >= 0 && kind <= static_cast<int>(ErrorKind::internal) && tab > 0)
      throw core::Error(static_cast<ErrorKind>(kind), line.substr(tab + 1));
    if (r.timed_out) fail(ErrorKind::external, "sqlite as {} timed out", user);
    fail(ErrorKind::external, "sqlite as {} exited with status {}: {}", user, r.exit_code, line);
  }
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception&) {
    fail(ErrorKind::external, "sqlite as {}: an answer that is not JSON", user);
  }
}

// A new folder below `scratch` (root's, 0700 while made), given to `account`.
fs::path make_scratch(const fs::path& scratch, const host::Account& account) {
  std::string tmpl = (scratch / ".xoe-sqlite-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) core::fail_errno(ErrorKind::io, "mkdtemp " + tmpl, errno);
  fs::path dir = tmpl;
  host::chown_path(dir, account.uid, account.gid);
  return dir;
}

// Copies the regular file `name` of the folder `dir` (the child's: read
// without following a link, never anything but a regular file) into the
// new file `to` (0600), whose folder is opened without following a link.
void copy_out(const fs::path& dir, const std::string& name, const fs::path& to) {
  core::Fd from_dir = core::open_directory(dir);
  struct stat st {};
  core::Fd in = core::open_regular(from_dir.get(), name, st);
  if (!in) fail(ErrorKind::external, "sqlite backup: the copy in {} is not a regular file", dir.string());
  core::Fd to_dir = core::open_directory(to.parent_path());
  std::string leaf = to.filename().string();
  if (::unlinkat(to_dir.get(), leaf.c_str(), 0) != 0 && errno != ENOENT)
    core::fail_errno(ErrorKind::io, "remove " + to.string(), errno);
  core::Fd out(::openat(to_dir.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) core::fail_errno(ErrorKind::io, "create " + to.string(), errno);
  try {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(in.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) core::fail_errno(ErrorKind::io, "read the copy of " + to.filename().string(), errno);
      if (n == 0) break;
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(out.get(), buf + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) core::fail_errno(ErrorKind::io, "write " + to.string(), errno);
        done += w;
      }
    }
    if (::fsync(out.get()) != 0) core::fail_errno(ErrorKind::io, "write " + to.string(), errno);
  } catch (...) {
    ::unlinkat(to_dir.get(), leaf.c_str(), 0);
    throw;
  }
}

}  // namespace

void backup(const std::string& user, const fs::path& from, const fs::path& to, const fs::path& scratch) {
  auto account = host::find_user(user);
  if (!account) fail(ErrorKind::precondition, "no user {}: the service's user is missing", user);
  fs::path dir = make_scratch(scratch, *account);
  try {
    run_child(user, {{"op", "backup"}, {"from", from.string()}, {"to", (dir / "copy.sqlite").string()}},
              child_timeout);
    copy_out(dir, "copy.sqlite", to);
  } catch (...) {
    try {
      core::remove_tree(dir);
    } catch (...) {  // the first error is the one to report
    }
    throw;
  }
  core::remove_tree(dir);
}

void execute(const std::string& user, const fs::path& file, const std::vector<std::string>& statements) {
  run_child(user, {{"op", "execute"}, {"file", file.string()}, {"statements", statements}}, child_timeout);
}

std::optional<std::string> query_value(const std::string& user, const fs::path& file, const std::string& sql,
                                       std::chrono::milliseconds busy) {
  auto answer = run_child(user, {{"op", "query"}, {"file", file.string()}, {"sql", sql}, {"busy_ms", busy.count()}},
                          busy + 60s);
  const auto& value = answer.at("value");
  if (value.is_null()) return std::nullopt;
  return value.get<std::string>();
}

int child_main() {
  try {
    guard_opens();
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto request = nlohmann::json::parse(text);
    std::string op = request.at("op").get<std::string>();
    nlohmann::json answer = nlohmann::json::object();
    if (op == "backup") {
      do_backup(request.at("from").get<std::string>(), request.at("to").get<std::string>());
    } else if (op == "execute") {
      do_execute(request.at("file").get<std::string>(), request.at("statements").get<std::vector<std::string>>());
    } else if (op == "query") {
      auto value = do_query(request.at("file").get<std::string>(), request.at("sql").get<std::string>(),
                            std::chrono::milliseconds(request.at("busy_ms").get<long long>()));
      answer["value"] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    } else {
      fail(ErrorKind::invalid, "unknown sqlite operation {}", op);
    }
    std::cout << answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::flush;
    return std::cout ? 0 : 1;
  } catch (const core::Error& e) {
    std::string msg = e.what();
    std::erase(msg, '\n');
    std::cerr << static_cast<int>(e.kind()) << '\t' << msg << '\n';
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::erase(msg, '\n');
    std::cerr << static_cast<int>(ErrorKind::internal) << '\t' << "sqlite: " << msg << '\n';
  }
  return 1;
}

}  // namespace xoe::sqlite_file
