// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/recipe.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "../core/tempdir.hpp"

namespace fs = std::filesystem;

namespace {

// The recipes shipped in the source tree (etc/oe/recipes).
fs::path shipped() { return fs::path(__FILE__).parent_path() / "../../../etc/oe/recipes"; }

using test::TempDir;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

xoe::TemplateVars service_vars() {
  xoe::TemplateVars v;
  v.vars = {{"name", "acme"},        {"software", "odoo"},      {"version", "17.0"},
            {"python", "/usr/bin/python3"}, {"code", "/srv/code"}, {"site", "/srv/code"},
            {"config", "/srv/acme/odoo.conf"}, {"database", "acme"}, {"data", "/srv/acme/data"},
            {"port", "8069"},        {"listen", "127.0.0.1"},   {"db_uri", ""},
            {"db_host", "127.0.0.1"}, {"db_port", "5432"},      {"db_user", "xoe-acme"}, {"db_password", "S3cret"},
            {"admin_login", "admin"}, {"modules_csv", "sale,stock"}, {"mail_catcher", "smtp://127.0.0.1:2525"},
            {"mail_host", "127.0.0.1"}, {"mail_port", "2525"},  {"mail_uri", "smtp://127.0.0.1:2525"},
            {"mail_from", "shop@example.org"}, {"role", "training"}, {"copy_of", "acme-production"},
            {"share", "/usr/share/oe/xoe"}, {"databases_file", "/srv/acme/databases"},
            {"last_use_file", "/srv/acme/data/.xoe-last-use"}};
  v.modules = {"sale", "stock"};
  return v;
}

}  // namespace

TEST(Recipe, EveryShippedRecipeLoads) {
  auto all = xoe::load_recipes({shipped()});
  std::vector<std::string> names;
  for (const auto& r : all) names.push_back(r.software + "/" + r.version);
  EXPECT_EQ(names, (std::vector<std::string>{"odoo/16.0", "odoo/17.0", "odoo/18.0", "tryton/5.0", "tryton/6.0",
                                             "tryton/7.0"}));
  for (const auto& r : all) {
    EXPECT_FALSE(r.probe_body.empty()) << r.file;
    EXPECT_FALSE(r.neutralise_sql.empty()) << r.file;
    EXPECT_FALSE(r.init.empty()) << r.file;
  }
}

TEST(Recipe, TrytonComesFromTheMatchingDebianSuite) {
  auto dirs = std::vector<fs::path>{shipped()};
  EXPECT_EQ(xoe::find_recipe(dirs, "tryton", "5.0").suite, "bullseye");
  EXPECT_EQ(xoe::find_recipe(dirs, "tryton", "6.0").suite, "bookworm");
  auto r7 = xoe::find_recipe(dirs, "tryton", "7.0");
  EXPECT_EQ(r7.suite, "trixie");
  EXPECT_EQ(r7.source, xoe::SourceKind::debian);
  EXPECT_TRUE(r7.supports("sqlite"));
  EXPECT_TRUE(r7.supports("postgresql"));
  EXPECT_EQ(r7.password_env, "TRYTONPASSFILE");
  EXPECT_EQ(r7.packages.front(), "tryton-server");
}

TEST(Recipe, UnknownRecipeIsNotFound) {
  try {
    (void)xoe::find_recipe({shipped()}, "tryton", "9.9");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::not_found);
    EXPECT_NE(std::string(e.what()).find("no recipe for tryton/9.9"), std::string::npos);
  }
}

TEST(Recipe, UnknownKeyIsRejectedWithFileAndLine) {
  TempDir t;
  std::string text = read(shipped() / "tryton-7.0.toml");
  text.replace(text.find("[probe]\n"), 8, "[probe]\ntimeout = 3\n");
  auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(text.find("timeout = 3")), '\n');
  write(t.path() / "tryton-7.0.toml", text);
  try {
    (void)xoe::load_recipe(t.path() / "tryton-7.0.toml");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    EXPECT_EQ(std::string(e.what()),
              fmt::format("{}:{}: unknown key 'probe.timeout'", (t.path() / "tryton-7.0.toml").string(), line));
  }
}

TEST(Recipe, BadRecipesAreRejected) {
  TempDir t;
  std::string good = read(shipped() / "tryton-7.0.toml");
  auto expect_invalid = [&](std::string text, const std::string& part, const std::string& file = "tryton-7.0.toml") {
    write(t.path() / file, text);
    try {
      (void)xoe::load_recipe(t.path() / file);
      ADD_FAILURE() << "accepted: " << part;
    } catch (const core::Error& e) {
      EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    fs::remove(t.path() / file);
  };
  std::string s = good;
  s.replace(s.find("{site}"), 6, "{sight}");
  expect_invalid(s, "unknown placeholder {sight}");
  s = good;
  s.replace(s.find("kind = \"debian\""), 15, "kind = \"pypi\"");
  expect_invalid(s, "neither 'debian' nor 'tree'");
  s = good;
  s.replace(s.find("[\"postgresql\", \"sqlite\"]"), 24, "[\"mysql\"]");
  expect_invalid(s, "unknown backend 'mysql'");
  expect_invalid(good, "must be named tryton-7.0.toml", "tryton-7.1.toml");
  expect_invalid("[software\nname=", "tryton-7.0.toml:1");
  s = good;
  s.replace(s.find("password_env = \"TRYTONPASSFILE\""), 31, "");
  expect_invalid(s, "exactly one of database.password_env and database.password_stdin");
  auto with = [&good](const std::string& from, const std::string& to) {
    std::string out = good;
    out.replace(out.find(from), from.size(), to);
    return out;
  };
  expect_invalid(with("modules_dirs = [\".\", \"modules\"]", "modules_dirs = [\"../etc\", \"modules\"]"),
                 "'../etc': a folder inside the code");
  expect_invalid(with("module_marker = \"tryton.cfg\"", "module_marker = \"a/b.cfg\""), "a file name, without '/'");
  expect_invalid(with("drain = \"sessions\"", "drain = \"terminate\""),
                 "server.drain 'terminate' is neither 'sessions' nor 'restart'");
}

// Only a server whose pool checks a connection before use (trytond 7.0)
// runs on through a copy of its database; the others restart. A recipe
// without the key restarts.
TEST(Recipe, DrainOfEveryShippedRecipe) {
  for (const auto& r : xoe::load_recipes({shipped()}))
    EXPECT_EQ(r.software == "tryton" && r.version == "7.0", r.drain_sessions) << r.file;
  TempDir t;
  std::string text = read(shipped() / "tryton-7.0.toml");
  auto at = text.find("drain = \"sessions\"\n");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, 19);
  write(t.path() / "tryton-7.0.toml", text);
  EXPECT_FALSE(xoe::load_recipe(t.path() / "tryton-7.0.toml").drain_sessions);
}

TEST(Recipe, ModulesFoldersOfEveryShippedRecipe) {
  for (const auto& r : xoe::load_recipes({shipped()})) {
    if (r.software == "tryton") {
      EXPECT_EQ((std::vector<std::string>{".", "modules"}), r.modules_dirs) << r.file;
      EXPECT_EQ("tryton.cfg", r.module_marker) << r.file;
    } else {
      EXPECT_EQ((std::vector<std::string>{"addons", "odoo/addons"}), r.modules_dirs) << r.file;
      EXPECT_EQ("__manifest__.py", r.module_marker) << r.file;
    }
  }
}

TEST(Recipe, RenderReplacesPlaceholdersAndKeepsDoubledBraces) {
  xoe::TemplateVars v;
  v.vars = {{"port", "8000"}, {"database", "acme"}};
  EXPECT_EQ(xoe::render("listen = 127.0.0.1:{port} {{x}} /{database}/", v), "listen = 127.0.0.1:8000 {x} /acme/");
  EXPECT_THROW(xoe::render("{nope}", v), core::Error);
  EXPECT_THROW(xoe::render("a } b", v), core::Error);
  v.modules = {"sale", "stock"};
  EXPECT_EQ(xoe::render_argv({"-d", "{database}", "-u", "{modules...}", "--x"}, v),
            (std::vector<std::string>{"-d", "acme", "-u", "sale", "stock", "--x"}));
}

// Odoo cannot run on the test machines: its recipes are tested on what they generate.
TEST(Recipe, OdooConfigurationAndCommands) {
  for (const char* version : {"16.0", "17.0", "18.0"}) {
    SCOPED_TRACE(version);
    auto r = xoe::find_recipe({shipped()}, "odoo", version);
    EXPECT_EQ(r.git_branch, version);
    EXPECT_EQ(r.source, xoe::SourceKind::tree);
    EXPECT_FALSE(r.supports("sqlite"));
    auto v = service_vars();
    std::string config = xoe::render(r.config, v);
    EXPECT_NE(config.find("[options]\n"), std::string::npos);
    EXPECT_NE(config.find("db_host = 127.0.0.1\n"), std::string::npos);
    EXPECT_NE(config.find("dbfilter = ^acme$\n"), std::string::npos);
    EXPECT_NE(config.find("http_port = 8069\n"), std::string::npos);
    EXPECT_NE(config.find("data_dir = /srv/acme/data\n"), std::string::npos);
    EXPECT_EQ(xoe::render_argv(r.server_argv, v),
              (std::vector<std::string>{"/usr/bin/python3", "/srv/code/odoo-bin", "-c", "/srv/acme/odoo.conf"}));
    EXPECT_EQ(xoe::render_argv(r.activate, v),
              (std::vector<std::string>{"/usr/bin/python3", "/srv/code/odoo-bin", "-c", "/srv/acme/odoo.conf", "-d",
                                        "acme", "-i", "sale,stock", "--stop-after-init", "--no-http"}));
    // The password goes on stdin, inside the shell script, never in argv.
    EXPECT_TRUE(r.password_env.empty());
    auto with = v;
    with.vars["password"] = "s3cret";
    std::string script = xoe::render(r.password_stdin, with);
    EXPECT_NE(script.find("write({'password': 's3cret'})"), std::string::npos);
    for (const auto& a : xoe::render_argv(r.set_password, v)) EXPECT_EQ(a.find("s3cret"), std::string::npos);
    EXPECT_EQ(xoe::render(r.probe_body, {}), R"({"jsonrpc": "2.0", "method": "call", "params": {}})");
    // Odoo takes the mail server as host and port, and the sender.
    EXPECT_NE(config.find("email_from = shop@example.org\nsmtp_server = 127.0.0.1\nsmtp_port = 2525\n"),
              std::string::npos);
    EXPECT_EQ(r.neutralise_config, "");
    // The login of backup verify: the password only in the body.
    EXPECT_EQ(xoe::render(r.login_body, with),
              R"({"jsonrpc": "2.0", "method": "call", "params": {"db": "acme", "login": "admin", "password": "s3cret"}})");
  }
}

TEST(Recipe, TrytonLoginAndNeutralisation) {
  for (const char* version : {"6.0", "7.0"}) {
    auto r = xoe::find_recipe({shipped()}, "tryton", version);
    auto v = service_vars();
    v.vars["password"] = "s3cret";
    EXPECT_EQ(xoe::render(r.login_path, v), "/acme/");
    EXPECT_EQ(xoe::render(r.login_body, v),
              R"({"id": 1, "method": "common.db.login", "params": ["admin", {"password": "s3cret"}]})");
    ASSERT_EQ(r.neutralise_sql.size(), 2U);
    EXPECT_EQ(xoe::render(r.neutralise_sql[0], v), "UPDATE ir_cron SET active = false");
    EXPECT_NE(xoe::render(r.neutralise_sql[1], v).find("' [training copy of acme-production]'"), std::string::npos);
    // The mail goes where mail_uri says (the catcher for a copy: set_mail), from mail_from.
    v.vars["db_uri"] = xoe::render(r.uri_sqlite, v);
    EXPECT_NE(xoe::render(r.config, v).find("\n\n[email]\nuri = smtp://127.0.0.1:2525\nfrom = shop@example.org\n"),
              std::string::npos);
    EXPECT_EQ(r.neutralise_config, "");
  }
}

// Every Tryton server runs behind xoe's guard (docs/xoe.md), which learns the
// service's databases and where to record its use from its environment.
TEST(Recipe, TrytonServerRunsTheGuard) {
  for (const char* version : {"5.0", "6.0", "7.0"}) {
    SCOPED_TRACE(version);
    auto r = xoe::find_recipe({shipped()}, "tryton", version);
    auto v = service_vars();
    EXPECT_EQ(xoe::render_argv(r.server_argv, v),
              (std::vector<std::string>{"/usr/bin/python3", "-S", "/usr/share/oe/xoe/tryton_guard.py",
                                        "/srv/code/usr/bin/trytond", "-vv", "-c", "/srv/acme/odoo.conf"}));
    EXPECT_EQ(xoe::render(r.server_env.at("XOE_DATABASES"), v), "/srv/acme/databases");
    EXPECT_EQ(xoe::render(r.server_env.at("XOE_LAST_USE"), v), "/srv/acme/data/.xoe-last-use");
  }
  // The guard is installed beside the program, as the recipes are; the build tree has its copy.
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(xoe::installed_data_dir(), self.parent_path().parent_path() / "share/oe/xoe");
  EXPECT_TRUE(std::filesystem::is_regular_file(xoe::installed_data_dir() / "tryton_guard.py"));
}

TEST(Recipe, TrytonConfigurationForBothBackends) {
  auto r = xoe::find_recipe({shipped()}, "tryton", "6.0");
  auto v = service_vars();
  EXPECT_EQ(xoe::render(r.uri_postgresql, v), "postgresql://xoe-acme:S3cret@127.0.0.1:5432/");
  v.vars["db_uri"] = xoe::render(r.uri_sqlite, v);
  std::string config = xoe::render(r.config, v);
  EXPECT_NE(config.find("uri = sqlite://\npath = /srv/acme/data\n"), std::string::npos);
  EXPECT_NE(config.find("listen = 127.0.0.1:8069\n"), std::string::npos);
  EXPECT_EQ(xoe::render(r.probe_body, {}), R"({"id": 0, "method": "common.server.version", "params": []})");
}

TEST(Recipe, SearchOrderPutsTheExtraFolderFirst) {
  auto dirs = xoe::recipe_dirs("/r/etc/oe", "/src/recipes");
  ASSERT_EQ(dirs.size(), 3U);
  EXPECT_EQ(dirs[0], "/src/recipes");
  EXPECT_EQ(dirs[1], "/r/etc/oe/recipes");
  EXPECT_EQ(dirs[2], xoe::installed_recipe_dir());
  EXPECT_EQ(xoe::recipe_dirs("/r/etc/oe", "").size(), 2U);
}

// PREFIX/bin/PROGRAM finds PREFIX/share/oe/recipes: the build tree's copy here.
TEST(Recipe, TheInstalledRecipesAreBesideTheProgram) {
  fs::path self = fs::read_symlink("/proc/self/exe");
  EXPECT_EQ(xoe::installed_recipe_dir(), self.parent_path().parent_path() / "share/oe/recipes");
  EXPECT_FALSE(xoe::load_recipes({xoe::installed_recipe_dir()}).empty()) << xoe::installed_recipe_dir();
}

// The usage statistics of xoe monitor come from the recipes, both queries or none.
TEST(Recipe, UsageQueriesOfEveryShippedRecipe) {
  for (const auto& r : xoe::load_recipes({shipped()})) {
    bool odoo = r.software == "odoo";
    EXPECT_NE(r.usage_users_sql.find(odoo ? "FROM res_users " : "FROM res_user "), std::string::npos) << r.file;
    EXPECT_NE(r.usage_last_login_sql.find(odoo ? "FROM res_users_log" : "FROM ir_session"), std::string::npos)
        << r.file;
    EXPECT_EQ(xoe::render(r.usage_users_sql, service_vars()), r.usage_users_sql) << r.file;
  }
  TempDir t;
  std::string good = read(shipped() / "tryton-7.0.toml");
  std::string s = good;
  s.replace(s.find("last_login_sql = "), 17, "last_seen_sql = ");
  auto line = 1 + std::count(s.begin(), s.begin() + static_cast<long>(s.find("last_seen_sql")), '\n');
  write(t.path() / "tryton-7.0.toml", s);
  try {
    (void)xoe::load_recipe(t.path() / "tryton-7.0.toml");
    ADD_FAILURE() << "unknown key accepted";
  } catch (const core::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              fmt::format("{}:{}: unknown key 'usage.last_seen_sql'", (t.path() / "tryton-7.0.toml").string(), line));
  }
  s = good.substr(0, good.find("[usage]")) + "[usage]\nusers_sql = \"SELECT 1\"\n";
  write(t.path() / "tryton-7.0.toml", s);
  try {
    (void)xoe::load_recipe(t.path() / "tryton-7.0.toml");
    ADD_FAILURE() << "users_sql without last_login_sql accepted";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    EXPECT_NE(std::string(e.what()).find("both of usage.users_sql and usage.last_login_sql"), std::string::npos)
        << e.what();
  }
  // A recipe without [usage] loads; its services report no usage.
  write(t.path() / "tryton-7.0.toml", good.substr(0, good.find("[usage]")));
  EXPECT_TRUE(xoe::load_recipe(t.path() / "tryton-7.0.toml").usage_users_sql.empty());
}

TEST(Recipe, StudentsSectionCreatesTheStudentsUser) {
  for (const auto& r : xoe::load_recipes({shipped()})) {
    EXPECT_FALSE(r.students_hash.empty()) << r.file;
    EXPECT_FALSE(r.students_sql.empty()) << r.file;
  }
  auto r = xoe::find_recipe({shipped()}, "tryton", "7.0");
  auto v = service_vars();
  v.vars["login"] = "student01";
  v.vars["password_hash"] = "$pbkdf2-sha512$25000$c2FsdA$aGFzaA";
  ASSERT_EQ(r.students_sql.size(), 3U);
  std::string insert = xoe::render(r.students_sql[0], v);
  EXPECT_NE(insert.find("SELECT 'student01', 'student01', '$pbkdf2-sha512$25000$c2FsdA$aGFzaA', true, menu"),
            std::string::npos) << insert;
  EXPECT_NE(insert.find("WHERE login = 'admin' AND NOT EXISTS"), std::string::npos) << insert;
  EXPECT_NE(xoe::render(r.students_sql[2], v).find("\"res_user-res_group\""), std::string::npos);
  // The passwords reach the hash command on stdin only.
  for (const auto& a : xoe::render_argv(r.students_hash, v)) EXPECT_EQ(a.find("{password"), std::string::npos);
}

TEST(Recipe, StudentsPlaceholdersOnlyInStudentsSql) {
  TempDir t;
  std::string good = read(shipped() / "tryton-7.0.toml");
  auto expect_invalid = [&](const std::string& text, const std::string& part) {
    write(t.path() / "tryton-7.0.toml", text);
    try {
      (void)xoe::load_recipe(t.path() / "tryton-7.0.toml");
      ADD_FAILURE() << "accepted: " << part;
    } catch (const core::Error& e) {
      EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  std::string s = good;
  s.replace(s.find("\"UPDATE ir_cron SET active = false\""), 35, "\"UPDATE ir_cron SET name = '{login}'\"");
  expect_invalid(s, "{login} is only allowed in students.sql");
  s = good;
  s.replace(s.find("[students]\n"), 11, "[students]\nrounds = 3\n");
  expect_invalid(s, "unknown key 'students.rounds'");
  s = good;
  auto hash = s.find("hash = [\"{python}\", \"-S\", \"-c\"");
  s.erase(hash, s.find("sql = [\"INSERT INTO res_user") - hash);
  expect_invalid(s, "set both students.hash and students.sql, or neither");
  s = good;
  s.replace(s.find("\"UPDATE ir_cron SET active = false\""), 35, "\"UPDATE ir_cron SET name = '{password_hash}'\"");
  expect_invalid(s, "{password_hash} is only allowed in students.sql and database.password_sql");
  // database.password_sql hashes with students.hash: not without it.
  s = good.substr(0, good.find("\n[students]\n") + 1);
  expect_invalid(s, "database.password_sql needs students.hash");
  // Without both, a recipe still loads: `xoe students` refuses it, and the
  // admin password is set by database.set_password.
  auto sql = s.find("password_sql = [");
  s.erase(sql, s.find('\n', sql) + 1 - sql);
  write(t.path() / "tryton-7.0.toml", s);
  auto bare = xoe::load_recipe(t.path() / "tryton-7.0.toml");
  EXPECT_TRUE(bare.students_sql.empty());
  EXPECT_TRUE(bare.password_sql.empty());
  EXPECT_FALSE(bare.set_password.empty());
}

// Tryton's recipes write the admin password as a hash (docs/xoe.md): one
// UPDATE of the admin's row with {password_hash}, never the password itself.
TEST(Recipe, TrytonAdminPasswordIsWrittenAsHash) {
  for (const char* v : {"5.0", "6.0", "7.0"}) {
    auto r = xoe::load_recipe(shipped() / fmt::format("tryton-{}.toml", v));
    ASSERT_EQ(r.password_sql.size(), 1U) << v;
    xoe::TemplateVars vars;
    vars.vars["password_hash"] = "$pbkdf2-sha512$25000$c2FsdA$aGFzaA";
    vars.vars["admin_login"] = "admin";
    EXPECT_EQ(xoe::render(r.password_sql[0], vars),
              "UPDATE res_user SET password_hash = '$pbkdf2-sha512$25000$c2FsdA$aGFzaA' WHERE login = 'admin'")
        << v;
    EXPECT_FALSE(r.students_hash.empty()) << v;
  }
}
