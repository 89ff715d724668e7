// SPDX-License-Identifier: GPL-3.0-or-later
#include "tasks.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "auth.hpp"
#include "core/error.hpp"
#include "core/sqlite.hpp"

namespace goe {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

// Field 22 (starttime) of /proc/PID/stat, after the command in parentheses
// (which may hold spaces and parentheses itself); 0 when unreadable.
std::int64_t start_time_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return 0;
  try {
    return std::stoll(field);
  } catch (const std::exception&) {
    return 0;
  }
}

const char* now_sql = "strftime('%Y-%m-%dT%H:%M:%SZ','now')";

Task read_task(core::sqlite::Statement& q) {
  Task t;
  t.id = q.column_int64(0);
  t.kind = q.column_text(1);
  t.target = q.column_text(2);
  t.user = q.column_text(3);
  t.started = q.column_text(4);
  t.ended = q.column_optional_text(5);
  t.status = q.column_text(6);
  t.error = q.column_text(7);
  t.detail = q.column_text(8);
  return t;
}

const char* columns = "SELECT id, kind, target, user, started, ended, status, error, detail FROM tasks";

std::string one_line(const std::string& text) {
  std::string s = text.substr(0, 2000);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

TaskOwner this_process() { return {::getpid(), start_time_of(::getpid())}; }

bool alive(const TaskOwner& owner) {
  if (owner.pid <= 0) return false;
  if (::kill(owner.pid, 0) != 0 && errno == ESRCH) return false;
  return start_time_of(owner.pid) == owner.start_time;
}

Tasks::Tasks(fs::path database, TaskOwner owner) : path_(std::move(database)), owner_(owner) {}

std::int64_t Tasks::open(const std::string& kind, const std::string& target, const std::string& user) {
  static const std::regex word("[a-z][a-z0-9._-]{0,63}");
  if (!std::regex_match(kind, word)) fail(ErrorKind::invalid, "bad task kind '{}'", kind);
  if (!std::regex_match(target, word)) fail(ErrorKind::invalid, "bad task target '{}'", target);
  reap();
  auto db = open_database(path_);
  core::sqlite::Transaction tx(db);
  auto q = db.query("SELECT id, kind FROM tasks WHERE target = ? AND status = 'running'", target);
  if (q.step()) fail(ErrorKind::conflict, "{} is busy with task {} ({})", target, q.column_int64(0), q.column_text(1));
  db.execute(std::string("INSERT INTO tasks (kind, target, user, started, status, pid, pid_start) VALUES (?, ?, ?, ") +
                 now_sql + ", 'running', ?, ?)",
             kind, target, user, static_cast<std::int64_t>(owner_.pid), owner_.start_time);
  std::int64_t id = db.last_insert_rowid();
  tx.commit();
  return id;
}

void Tasks::finish(std::int64_t id, bool ok, const std::string& text) {
  auto db = open_database(path_);
  db.execute(std::string("UPDATE tasks SET status = ?, ended = ") + now_sql +
                 ", error = ?, detail = ? WHERE id = ? AND status = 'running'",
             std::string(ok ? "done" : "failed"), ok ? std::string() : one_line(text),
             ok ? one_line(text) : std::string(), id);
}

void Tasks::note(std::int64_t id, const std::string& line) {
  auto db = open_database(path_);
  db.execute(std::string("INSERT INTO task_log (task, time, line) SELECT id, ") + now_sql +
                 ", ? FROM tasks WHERE id = ? AND status = 'running'",
             one_line(line), id);
}

std::vector<std::string> Tasks::log(std::int64_t id) {
  auto db = open_database(path_);
  std::vector<std::string> out;
  auto q = db.query("SELECT time, line FROM task_log WHERE task = ? ORDER BY id", id);
  while (q.step()) out.push_back(q.column_text(0) + " " + q.column_text(1));
  return out;
}

int Tasks::reap() {
  auto db = open_database(path_);
  std::vector<std::int64_t> dead;
  {
    auto q = db.query("SELECT id, pid, pid_start FROM tasks WHERE status = 'running'");
    while (q.step()) {
      TaskOwner o{static_cast<pid_t>(q.column_int64(1)), q.column_int64(2)};
      if (!alive(o)) dead.push_back(q.column_int64(0));
    }
  }
  for (auto id : dead)
    db.execute(std::string("UPDATE tasks SET status = 'failed', ended = ") + now_sql +
                   ", error = 'the process that ran it is gone (goe stopped or crashed)' WHERE id = ? AND status = 'running'",
               id);
  return static_cast<int>(dead.size());
}

std::optional<Task> Tasks::get(std::int64_t id) {
  reap();
  auto db = open_database(path_);
  auto q = db.query(std::string(columns) + " WHERE id = ?", id);
  if (!q.step()) return std::nullopt;
  return read_task(q);
}

std::vector<Task> Tasks::list(const std::optional<std::string>& target, std::size_t limit) {
  reap();
  auto db = open_database(path_);
  std::vector<Task> out;
  auto lim = static_cast<std::int64_t>(limit);
  auto q = target ? db.query(std::string(columns) + " WHERE target = ? ORDER BY id DESC LIMIT ?", *target, lim)
                  : db.query(std::string(columns) + " ORDER BY id DESC LIMIT ?", lim);
  while (q.step()) out.push_back(read_task(q));
  return out;
}

std::optional<Task> Tasks::last(const std::string& kind, const std::string& target) {
  auto db = open_database(path_);
  auto q = db.query(std::string(columns) + " WHERE kind = ? AND target = ? AND status <> 'running' ORDER BY id DESC LIMIT 1",
                    kind, target);
  if (!q.step()) return std::nullopt;
  return read_task(q);
}

}  // namespace goe
