// SPDX-License-Identifier: GPL-3.0-or-later
// goe serve: the panel's HTTP server (cpp-httplib) over XoePort, with goe's
// safeguards: session cookie, CSRF header, Origin check, strict headers,
// login rate limit (docs/goe.md).
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <fmt/chrono.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "auth.hpp"
#include "tasks.hpp"
#include "core/error.hpp"
#include "core/cli.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "goe/panel.hpp"
#include "xoe_port.hpp"

namespace goe {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;
using nlohmann::json;

fs::path database(const core::Paths& paths) { return paths.data("goe") / "goe.db"; }

void user_add(const core::Paths& paths, const std::string& name, const std::string& role,
              const std::string& password) {
  auto r = parse_role(role);
  if (!r) fail(ErrorKind::invalid, "bad role '{}': viewer, operator or admin", role);
  Users(database(paths)).add(name, *r, password);
}

void user_remove(const core::Paths& paths, const std::string& name) { Users(database(paths)).remove(name); }

void user_passwd(const core::Paths& paths, const std::string& name, const std::string& password) {
  Users(database(paths)).set_password(name, password);
}

std::vector<UserRow> user_list(const core::Paths& paths) {
  std::vector<UserRow> out;
  for (const auto& u : Users(database(paths)).list()) out.push_back({u.name, role_name(u.role), u.created});
  return out;
}

void parse_listen(const std::string& text, ServeOptions& options) {
  static const std::regex re(R"(^(\[[0-9a-fA-F:.]+\]|[0-9A-Za-z.-]*)(?::([0-9]{1,5}))?$)");
  std::smatch m;
  if (!std::regex_match(text, m, re) || (m[1].length() == 0 && !m[2].matched))
    fail(ErrorKind::invalid, "bad --listen '{}': ADDR:PORT, ADDR or :PORT", text);
  if (m[1].length() > 0) {
    std::string a = m[1];
    if (a.front() == '[') a = a.substr(1, a.size() - 2);
    options.address = a;
  }
  if (m[2].matched) {
    int port = std::stoi(m[2]);
    if (port < 1 || port > 65535) fail(ErrorKind::invalid, "bad --listen '{}': the port is 1 to 65535", text);
    options.port = port;
  }
}

namespace {

const char* cookie_name = "goe_session";

fs::path default_static_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && self.is_absolute()) {
    fs::path dir = (self.parent_path().parent_path() / "share/oe/goe/static").lexically_normal();
    if (fs::is_directory(dir, ec)) return dir;
  }
  return GOE_STATIC_INSTALL_DIR;
}

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid: return 400;
    case ErrorKind::not_found: return 404;
    case ErrorKind::conflict: return 409;
    case ErrorKind::precondition: return 503;
    default: return 500;
  }
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
}

std::string cookie_token(const httplib::Request& req) {
  std::string all = req.get_header_value("Cookie");
  std::string key = std::string(cookie_name) + "=";
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string part = all.substr(pos, end - pos);
    part.erase(0, part.find_first_not_of(' '));
    if (part.starts_with(key)) return part.substr(key.size());
    pos = end + 1;
  }
  return {};
}

json optional_json(const auto& v) { return v ? json(*v) : json(nullptr); }

json time_json(const std::optional<std::chrono::sys_seconds>& t) {
  return t ? json(fmt::format("{:%FT%TZ}", *t)) : json(nullptr);
}

json task_json(const Task& t) {
  return json{{"id", t.id},         {"kind", t.kind},     {"target", t.target},
              {"user", t.user},     {"started", t.started}, {"ended", optional_json(t.ended)},
              {"status", t.status}, {"error", t.error},   {"detail", t.detail}};
}

// The result of a service's last backup: "failed" when goe's last backup
// task of it failed after its newest archive was made, "ok" when it has an
// archive, null when neither.
json backup_result(const ServiceView& v, const std::optional<Task>& last) {
  if (last && last->status == "failed" && last->ended &&
      (!v.last_backup || *last->ended > fmt::format("{:%FT%TZ}", *v.last_backup)))
    return json{{"result", "failed"}, {"error", last->error}, {"task", last->id}, {"time", *last->ended}};
  if (v.last_backup) return json{{"result", "ok"}};
  return nullptr;
}

// One service for the Services page, with the actions the session's role may take.
json service_json(const ServiceView& v, Role role, const std::optional<Task>& last_backup_task = std::nullopt) {
  json actions = json::array();
  for (const char* a : {"start", "stop", "restart", "backup"})
    if (allowed(role, v.role, a)) actions.push_back(a);
  return json{{"name", v.name},
              {"software", v.software},
              {"version", v.version},
              {"role", v.role},
              {"state", v.state},
              {"seconds", v.seconds},
              {"up", v.up},
              {"memory_bytes", optional_json(v.memory_bytes)},
              {"db_bytes", optional_json(v.db_bytes)},
              {"users", optional_json(v.users)},
              {"last_login", time_json(v.last_login)},
              {"last_backup", time_json(v.last_backup)},
              {"backup_age_seconds", optional_json(v.backup_age_seconds)},
              {"backup", backup_result(v, last_backup_task)},
              {"actions", actions}};
}

bool state_changing(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

class Panel {
 public:
  Panel(const core::Paths& paths, const ServeOptions& options)
      : options_(options),
        tls_(options.tls_cert.has_value()),
        users_(database(paths)),
        sessions_(std::chrono::minutes(options.session_minutes)),
        limit_(5, std::chrono::minutes(5), std::chrono::minutes(5)),
        tasks_(database(paths)),
        xoe_(local_xoe(paths)) {
    int gone = tasks_.reap();
    if (gone > 0) core::logger("goe")->warn("{} task(s) of a goe that stopped marked failed", gone);
  }

  void routes(httplib::Server& server) {
    server.new_task_queue = [n = options_.threads] { return new httplib::ThreadPool(static_cast<std::size_t>(n)); };
    server.set_payload_max_length(64 * 1024);
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      headers(res);
      if (state_changing(req.method) && !same_origin(req)) {
        send_error(res, 403, "cross-origin request refused");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const core::Error& e) {
        send_error(res, http_status(e.kind()), e.what());
      } catch (const std::exception& e) {
        core::logger("goe")->error("{}", e.what());
        send_error(res, 500, "internal error");
      }
    });
    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
      res.set_redirect(session(req) ? "/services.html" : "/login.html", 303);
    });
    server.Post("/api/login", [this](const httplib::Request& req, httplib::Response& res) { login(req, res); });
    server.Post("/api/logout", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = guard(req, res, true);
      if (!s) return;
      sessions_.close(cookie_token(req));
      res.set_header("Set-Cookie", cookie("", 0));
      send_json(res, 200, json{{"ok", true}});
    });
    server.Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = guard(req, res, false);
      if (!s) return;
      send_json(res, 200, json{{"user", s->user}, {"role", role_name(s->role)}, {"csrf", s->csrf}});
    });
    server.Get("/api/services", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = guard(req, res, false);
      if (!s) return;
      json list = json::array();
      for (const auto& v : xoe_->monitor(std::nullopt))
        list.push_back(service_json(v, s->role, tasks_.last("backup", v.name)));
      send_json(res, 200, json{{"services", list}});
    });
    server.Get(R"(/api/services/([a-z0-9][a-z0-9-]{0,62}))",
               [this](const httplib::Request& req, httplib::Response& res) { service_detail(req, res); });
    server.Post(R"(/api/services/([a-z0-9][a-z0-9-]{0,62})/(start|stop|restart|backup))",
                [this](const httplib::Request& req, httplib::Response& res) { act(req, res); });
    server.Post(R"(/api/services/([a-z0-9][a-z0-9-]{0,62})/restore)",
                [this](const httplib::Request& req, httplib::Response& res) { restore(req, res); });
    server.Post(R"(/api/services/([a-z0-9][a-z0-9-]{0,62})/verify)",
                [this](const httplib::Request& req, httplib::Response& res) { verify(req, res); });
    server.Get("/api/copies", [this](const httplib::Request& req, httplib::Response& res) { copies(req, res); });
    server.Post("/api/copies/refresh",
                [this](const httplib::Request& req, httplib::Response& res) { refresh(req, res); });
    server.Post("/api/copies/students",
                [this](const httplib::Request& req, httplib::Response& res) { disseminate(req, res); });
    server.Post(R"(/api/copies/students/([a-z0-9][a-z0-9-]{0,62})/remove)",
                [this](const httplib::Request& req, httplib::Response& res) { remove_group(req, res); });
    server.Post(R"(/api/tasks/([0-9]{1,15})/credentials)",
                [this](const httplib::Request& req, httplib::Response& res) { credentials(req, res); });
    server.Get("/api/tasks", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = guard(req, res, false);
      if (!s) return;
      json list = json::array();
      for (const auto& t : tasks_.list(std::nullopt)) list.push_back(task_json(t));
      send_json(res, 200, json{{"tasks", list}});
    });
    server.Get(R"(/api/tasks/([0-9]{1,15}))", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = guard(req, res, false);
      if (!s) return;
      auto t = tasks_.get(std::stoll(std::string(req.matches[1])));
      if (!t) return send_error(res, 404, "no task " + std::string(req.matches[1]));
      json j = task_json(*t);
      j["log"] = tasks_.log(t->id);
      send_json(res, 200, j);
    });
    server.Post(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) { send_error(res, 404, "no such call"); });
    server.Get(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) { send_error(res, 404, "no such call"); });
    fs::path dir = options_.static_dir.value_or(default_static_dir());
    if (!server.set_mount_point("/", dir.string()))
      fail(ErrorKind::precondition, "goe's static files are missing: {}", dir.string());
    server.set_file_extension_and_mimetype_mapping("js", "text/javascript");
  }

 private:
  void headers(httplib::Response& res) const {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cache-Control", "no-store");
    if (tls_) res.set_header("Strict-Transport-Security", "max-age=31536000");
  }

  // A state-changing request from a browser names its page's origin, which
  // must be this server's (scheme and Host); Sec-Fetch-Site, when sent,
  // must not be cross-site. Scripts that send neither go on to the CSRF check.
  bool same_origin(const httplib::Request& req) const {
    std::string site = req.get_header_value("Sec-Fetch-Site");
    if (!site.empty() && site != "same-origin" && site != "none") return false;
    if (!req.has_header("Origin")) return true;
    std::string origin = req.get_header_value("Origin");
    std::string host = req.get_header_value("Host");
    return !host.empty() && origin == std::string(tls_ ? "https://" : "http://") + host;
  }

  std::string cookie(const std::string& token, std::int64_t max_age) const {
    std::string c = std::string(cookie_name) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                    std::to_string(max_age);
    if (tls_) c += "; Secure";
    return c;
  }

  std::optional<Session> session(const httplib::Request& req) {
    std::string token = cookie_token(req);
    if (token.empty()) return std::nullopt;
    return sessions_.find(token);
  }

  // The session of the request, or an answer: 401 without one, 403 without
  // its CSRF token on a state-changing request.
  std::optional<Session> guard(const httplib::Request& req, httplib::Response& res, bool changes) {
    auto s = session(req);
    if (!s) {
      send_error(res, 401, "not logged in");
      return std::nullopt;
    }
    if (changes && !csrf_ok(*s, req.get_header_value("X-CSRF-Token"))) {
      send_error(res, 403, "missing or wrong CSRF token");
      return std::nullopt;
    }
    return s;
  }

  void login(const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("user") || !body.contains("password") || !body["user"].is_string() ||
        !body["password"].is_string()) {
      send_error(res, 400, "a login needs a user and a password");
      return;
    }
    std::string name = body["user"], password = body["password"];
    std::string by_user = "user:" + name, by_addr = "addr:" + req.remote_addr;
    if (limit_.locked(by_user) || limit_.locked(by_addr)) {
      res.set_header("Retry-After", "300");
      send_error(res, 429, "too many failed logins: try again in a few minutes");
      return;
    }
    std::optional<User> user;
    if (name.size() <= 64 && password.size() <= 1024) user = users_.check(name, password);
    if (!user) {
      limit_.failure(by_user);
      limit_.failure(by_addr);
      core::logger("goe")->warn("failed login for '{}' from {}", name.size() <= 64 ? name : "?", req.remote_addr);
      send_error(res, 401, "wrong user or password");
      return;
    }
    limit_.success(by_user);
    limit_.success(by_addr);
    std::string token = sessions_.open(*user);
    auto s = sessions_.find(token);
    res.set_header("Set-Cookie", cookie(token, options_.session_minutes * 60));
    core::logger("goe")->info("{} logged in from {}", user->name, req.remote_addr);
    send_json(res, 200, json{{"user", user->name}, {"role", role_name(user->role)}, {"csrf", s->csrf}});
  }

  // The service of the URL when it exists, or a 404.
  std::optional<ServiceView> find_service(const std::string& name, httplib::Response& res) {
    for (const auto& v : xoe_->list())
      if (v.name == name) return v;
    send_error(res, 404, "no service '" + name + "'");
    return std::nullopt;
  }

  // Runs `work` as a task of `kind` on `service` in a thread of its own and
  // answers 202 with the task's ID (409 when the service has a running task).
  // The work's result is the task's detail; its error, the task's.
  void start_task(const Session& s, const std::string& kind, const std::string& service,
                  std::function<std::string()> work, httplib::Response& res) {
    start_task(
        s, kind, service, [work = std::move(work)](std::int64_t) { return work(); }, res);
  }

  // The same, `work` given the task's ID (for its log, Tasks::note).
  void start_task(const Session& s, const std::string& kind, const std::string& service,
                  std::function<std::string(std::int64_t)> work, httplib::Response& res) {
    std::int64_t id = tasks_.open(kind, service, s.user);
    core::logger("goe")->info("task {}: {} asks to {} {}", id, s.user, kind, service);
    std::thread([this, id, kind, service, work = std::move(work)] {
      bool ok = false;
      std::string text;
      try {
        text = work(id);
        ok = true;
      } catch (const std::exception& e) {
        text = e.what();
      }
      try {
        tasks_.finish(id, ok, text);
      } catch (const std::exception& e) {
        core::logger("goe")->error("task {}: cannot record its end: {}", id, e.what());
      }
      if (ok)
        core::logger("goe")->info("task {}: {} {} done", id, kind, service);
      else
        core::logger("goe")->warn("task {}: {} {} failed: {}", id, kind, service, text);
    }).detach();
    send_json(res, 202, json{{"task", id}});
  }

  void act(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    std::string name = req.matches[1], verb = req.matches[2];
    auto current = find_service(name, res);
    if (!current) return;
    if (!allowed(s->role, current->role, verb)) {
      send_error(res, 403, fmt::format("a {} may not {} a {} service", role_name(s->role), verb, current->role));
      return;
    }
    if (verb == "backup") {
      start_task(*s, verb, name, [this, name] { return xoe_->backup_now(name).archive.filename().string(); }, res);
      return;
    }
    auto action = *parse_action(verb);
    start_task(*s, verb, name, [this, name, action] { return "state " + xoe_->act(name, action).state; }, res);
  }

  // POST {"archive": FILE NAME} of one of the service's archives: verified
  // as `xoe backup verify` does. A name that is not one of its archives
  // (a path, "..") is refused, nothing is read.
  void verify(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    std::string name = req.matches[1];
    auto current = find_service(name, res);
    if (!current) return;
    if (!allowed(s->role, current->role, "verify")) {
      send_error(res, 403, fmt::format("a {} may not verify a backup of {}", role_name(s->role), name));
      return;
    }
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("archive") || !body["archive"].is_string())
      return send_error(res, 400, "a verify needs an archive");
    std::string file = body["archive"];
    std::optional<fs::path> archive;
    for (const auto& b : xoe_->backups(name))
      if (b.archive.filename().string() == file) archive = b.archive;
    if (!archive) return send_error(res, 404, "no archive '" + file.substr(0, 200) + "' of " + name);
    start_task(*s, "verify", name, [this, a = *archive] {
      auto v = xoe_->verify(a);
      if (!v.ok) fail(ErrorKind::failed, "{} does not verify: {}", a.filename().string(), v.error);
      return fmt::format("{} verified in {:.1f} s", a.filename().string(), v.seconds);
    }, res);
  }

  // The production a training service is refreshed from: for NAME-training,
  // NAME-production or else NAME, when it is a production service.
  static std::optional<std::string> production_of(const ServiceView& training, const std::vector<ServiceView>& all) {
    const std::string suffix = "-training";
    if (training.role != "training" || !training.name.ends_with(suffix)) return std::nullopt;
    std::string base = training.name.substr(0, training.name.size() - suffix.size());
    for (const auto& candidate : {base + "-production", base})
      for (const auto& v : all)
        if (v.name == candidate && v.role == "production") return v.name;
    return std::nullopt;
  }

  // GET /api/copies: each training service with the production it is
  // refreshed from, the backup a refresh would restore and what it
  // overwrites; the services a group may be disseminated from; the groups
  // of student databases. No password.
  void copies(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, false);
    if (!s) return;
    auto all = xoe_->list();
    json trainings = json::array(), sources = json::array(), groups = json::array();
    for (const auto& v : all) {
      if (v.state != "creating" && allowed(s->role, v.role, "disseminate"))
        sources.push_back(json{{"name", v.name}, {"role", v.role}});
      if (v.role != "training") continue;
      auto production = production_of(v, all);
      json backup = nullptr;
      if (production) {
        auto b = xoe_->backups(*production);
        if (!b.empty())
          backup = json{{"archive", b.front().archive.filename().string()},
                        {"time", fmt::format("{:%FT%TZ}", b.front().time)}};
      }
      auto d = xoe_->detail(v.name);
      trainings.push_back(json{{"training", v.name},
                               {"production", optional_json(production)},
                               {"backup", backup},
                               {"overwrites", json{{"database", d.database}, {"backend", d.backend}}},
                               {"state", v.state},
                               {"refresh", production && !backup.is_null() && allowed(s->role, v.role, "refresh")}});
    }
    std::map<std::string, json> by_group;
    for (const auto& d : xoe_->students(std::nullopt)) {
      auto& g = by_group[d.group];
      if (g.is_null()) {
        std::string role;
        for (const auto& v : all)
          if (v.name == d.service) role = v.role;
        g = json{{"group", d.group},
                 {"service", d.service},
                 {"databases", json::array()},
                 {"remove", allowed(s->role, role, "remove-students")}};
      }
      g["databases"].push_back(json{{"login", d.login},
                                    {"kind", d.kind},
                                    {"service", d.service},
                                    {"database", d.database},
                                    {"url", d.url},
                                    {"state", d.state},
                                    {"created", d.created}});
    }
    for (auto& [_, g] : by_group) groups.push_back(std::move(g));
    send_json(res, 200, json{{"trainings", trainings}, {"sources", sources}, {"groups", groups}});
  }

  // A JSON body, or a 400.
  static std::optional<json> body_of(const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      send_error(res, 400, "the request's body is not a JSON object");
      return std::nullopt;
    }
    return body;
  }

  static std::optional<std::string> string_field(const json& body, const char* key) {
    if (!body.contains(key) || !body[key].is_string()) return std::nullopt;
    return body[key].get<std::string>();
  }

  // POST {"training": NAME}: its production's last backup restored into it
  // (`xoe training refresh NAME --from PRODUCTION`), as a task whose log
  // names the backup used and what it overwrites.
  void refresh(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    auto body = body_of(req, res);
    if (!body) return;
    auto name = string_field(*body, "training");
    if (!name || !core::is_label(*name)) return send_error(res, 400, "a refresh needs a training service");
    auto training = find_service(*name, res);
    if (!training) return;
    if (!allowed(s->role, training->role, "refresh"))
      return send_error(res, 403, fmt::format("a {} may not refresh a {} service", role_name(s->role), training->role));
    auto production = production_of(*training, xoe_->list());
    if (!production)
      return send_error(
          res, 409,
          fmt::format("{} is not a training service NAME-training of a production NAME-production or NAME", *name));
    auto backups = xoe_->backups(*production);
    if (backups.empty())
      return send_error(res, 409, fmt::format("{} has no backup to refresh {} from", *production, *name));
    auto d = xoe_->detail(*name);
    std::string archive = backups.front().archive.filename().string();
    std::string when = fmt::format("{:%FT%TZ}", backups.front().time);
    start_task(
        *s, "refresh", *name,
        [this, t = *name, p = *production, archive, when, d](std::int64_t id) {
          tasks_.note(id, fmt::format("refresh {} from {}", t, p));
          tasks_.note(id, fmt::format("backup used: {} of {} ({}), its newest", archive, p, when));
          tasks_.note(id, fmt::format("overwrites: the database {} ({}) and the data of {}", d.database, d.backend, t));
          auto r = xoe_->refresh(t, p);
          std::string used = r.archive.filename().string();
          if (used != archive) tasks_.note(id, fmt::format("a newer backup came meanwhile: {} restored", used));
          tasks_.note(id, fmt::format("restored and neutralised in {:.1f} s", r.seconds));
          return fmt::format("{} refreshed from {}", t, used);
        },
        res);
  }

  // POST {"service": NAME, "group": GROUP, "students": N}: a copy of the
  // service's database for each of N students (`xoe students disseminate`),
  // as a task; the credentials kept in memory for the user who asked, to
  // be read once (credentials()), never in the task's log or goe.db.
  void disseminate(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    auto body = body_of(req, res);
    if (!body) return;
    auto name = string_field(*body, "service");
    auto group = string_field(*body, "group");
    if (!name || !core::is_label(*name)) return send_error(res, 400, "a dissemination needs a service");
    if (!group || !std::regex_match(*group, std::regex("[a-z][a-z0-9-]{0,30}")))
      return send_error(res, 400, "bad group: a lowercase letter, then up to 30 lowercase letters, digits or '-'");
    if (!body->contains("students") || !(*body)["students"].is_number_integer() ||
        (*body)["students"].get<long>() < 1 || (*body)["students"].get<long>() > 200)
      return send_error(res, 400, "bad number of students: 1 to 200");
    int count = (*body)["students"].get<int>();
    auto source = find_service(*name, res);
    if (!source) return;
    if (!allowed(s->role, source->role, "disseminate"))
      return send_error(res, 403,
                        fmt::format("a {} may not disseminate a {} service", role_name(s->role), source->role));
    if (!xoe_->students(*group).empty()) return send_error(res, 409, fmt::format("group '{}' exists", *group));
    std::string user = s->user;
    start_task(
        *s, "disseminate", *name,
        [this, n = *name, g = *group, count, user](std::int64_t id) {
          tasks_.note(id, fmt::format("disseminate the database of {} to group {}: {} students", n, g, count));
          auto r = xoe_->disseminate(n, g, count);
          json handed = json::array();
          for (const auto& d : r.databases) {
            tasks_.note(id, fmt::format("{}: database {} served by {} at {}", d.login, d.database, d.service, d.url));
            handed.push_back(
                json{{"login", d.login}, {"password", d.password}, {"database", d.database}, {"url", d.url}});
          }
          hand(id, user, std::move(handed));
          return fmt::format("group {}: {} databases in {:.1f} s (credentials shown once)", g, r.databases.size(),
                             r.seconds);
        },
        res);
  }

  // Keeps the credentials a task made for `user` to read once.
  // Those not read within 15 minutes are dropped (the page that asked was
  // left): secrets are not kept in memory for long.
  void hand(std::int64_t id, const std::string& user, json credentials) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(credentials_mutex_);
    std::erase_if(credentials_, [&](const auto& e) { return now - e.second.made > std::chrono::minutes(15); });
    credentials_[id] = {user, std::move(credentials), now};
  }

  // POST {"archive": FILE NAME, "as": NEW}: one of the service's archives
  // restored into a new service NEW (`xoe restore SERVICE ARCHIVE --as NEW`:
  // role test, neutralised), as a task on NEW; its admin's password kept
  // for the user who asked, to be read once. A name that is taken is a 409.
  // POST {"archive": FILE NAME, "into": TARGET, "confirm": TARGET}: over an
  // existing service (restore_over).
  void restore(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    std::string name = req.matches[1];
    auto current = find_service(name, res);
    if (!current) return;
    auto body = body_of(req, res);
    if (!body) return;
    if (body->contains("into")) return restore_over(*s, name, *body, res);
    if (!allowed(s->role, "test", "restore-new"))
      return send_error(res, 403, fmt::format("a {} may not restore a backup", role_name(s->role)));
    auto file = string_field(*body, "archive");
    auto as = string_field(*body, "as");
    if (!file) return send_error(res, 400, "a restore needs an archive");
    if (!as || !core::is_label(*as) || as->size() > 50)
      return send_error(res, 400, "bad new service name: a lowercase label of up to 50 characters");
    std::optional<fs::path> archive;
    for (const auto& b : xoe_->backups(name))
      if (b.archive.filename().string() == *file) archive = b.archive;
    if (!archive) return send_error(res, 404, "no archive '" + file->substr(0, 200) + "' of " + name);
    for (const auto& v : xoe_->list())
      if (v.name == *as)
        return send_error(res, 409, fmt::format("service '{}' exists: a restore here makes a new one", *as));
    std::string user = s->user;
    start_task(
        *s, "restore", *as,
        [this, name, a = *archive, n = *as, user](std::int64_t id) {
          tasks_.note(id, fmt::format("restore {} of {} into a new service {} (role test, neutralised)",
                                      a.filename().string(), name, n));
          auto r = xoe_->restore_as_new(name, a, n);
          tasks_.note(id, fmt::format("created {}: role {}, database {}, {}", r.service, r.role, r.database, r.url));
          std::string login = xoe_->detail(r.service).admin_login;
          hand(id, user,
               json::array(
                   {json{{"login", login}, {"password", r.admin_password}, {"database", r.database}, {"url", r.url}}}));
          return fmt::format("{} restored from {} in {:.1f} s, role {} (admin's password shown once)", r.service,
                             a.filename().string(), r.seconds, r.role);
        },
        res);
  }

  // One of the archives of `name` restored over an existing service TARGET
  // (`xoe restore TARGET ARCHIVE`: it keeps its role and admin password,
  // neutralised unless production), as a task on TARGET, after a backup of
  // TARGET (its archive named in the task's log and detail). TARGET's name
  // must be typed in "confirm" (400 otherwise, nothing done); operators may
  // restore over all but production, admins over production too.
  void restore_over(const Session& s, const std::string& name, const json& body, httplib::Response& res) {
    auto file = string_field(body, "archive");
    auto into = string_field(body, "into");
    if (!file) return send_error(res, 400, "a restore needs an archive");
    if (!into || !core::is_label(*into)) return send_error(res, 400, "a restore over a service needs its name");
    auto target = find_service(*into, res);
    if (!target) return;
    if (!allowed(s.role, target->role, "restore"))
      return send_error(res, 403,
                        fmt::format("a {} may not restore over a {} service", role_name(s.role), target->role));
    if (string_field(body, "confirm") != *into)
      return send_error(res, 400, fmt::format("type the name of the service restored over ({}) to confirm", *into));
    std::optional<fs::path> archive;
    for (const auto& b : xoe_->backups(name))
      if (b.archive.filename().string() == *file) archive = b.archive;
    if (!archive) return send_error(res, 404, "no archive '" + file->substr(0, 200) + "' of " + name);
    auto d = xoe_->detail(*into);
    start_task(
        s, "restore", *into,
        [this, name, a = *archive, t = *into, d](std::int64_t id) {
          tasks_.note(id, fmt::format("a backup of {} first", t));
          std::string saved = xoe_->backup_now(t).archive.filename().string();
          tasks_.note(id, fmt::format("{} backed up: {}", t, saved));
          tasks_.note(id, fmt::format("restore {} of {} over {}: overwrites the database {} ({}) and its data",
                                      a.filename().string(), name, t, d.database, d.backend));
          auto r = xoe_->restore_into(t, a);
          tasks_.note(id, fmt::format("restored in {:.1f} s, role {}{}", r.seconds, r.role,
                                      r.neutralised ? ", neutralised" : ""));
          return fmt::format("{} restored from {} (its previous state in {})", t, a.filename().string(), saved);
        },
        res);
  }

  // POST: the credentials of a dissemination or a restore, once, to the
  // user who asked for it; 410 after (or after 15 minutes, or when goe
  // restarted since).
  void credentials(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    std::int64_t id = std::stoll(std::string(req.matches[1]));
    std::lock_guard lock(credentials_mutex_);
    auto it = credentials_.find(id);
    if (it != credentials_.end() && std::chrono::steady_clock::now() - it->second.made > std::chrono::minutes(15)) {
      credentials_.erase(it);
      it = credentials_.end();
    }
    if (it == credentials_.end() || it->second.user != s->user)
      return send_error(res, 410, "no credentials to show for task " + std::to_string(id) + " (shown once)");
    json list = std::move(it->second.credentials);
    credentials_.erase(it);
    send_json(res, 200, json{{"credentials", list}});
  }

  // POST: every database of the group dropped (`xoe students remove`), as a
  // task on the service that serves them.
  void remove_group(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, true);
    if (!s) return;
    std::string group = req.matches[1];
    auto rows = xoe_->students(group);
    if (rows.empty()) return send_error(res, 404, "no group '" + group + "'");
    auto service = find_service(rows.front().service, res);
    if (!service) return;
    if (!allowed(s->role, service->role, "remove-students"))
      return send_error(res, 403, fmt::format("a {} may not remove students", role_name(s->role)));
    start_task(
        *s, "remove-students", service->name,
        [this, group](std::int64_t id) {
          tasks_.note(id, fmt::format("remove group {}", group));
          auto dropped = xoe_->remove_students(group);
          for (const auto& d : dropped) tasks_.note(id, "dropped " + d);
          return fmt::format("group {}: {} databases dropped", group, dropped.size());
        },
        res);
  }

  void service_detail(const httplib::Request& req, httplib::Response& res) {
    auto s = guard(req, res, false);
    if (!s) return;
    std::string name = req.matches[1];
    if (!find_service(name, res)) return;
    auto d = xoe_->detail(name);
    json backups = json::array();
    for (const auto& b : xoe_->backups(name))
      backups.push_back(json{{"archive", b.archive.filename().string()},
                             {"time", fmt::format("{:%FT%TZ}", b.time)},
                             {"bytes", optional_json(b.bytes)}});
    json history = json::array();
    for (const auto& t : tasks_.list(name, 50)) history.push_back(task_json(t));
    json actions = json::array();
    for (const char* a : {"start", "stop", "restart", "backup", "verify"})
      if (allowed(s->role, d.view.role, a)) actions.push_back(a);
    if (allowed(s->role, "test", "restore-new")) actions.push_back("restore");
    send_json(res, 200,
              json{{"service",
                    json{{"name", d.view.name},       {"software", d.view.software}, {"version", d.view.version},
                         {"role", d.view.role},       {"state", d.view.state},       {"seconds", d.view.seconds},
                         {"backend", d.backend},      {"database", d.database},      {"port", d.port},
                         {"url", d.url},              {"user", d.user},              {"supervisor", d.supervisor},
                         {"modules", d.modules}}},
                   {"log", xoe_->log(name, 40)},
                   {"backups", backups},
                   {"tasks", history},
                   {"actions", actions}});
  }

  ServeOptions options_;
  bool tls_;
  Users users_;
  Sessions sessions_;
  RateLimit limit_;
  Tasks tasks_;
  std::unique_ptr<XoePort> xoe_;
  // The credentials of finished disseminations, by task, until read once.
  struct Handed {
    std::string user;
    json credentials;  // [{login, password, database, url}]
    std::chrono::steady_clock::time_point made;
  };
  std::mutex credentials_mutex_;
  std::map<std::int64_t, Handed> credentials_;
};

}  // namespace

void serve(const core::Paths& paths, const ServeOptions& options) {
  if (options.tls_cert.has_value() != options.tls_key.has_value())
    fail(ErrorKind::invalid, "--tls-cert and --tls-key go together");
  std::unique_ptr<httplib::Server> server;
  if (options.tls_cert) {
    for (const auto& f : {*options.tls_cert, *options.tls_key}) {
      std::error_code ec;
      if (!fs::is_regular_file(f, ec)) fail(ErrorKind::io, "cannot read {}", f.string());
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert->c_str(), options.tls_key->c_str());
    if (!ssl->is_valid()) fail(ErrorKind::invalid, "the TLS certificate or key is not valid (PEM files, matching)");
    server = std::move(ssl);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  Panel panel(paths, options);
  panel.routes(*server);
  if (!server->bind_to_port(options.address, options.port))
    fail(ErrorKind::conflict, "cannot listen on {}:{} (taken, or not an address of this host)", options.address,
         options.port);
  // SIGINT and SIGTERM stop the server: waited for by a thread of its own
  // (blocked here, before the pool's threads start, so they inherit the mask).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != 0) server->stop();
  });
  core::logger("goe")->info("serving on {}://{}:{}", options.tls_cert ? "https" : "http", options.address, options.port);
  core::cli::Frame::out(fmt::format("goe: serving on {}://{}:{}\n", options.tls_cert ? "https" : "http",
                                    options.address, options.port));
  std::cout.flush();
  bool ok = server->listen_after_bind();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  if (!ok) fail(ErrorKind::failed, "the server stopped on an error");
}

}  // namespace goe
