// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/monitor.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>

#include <fcntl.h>
#include <sys/stat.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/tree.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "pg.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "sqlite_file.hpp"
#include "xoe/backup.hpp"
#include "xoe/recipe.hpp"
#include "xoe/software.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;
using namespace detail;

bool MonitorResult::all_up() const {
  return std::all_of(services.begin(), services.end(), [](const ServiceHealth& h) { return h.up; });
}

// ---------------------------------------------------------------- pure parts

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::uint64_t> rss_from_status(std::string_view status) {
  std::size_t at = 0;
  while (at < status.size()) {
    auto end = status.find('\n', at);
    std::string_view line = status.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    if (line.starts_with("VmRSS:")) {
      line = trim(line.substr(6));
      if (!line.ends_with("kB")) return std::nullopt;
      auto kb = number<std::uint64_t>(trim(line.substr(0, line.size() - 2)));
      if (!kb) return std::nullopt;
      return *kb * 1024;
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<pid_t> ppid_from_stat(std::string_view stat) {
  // "PID (COMMAND) STATE PPID ...": COMMAND may hold spaces and ')'.
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = trim(stat.substr(close + 1));
  auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  rest = trim(rest.substr(space + 1));
  return number<pid_t>(rest.substr(0, rest.find(' ')));
}

std::vector<pid_t> process_tree(pid_t root, const std::map<pid_t, pid_t>& parent_of) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [child, parent] : parent_of) children.emplace(parent, child);
  std::vector<pid_t> out{root};
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto [first, last] = children.equal_range(out[i]);
    for (auto it = first; it != last; ++it)
      if (std::find(out.begin(), out.end(), it->second) == out.end()) out.push_back(it->second);
  }
  return out;
}

std::optional<std::chrono::sys_seconds> recorded_use(const fs::path& data, const std::string& name) {
  core::Fd dir;
  try {
    dir = core::open_directory(data);
  } catch (const core::Error&) {
    return std::nullopt;
  }
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return std::chrono::sys_seconds(std::chrono::seconds(st.st_mtim.tv_sec));
}

std::optional<std::chrono::sys_seconds> parse_sql_timestamp(std::string_view text) {
  text = trim(text);
  // YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z|+HH|+HH:MM|+HHMM|-...]
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto y = number<int>(text.substr(0, 4));
  auto mo = number<unsigned>(text.substr(5, 2));
  auto d = number<unsigned>(text.substr(8, 2));
  auto h = number<int>(text.substr(11, 2));
  auto mi = number<int>(text.substr(14, 2));
  auto sec = number<int>(text.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 60) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{*mo}, std::chrono::day{*d}};
  if (!ymd.ok()) return std::nullopt;
  std::string_view rest = text.substr(19);
  if (rest.starts_with('.')) {
    std::size_t n = 1;
    while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
    if (n == 1) return std::nullopt;
    rest.remove_prefix(n);
  }
  std::chrono::seconds offset{0};
  if (rest == "Z" || rest.empty()) {
  } else if (rest[0] == '+' || rest[0] == '-') {
    std::string digits;
    for (char c : rest.substr(1))
      if (c != ':') digits += c;
    if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
    auto oh = number<int>(std::string_view(digits).substr(0, 2));
    auto om = digits.size() == 4 ? number<int>(std::string_view(digits).substr(2, 2)) : std::optional<int>(0);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = std::chrono::hours{*oh} + std::chrono::minutes{*om};
    if (rest[0] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  return std::chrono::sys_days{ymd} + std::chrono::hours{*h} + std::chrono::minutes{*mi} +
         std::chrono::seconds{*sec} - offset;
}

std::string iso_utc(std::chrono::sys_seconds time) {
  auto day = std::chrono::floor<std::chrono::days>(time);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{time - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count());
}

std::string prometheus_escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

// Whole numbers as integers (a byte count or a timestamp reads as one), the
// rest in the shortest form that reads back the same.
std::string sample_value(double v) {
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9e15)
    return std::to_string(static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

}  // namespace

std::string prometheus_text(const MonitorResult& result) {
  using Value = std::function<std::optional<double>(const ServiceHealth&)>;
  struct Metric {
    std::string_view name, help;
    Value value;
  };
  auto seconds = [](const std::optional<std::chrono::sys_seconds>& t) -> std::optional<double> {
    if (!t) return std::nullopt;
    return static_cast<double>(t->time_since_epoch().count());
  };
  const std::vector<Metric> metrics = {
      {"xoe_service_up", "1 when the service answers its health probe, else 0.",
       [](const ServiceHealth& h) -> std::optional<double> { return h.up ? 1.0 : 0.0; }},
      {"xoe_service_http_seconds", "Round trip of the health probe, in seconds.",
       [](const ServiceHealth& h) -> std::optional<double> {
         if (!h.http_ms) return std::nullopt;
         return *h.http_ms / 1000.0;
       }},
      {"xoe_service_memory_bytes", "Resident memory of the server process and its descendants.",
       [](const ServiceHealth& h) -> std::optional<double> {
         if (!h.memory_bytes) return std::nullopt;
         return static_cast<double>(*h.memory_bytes);
       }},
      {"xoe_service_database_bytes", "Size of the service's database.",
       [](const ServiceHealth& h) -> std::optional<double> {
         if (!h.db_bytes) return std::nullopt;
         return static_cast<double>(*h.db_bytes);
       }},
      {"xoe_service_last_backup_timestamp_seconds", "Time of the newest backup archive, in seconds since the epoch.",
       [seconds](const ServiceHealth& h) { return seconds(h.last_backup); }},
      {"xoe_service_users", "Active users of the service's database.",
       [](const ServiceHealth& h) -> std::optional<double> {
         if (!h.users) return std::nullopt;
         return static_cast<double>(*h.users);
       }},
      {"xoe_service_last_login_timestamp_seconds", "Time of the last login, in seconds since the epoch.",
       [seconds](const ServiceHealth& h) { return seconds(h.last_login); }},
  };
  std::string out;
  for (const auto& m : metrics) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", m.name, m.help, m.name);
    for (const auto& h : result.services) {
      auto v = m.value(h);
      if (!v) continue;
      out += fmt::format("{}{{service=\"{}\",software=\"{}\",version=\"{}\",role=\"{}\"}} {}\n", m.name,
                         prometheus_escape(h.name), prometheus_escape(h.software), prometheus_escape(h.version),
                         prometheus_escape(h.role), sample_value(*v));
    }
  }
  return out;
}

// ---------------------------------------------------------------- /proc

std::map<pid_t, pid_t> read_process_parents() {
  std::map<pid_t, pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    auto pid = number<pid_t>(it->path().filename().string());
    if (!pid) continue;
    try {
      if (auto ppid = ppid_from_stat(host::read_file(it->path() / "stat"))) out[*pid] = *ppid;
    } catch (const core::Error&) {
      // exited meanwhile
    }
  }
  return out;
}

std::optional<std::uint64_t> tree_rss(pid_t root, const std::map<pid_t, pid_t>& parent_of) {
  std::optional<std::uint64_t> sum;
  for (pid_t p : process_tree(root, parent_of)) {
    std::string status;
    try {
      status = host::read_file(fs::path("/proc") / std::to_string(p) / "status");
    } catch (const core::Error&) {
      continue;  // exited meanwhile
    }
    if (auto rss = rss_from_status(status)) sum = sum.value_or(0) + *rss;
  }
  return sum;
}

// ---------------------------------------------------------------- measuring

namespace {

using Clock = std::chrono::steady_clock;

// What is read once per run and shared by the services.
class Host {
 public:
  explicit Host(const Settings& s) : s_(s) {}

  // RSS of `pid` and its descendants; /proc is read once per run.
  std::optional<std::uint64_t> rss(pid_t pid) {
    if (!parents_) parents_ = read_process_parents();
    return tree_rss(pid, *parents_);
  }

  // pg_database_size of `database`, all sizes read in one query on first use.
  std::optional<std::uint64_t> pg_size(const std::string& database) {
    if (!pg_reachable()) return std::nullopt;
    auto it = pg_sizes_.find(database);
    if (it == pg_sizes_.end()) return std::nullopt;
    return it->second;
  }

  // False once PostgreSQL failed to answer: the other services do not wait for it again.
  bool pg_reachable() {
    if (pg_ok_) return *pg_ok_;
    pg_ok_ = false;
    try {
      std::string out = psql(s_, "SELECT datname, pg_database_size(datname) FROM pg_database");
      for (const auto& line : split(out, '\n')) {
        auto bar = line.find('|');
        if (bar == std::string::npos) continue;
        if (auto n = number<std::uint64_t>(trim(std::string_view(line).substr(bar + 1))))
          pg_sizes_[line.substr(0, bar)] = *n;
      }
      pg_ok_ = true;
    } catch (const core::Error& e) {
      core::logger("xoe")->warn("monitor: PostgreSQL at {}:{} does not answer: {}", s_.db_host, s_.db_port, e.what());
    }
    return *pg_ok_;
  }

 private:
  const Settings& s_;
  std::optional<std::map<pid_t, pid_t>> parents_;
  std::optional<bool> pg_ok_;
  std::map<std::string, std::uint64_t> pg_sizes_;
};

// One value of a query run read-only in a service's PostgreSQL database, as
// the service's own role (the customer owns the database and what it holds:
// never the superuser there, pg.hpp): the session is read-only from its
// start (default_transaction_read_only), with a statement timeout. nullopt
// for NULL.
std::optional<std::string> pg_query_value(const Settings& s, const std::string& service, const std::string& database,
                                          const std::string& sql) {
  std::string out = psql_as(s, {service_login(s, service)}, database, sql + ";\n", {.timeout = 30s, .read_only = true});
  std::string_view v = trim(out);
  v = v.substr(0, v.find('\n'));  // the first row
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

void measure_usage(const Settings& s, Host& h, const registry::ServiceRow& row, const Recipe& recipe,
                   ServiceHealth& out) {
  if (recipe.usage_users_sql.empty()) return;
  auto log = core::logger("xoe");
  if (row.backend == "postgresql" && !h.pg_reachable()) return;
  Layout l = layout(s, row.name, recipe);
  TemplateVars v;
  try {
    Code code = fetched_code(s, row.software, row.version);
    v = vars_for(s, recipe, code, row.name, row.database, l.data, l.config, static_cast<std::uint16_t>(row.port),
                 row.backend, split(row.modules, ','));
    v.vars["role"] = row.role;
  } catch (const core::Error& e) {
    log->warn("monitor {}: usage not read: {}", row.name, e.what());
    return;
  }
  auto query = [&](const std::string& tmpl) -> std::optional<std::string> {
    std::string sql = render(tmpl, v);
    if (row.backend == "sqlite") return sqlite_file::query_value(row.user, l.data / (row.database + ".sqlite"), sql);
    return pg_query_value(s, row.name, row.database, sql);
  };
  try {
    auto users = query(recipe.usage_users_sql);
    if (users) {
      out.users = number<std::int64_t>(trim(*users));
      if (!out.users) log->warn("monitor {}: usage.users_sql gave '{}', not a number", row.name, *users);
    }
  } catch (const core::Error& e) {
    log->warn("monitor {}: users not read: {}", row.name, e.what());
  }
  try {
    auto last = query(recipe.usage_last_login_sql);
    if (last) {
      out.last_login = parse_sql_timestamp(*last);
      if (!out.last_login) log->warn("monitor {}: usage.last_login_sql gave '{}', not a timestamp", row.name, *last);
    }
  } catch (const core::Error& e) {
    log->warn("monitor {}: last login not read: {}", row.name, e.what());
  }
}

ServiceHealth measure(const Settings& s, Host& h, const registry::ServiceRow& row, std::chrono::sys_seconds now,
                      std::chrono::milliseconds probe_timeout) {
  auto log = core::logger("xoe");
  ServiceInfo info = info_from_row(s, row, true);
  ServiceHealth out;
  out.name = row.name;
  out.software = row.software;
  out.version = row.version;
  out.role = row.role;
  out.state = info.state;

  std::optional<Recipe> recipe;
  try {
    recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  } catch (const core::Error& e) {
    log->warn("monitor {}: {}", row.name, e.what());
  }

  if (recipe) {
    try {
      TemplateVars none;
      auto t0 = Clock::now();
      auto a = host::http_post(probe_address(s), static_cast<std::uint16_t>(row.port), render(recipe->probe_path, none),
                               render(recipe->probe_body, none), probe_timeout);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      out.up = a && a->status == 200 && a->body.find(recipe->probe_expect) != std::string::npos;
      if (out.up) out.http_ms = std::round(ms * 10) / 10;
    } catch (const core::Error& e) {
      log->warn("monitor {}: probe: {}", row.name, e.what());
    }
  }

  if (info.pid) out.memory_bytes = h.rss(*info.pid);

  if (row.backend == "sqlite") {
    std::error_code ec;
    auto n = fs::file_size(s.services_dir() / row.name / "data" / (row.database + ".sqlite"), ec);
    if (!ec) out.db_bytes = n;
  } else {
    out.db_bytes = h.pg_size(row.database);
  }

  try {
    auto backups = list_backups(s, row.name);
    if (!backups.empty()) {
      out.last_backup = backups.front().time;
      out.backup_age_seconds = (now - backups.front().time).count();
    }
  } catch (const core::Error& e) {
    log->warn("monitor {}: backups: {}", row.name, e.what());
  }

  if (recipe) measure_usage(s, h, row, *recipe, out);
  // What the server recorded itself (the guard of a Tryton server): every
  // authenticated use, a script's too, which opens no session.
  if (auto used = recorded_use(s.services_dir() / row.name / "data", std::string(last_use_name)))
    if (!out.last_login || *used > *out.last_login) out.last_login = used;
  return out;
}

// The newest last login seen is kept in the registry: the software forgets
// a login with its session (Tryton deletes an ir_session row at logout or
// expiry), and the usage statistic must not go back or vanish. A registry
// this process cannot write leaves the values as read.
void keep_newest_logins(const Settings& s, std::vector<ServiceHealth>& services) {
  if (services.empty() || !registry::open_existing(s)) return;
  try {
    auto db = registry::open(s);
    core::sqlite::Transaction t(db);
    for (auto& h : services) {
      if (h.last_login)
        db.execute("INSERT INTO usage_seen (service, last_login) VALUES (?1, ?2) "
                   "ON CONFLICT (service) DO UPDATE SET last_login = max(last_login, excluded.last_login)",
                   h.name, static_cast<std::int64_t>(h.last_login->time_since_epoch().count()));
      auto q = db.query("SELECT last_login FROM usage_seen WHERE service = ?1", h.name);
      if (q.step()) h.last_login = std::chrono::sys_seconds(std::chrono::seconds(q.column_int64(0)));
    }
    t.commit();
  } catch (const std::exception& e) {
    core::logger("xoe")->warn("monitor: the last logins seen are not kept: {}", e.what());
  }
}

}  // namespace

MonitorResult monitor_services(const Settings& s, const MonitorRequest& rq) {
  // Every name is checked before anything is measured.
  std::vector<registry::ServiceRow> rows;
  if (rq.services.empty()) {
    if (auto db = registry::open_existing(s)) rows = registry::all_services(*db);
  } else {
    for (const auto& name : rq.services) core::validate_label(name, "service name");
    for (const auto& name : rq.services) rows.push_back(need_service(s, name));
  }
  MonitorResult result;
  result.time = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  Host h(s);
  for (const auto& row : rows) result.services.push_back(measure(s, h, row, result.time, rq.probe_timeout));
  keep_newest_logins(s, result.services);
  return result;
}

}  // namespace xoe
