// SPDX-License-Identifier: GPL-3.0-or-later
#include "admin.hpp"

#include "core/error.hpp"
#include "code.hpp"
#include "host.hpp"
#include "ini.hpp"
#include "xoe/software.hpp"
#include "xoe/supervisor.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::detail {

using core::ErrorKind;
using core::fail;

namespace {

fs::path memo_file(const Settings& s, const std::string& name) { return s.services_dir() / name / "admin-job.json"; }

// Every journaled job that works on one service's database or files.
constexpr const char* service_jobs[] = {"service.restore", "db.copy", "service.config", "db.rename",
                                        "db.drop",         "db.create", "service.update"};

}  // namespace

Service load_service(const Settings& s, const std::string& name) {
  auto row = need_service(s, name);
  Recipe recipe = find_recipe(s.recipe_dirs, row.software, row.version);
  Layout l = layout(s, name, recipe);
  return {row, recipe, l};
}

TemplateVars service_vars(const Settings& s, const Service& svc, const registry::ServiceRow& row) {
  Code code = service_code(s, row.name, row.software, row.version);
  return vars_for(s, svc.recipe, code, row.name, row.database, svc.l.data, svc.l.config,
                  static_cast<std::uint16_t>(row.port), row.backend, split(row.modules, ','));
}

void rebase_files(const Settings& s, const Service& svc, const registry::ServiceRow& from,
                  const registry::ServiceRow& to) {
  auto old_vars = service_vars(s, svc, from), new_vars = service_vars(s, svc, to);
  std::string current = host::read_file(svc.l.config);
  std::string next = ini::rebase(current, render(svc.recipe.config, old_vars), render(svc.recipe.config, new_vars));
  if (next != current) {
    host::write_file(svc.l.config, next, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    if (auto account = host::find_user(svc.row.user)) host::chown_path(svc.l.config, 0, account->gid);
  }
  write_served_databases(s, to.name);  // a renamed database
  // The run file holds the server's argv and environment: rewritten only when they name the port or database.
  if (render_argv(svc.recipe.server_argv, old_vars) != render_argv(svc.recipe.server_argv, new_vars) ||
      server_env(svc.recipe, old_vars) != server_env(svc.recipe, new_vars))
    supervise(s, svc.l, svc.recipe, new_vars, svc.row.user);
}

std::vector<StoredSetting> stored_settings(core::sqlite::Database& db, const std::string& name) {
  auto q = db.query("SELECT key, value, updated FROM service_settings WHERE service = ?1 ORDER BY key", name);
  std::vector<StoredSetting> out;
  while (q.step()) out.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
  return out;
}

std::string with_stored_settings(const Settings& s, const std::string& name, const std::string& software,
                                 const std::string& config) {
  auto db = registry::open(s);
  std::vector<SettingValue> values;
  for (const auto& st : stored_settings(db, name)) values.push_back({st.key, st.value});
  return apply_settings(config, software, values);
}

void write_settings_into_config(const Settings& s, const Service& svc) {
  std::string current = host::read_file(svc.l.config);
  std::string next = with_stored_settings(s, svc.row.name, svc.row.software, current);
  if (next == current) return;
  host::write_file(svc.l.config, next, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  if (auto account = host::find_user(svc.row.user)) host::chown_path(svc.l.config, 0, account->gid);
}

bool is_running(const Settings& s, const Service& svc) {
  return supervisor::status(s, svc.row.name).state == "run";
}

void start_and_probe(const Settings& s, const Service& svc) {
  supervisor::up(s, svc.row.name);
  wait_probe(s, svc.recipe, svc.row.name, static_cast<std::uint16_t>(svc.row.port), svc.l.logs);
}

std::optional<nlohmann::json> unfinished_memo(const Settings& s, core::JobRunner& jobs, const std::string& kind,
                                              const std::string& name, const nlohmann::json& request) {
  for (const char* other : service_jobs) {
    if (kind == other) continue;
    auto j = jobs.find(other, "service:" + name);
    if (j && j->unfinished())
      fail(ErrorKind::conflict, "an unfinished {} of {} exists: run it again to finish it", other, name);
  }
  auto j = jobs.find(kind, "service:" + name);
  if (!j || !j->unfinished()) return std::nullopt;
  nlohmann::json memo;
  std::error_code ec;
  if (fs::exists(memo_file(s, name), ec)) {
    try {
      memo = nlohmann::json::parse(host::read_file(memo_file(s, name)));
    } catch (const nlohmann::json::exception&) {
      memo = nullptr;
    }
  }
  if (!memo.is_object() || memo.value("kind", "") != kind)
    fail(ErrorKind::internal, "the unfinished {} of {} has no readable {}", kind, name, memo_file(s, name).string());
  if (memo["request"] != request)
    fail(ErrorKind::conflict, "an unfinished {} of {} with another request ({}) exists: run that again to finish it",
         kind, name, memo["request"].dump());
  return memo;
}

void write_memo(const Settings& s, const std::string& name, const nlohmann::json& memo) {
  host::write_file(memo_file(s, name), memo.dump() + "\n", fs::perms::owner_read | fs::perms::owner_write);
}

void remove_memo(const Settings& s, const std::string& name) {
  std::error_code ec;
  fs::remove(memo_file(s, name), ec);
}

}  // namespace xoe::detail
