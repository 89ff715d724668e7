// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/recipe.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/validate.hpp"

#ifndef XOE_RECIPES_INSTALL_DIR
#define XOE_RECIPES_INSTALL_DIR "/usr/share/oe/recipes"
#endif
#ifndef XOE_DATA_INSTALL_DIR
#define XOE_DATA_INSTALL_DIR "/usr/share/oe/xoe"
#endif

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;

bool Recipe::supports(std::string_view backend) const {
  return std::find(backends.begin(), backends.end(), backend) != backends.end();
}

const std::vector<std::string>& placeholder_names() {
  static const std::vector<std::string> names = {
      "name",    "software", "version",  "python",      "code",         "site",        "config",
      "database", "data",    "port",     "listen",      "db_uri",       "db_host",     "db_port",
      "db_user", "db_password", "admin_login", "password", "modules_csv", "mail_catcher", "mail_host", "mail_port",
      "mail_uri", "mail_from",
      "role",    "copy_of", "login",    "password_hash", "share", "databases_file", "last_use_file",
      "modules...",
  };
  return names;
}

namespace {

// Calls `on_placeholder(name)` for each {name}; appends literal text to `out`
// when given. Throws invalid with a reason on a malformed template.
template <typename F>
void scan(const std::string& text, F&& on_placeholder, std::string* out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      if (out) out->push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      if (out) out->push_back('}');
      ++i;
    } else if (c == '{') {
      auto end = text.find('}', i);
      if (end == std::string::npos) fail(ErrorKind::invalid, "unclosed '{{' in template");
      on_placeholder(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '}') {
      fail(ErrorKind::invalid, "single '}}' in template (write '}}}}')");
    } else if (out) {
      out->push_back(c);
    }
  }
}

bool known(const std::string& name) {
  const auto& names = placeholder_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

class Reader {
 public:
  Reader(fs::path file, toml::table table) : file_(std::move(file)), table_(std::move(table)) {}

  // Rejects keys outside `allowed` (dotted names), with file:line.
  void check_keys() {
    for (auto& [section, node] : table_) {
      const std::string s(section.str());
      if (!node.is_table()) bad(node, fmt::format("'{}' must be a table ([{}])", s, s));
      for (auto& [key, value] : *node.as_table()) {
        std::string dotted = s + "." + std::string(key.str());
        if (!allowed().contains(dotted)) bad(value, fmt::format("unknown key '{}'", dotted));
      }
    }
  }

  std::string str(const std::string& dotted, bool required, const std::string& def = {}) {
    const toml::node* n = find(dotted);
    if (!n) {
      if (required) missing(dotted);
      return def;
    }
    if (!n->is_string()) bad(*n, fmt::format("'{}' must be a string", dotted));
    std::string v = **n->as_string();
    check_template(*n, dotted, v);
    return v;
  }

  std::vector<std::string> list(const std::string& dotted, bool required) {
    const toml::node* n = find(dotted);
    std::vector<std::string> out;
    if (!n) {
      if (required) missing(dotted);
      return out;
    }
    if (!n->is_array()) bad(*n, fmt::format("'{}' must be a list of strings", dotted));
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) bad(e, fmt::format("'{}' must be a list of strings", dotted));
      std::string v = **e.as_string();
      check_template(e, dotted, v);
      out.push_back(std::move(v));
    }
    return out;
  }

  std::map<std::string, std::string> map(const std::string& dotted) {
    std::map<std::string, std::string> out;
    const toml::node* n = find(dotted);
    if (!n) return out;
    if (!n->is_table()) bad(*n, fmt::format("'{}' must be a table of strings", dotted));
    for (const auto& [k, v] : *n->as_table()) {
      std::string key(k.str());
      bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
      for (char c : key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!ok) bad(v, fmt::format("'{}': '{}' is not an environment variable name", dotted, key));
      if (!v.is_string()) bad(v, fmt::format("'{}.{}' must be a string", dotted, key));
      std::string value = **v.as_string();
      check_template(v, dotted, value);
      out.emplace(key, value);
    }
    return out;
  }

  [[noreturn]] void bad(const toml::node& n, const std::string& why) const {
    fail(ErrorKind::invalid, "{}:{}: {}", file_.string(), n.source().begin.line, why);
  }
  [[noreturn]] void missing(const std::string& dotted) const {
    fail(ErrorKind::invalid, "{}: missing key '{}'", file_.string(), dotted);
  }
  const toml::node* find(const std::string& dotted) const {
    return table_.at_path(dotted).node();
  }

 private:
  static const std::set<std::string>& allowed() {
    static const std::set<std::string> keys = {
        "software.name",       "software.version",       "software.backends",  "software.admin_login",
        "software.modules_dirs", "software.module_marker",
        "source.kind",         "source.suite",           "source.packages",    "source.site_exclude",
        "source.git_branch",   "host.packages",          "host.python",        "server.argv",
        "server.env",          "server.config_name",     "server.config",      "server.drain",       "database.uri_sqlite",
        "database.uri_postgresql", "database.init",      "database.activate",  "database.update",
        "database.set_password", "database.password_sql", "database.password_env", "database.password_stdin", "probe.path",
        "probe.body",          "probe.expect",           "login.path",         "login.body",
        "login.expect",        "neutralise.sql",     "neutralise.argv",
        "neutralise.config",   "usage.users_sql",    "usage.last_login_sql", "students.hash", "students.sql",
    };
    return keys;
  }

  void check_template(const toml::node& n, const std::string& dotted, const std::string& value) const {
    try {
      scan(value, [&](const std::string& name) {
        if (!known(name)) fail(ErrorKind::invalid, "unknown placeholder {{{}}}", name);
        if (name == "password" && dotted != "database.password_stdin" && dotted != "login.body")
          fail(ErrorKind::invalid, "{{password}} is only allowed in database.password_stdin and login.body");
        if (name == "login" && dotted != "students.sql")
          fail(ErrorKind::invalid, "{{login}} is only allowed in students.sql");
        if (name == "password_hash" && dotted != "students.sql" && dotted != "database.password_sql")
          fail(ErrorKind::invalid, "{{password_hash}} is only allowed in students.sql and database.password_sql");
      }, nullptr);
    } catch (const core::Error& e) {
      bad(n, fmt::format("'{}': {}", dotted, e.what()));
    }
  }

  fs::path file_;
  toml::table table_;
};

}  // namespace

Recipe load_recipe(const fs::path& file) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& err) {
    fail(ErrorKind::invalid, "{}:{}: {}", file.string(), err.source().begin.line, err.description());
  }
  Reader r(file, std::move(table));
  r.check_keys();
  Recipe rc;
  rc.file = file;
  rc.software = r.str("software.name", true);
  rc.version = r.str("software.version", true);
  if (!core::is_label(rc.software))
    r.bad(*r.find("software.name"), fmt::format("software name '{}' is not a label", rc.software));
  if (!core::is_version(rc.version))
    r.bad(*r.find("software.version"), fmt::format("'{}' is not a version", rc.version));
  if (file.stem().string() != rc.software + "-" + rc.version)
    fail(ErrorKind::invalid, "{}: the file of {}/{} must be named {}-{}.toml", file.string(), rc.software,
         rc.version, rc.software, rc.version);
  rc.backends = r.list("software.backends", true);
  for (const auto& b : rc.backends)
    if (b != "postgresql" && b != "sqlite")
      r.bad(*r.find("software.backends"), fmt::format("unknown backend '{}'", b));
  if (rc.backends.empty()) r.bad(*r.find("software.backends"), "no backend");
  rc.admin_login = r.str("software.admin_login", false, "admin");
  rc.modules_dirs = r.list("software.modules_dirs", false);
  for (const auto& d : rc.modules_dirs)
    if (d.empty() || d.front() == '/' || fs::path(d).lexically_normal().string().starts_with(".."))
      r.bad(*r.find("software.modules_dirs"), fmt::format("'{}': a folder inside the code", d));
  rc.module_marker = r.str("software.module_marker", !rc.modules_dirs.empty());
  if (rc.module_marker.find('/') != std::string::npos)
    r.bad(*r.find("software.module_marker"), "a file name, without '/'");

  std::string kind = r.str("source.kind", true);
  if (kind == "debian") {
    rc.source = SourceKind::debian;
    rc.suite = r.str("source.suite", true);
    if (!core::is_label(rc.suite)) r.bad(*r.find("source.suite"), "suite must be a label such as 'trixie'");
    rc.packages = r.list("source.packages", true);
    if (rc.packages.empty()) r.bad(*r.find("source.packages"), "no package");
    rc.site_exclude = r.list("source.site_exclude", false);
  } else if (kind == "tree") {
    rc.source = SourceKind::tree;
    rc.git_branch = r.str("source.git_branch", false, rc.version);
  } else {
    r.bad(*r.find("source.kind"), fmt::format("source.kind '{}' is neither 'debian' nor 'tree'", kind));
  }
  for (const auto& p : rc.packages)
    if (p.empty() || p.find_first_of(" /=\t") != std::string::npos || p[0] == '-')
      r.bad(*r.find("source.packages"), fmt::format("bad package name '{}'", p));

  rc.host_packages = r.list("host.packages", false);
  rc.python = r.str("host.python", false, "/usr/bin/python3");

  rc.server_argv = r.list("server.argv", true);
  if (rc.server_argv.empty()) r.bad(*r.find("server.argv"), "empty command");
  rc.server_env = r.map("server.env");
  rc.config_name = r.str("server.config_name", true);
  if (!core::is_safe_name(rc.config_name)) r.bad(*r.find("server.config_name"), "not a file name");
  rc.config = r.str("server.config", true);
  std::string drain = r.str("server.drain", false, "restart");
  if (drain != "sessions" && drain != "restart")
    r.bad(*r.find("server.drain"), fmt::format("server.drain '{}' is neither 'sessions' nor 'restart'", drain));
  rc.drain_sessions = drain == "sessions";

  rc.uri_sqlite = r.str("database.uri_sqlite", false);
  rc.uri_postgresql = r.str("database.uri_postgresql", false);
  rc.init = r.list("database.init", true);
  rc.activate = r.list("database.activate", false);
  rc.update = r.list("database.update", false);
  rc.set_password = r.list("database.set_password", true);
  rc.password_env = r.str("database.password_env", false);
  rc.password_stdin = r.str("database.password_stdin", false);
  if (rc.password_env.empty() == rc.password_stdin.empty())
    fail(ErrorKind::invalid, "{}: set exactly one of database.password_env and database.password_stdin",
         file.string());

  rc.probe_path = r.str("probe.path", true);
  rc.probe_body = r.str("probe.body", true);
  rc.probe_expect = r.str("probe.expect", true);

  rc.login_path = r.str("login.path", false);
  rc.login_body = r.str("login.body", false);
  rc.login_expect = r.str("login.expect", false);
  if (rc.login_path.empty() != rc.login_body.empty() || rc.login_body.empty() != rc.login_expect.empty())
    fail(ErrorKind::invalid, "{}: set all of login.path, login.body and login.expect, or none", file.string());

  rc.neutralise_sql = r.list("neutralise.sql", true);
  rc.neutralise_argv = r.list("neutralise.argv", false);
  rc.neutralise_config = r.str("neutralise.config", false);

  rc.usage_users_sql = r.str("usage.users_sql", false);
  rc.usage_last_login_sql = r.str("usage.last_login_sql", false);
  if (rc.usage_users_sql.empty() != rc.usage_last_login_sql.empty())
    fail(ErrorKind::invalid, "{}: set both of usage.users_sql and usage.last_login_sql, or none", file.string());
  rc.students_hash = r.list("students.hash", false);
  rc.students_sql = r.list("students.sql", false);
  if (rc.students_hash.empty() != rc.students_sql.empty())
    fail(ErrorKind::invalid, "{}: set both students.hash and students.sql, or neither", file.string());
  rc.password_sql = r.list("database.password_sql", false);
  if (!rc.password_sql.empty() && rc.students_hash.empty())
    fail(ErrorKind::invalid, "{}: database.password_sql needs students.hash (its hash command)", file.string());
  return rc;
}

std::vector<fs::path> recipe_dirs(const fs::path& root_etc, const std::string& extra) {
  std::vector<fs::path> dirs;
  if (!extra.empty()) dirs.emplace_back(extra);
  dirs.push_back(root_etc / "recipes");
  dirs.push_back(installed_recipe_dir());
  return dirs;
}

// Beside the program: PREFIX/bin/xoe finds PREFIX/share/oe/recipes, so the
// package (/usr), `cmake --install` (/usr/local) and the build tree (whose
// build copies the recipes to BUILD/share/oe/recipes) each find their own,
// also under cron's empty environment.
fs::path installed_recipe_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec || !self.is_absolute()) return XOE_RECIPES_INSTALL_DIR;
  return (self.parent_path().parent_path() / "share/oe/recipes").lexically_normal();
}

// The same for xoe's data files (PREFIX/share/oe/xoe).
fs::path installed_data_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec || !self.is_absolute()) return XOE_DATA_INSTALL_DIR;
  return (self.parent_path().parent_path() / "share/oe/xoe").lexically_normal();
}

std::vector<Recipe> load_recipes(const std::vector<fs::path>& dirs) {
  std::map<std::pair<std::string, std::string>, Recipe> found;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".toml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      Recipe r = load_recipe(f);
      found.try_emplace({r.software, r.version}, std::move(r));
    }
  }
  std::vector<Recipe> out;
  for (auto& [key, r] : found) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const Recipe& a, const Recipe& b) {
    if (a.software != b.software) return a.software < b.software;
    // numeric version order: 5.0 < 16.0
    auto parts = [](const std::string& v) {
      std::vector<long> p;
      std::size_t i = 0;
      while (i < v.size()) {
        auto j = v.find('.', i);
        p.push_back(std::stol(v.substr(i, j - i)));
        if (j == std::string::npos) break;
        i = j + 1;
      }
      return p;
    };
    return parts(a.version) < parts(b.version);
  });
  return out;
}

Recipe find_recipe(const std::vector<fs::path>& dirs, const std::string& software, const std::string& version) {
  std::string searched;
  for (const auto& dir : dirs) {
    fs::path f = dir / (software + "-" + version + ".toml");
    std::error_code ec;
    if (fs::is_regular_file(f, ec)) return load_recipe(f);
    searched += (searched.empty() ? "" : ", ") + dir.string();
  }
  fail(ErrorKind::not_found, "no recipe for {}/{} (searched: {})", core::escape_for_display(software),
       core::escape_for_display(version), searched);
}

std::string render(const std::string& text, const TemplateVars& vars) {
  std::string out;
  scan(text, [&](const std::string& name) {
    if (name == "modules...") fail(ErrorKind::invalid, "{{modules...}} must be a whole argument of a command");
    auto it = vars.vars.find(name);
    if (it == vars.vars.end()) fail(ErrorKind::invalid, "no value for placeholder {{{}}}", name);
    // scan appends literal text as it goes: insert the value at the current end
    out += it->second;
  }, &out);
  return out;
}

std::vector<std::string> render_argv(const std::vector<std::string>& argv, const TemplateVars& vars) {
  std::vector<std::string> out;
  for (const auto& a : argv) {
    if (a == "{modules...}") {
      out.insert(out.end(), vars.modules.begin(), vars.modules.end());
    } else {
      out.push_back(render(a, vars));
    }
  }
  return out;
}

}  // namespace xoe
