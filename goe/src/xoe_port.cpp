// SPDX-License-Identifier: GPL-3.0-or-later
// XoePort over xoe::Client (local_client, in process): the one file that
// knows how goe reaches xoe (xoe_port.hpp). Every call is one of the
// Client's operations; nothing here calls another function of libxoe nor
// reads a file of xoe's, but for making the Client's settings as xoe does.
#include "xoe_port.hpp"

#include <fmt/chrono.h>

#include <mutex>

#include "core/config.hpp"
#include "xoe/client.hpp"
#include "xoe/settings.hpp"
#include "xoe/tool.hpp"

namespace goe {

std::optional<Action> parse_action(std::string_view text) {
  if (text == "start") return Action::start;
  if (text == "stop") return Action::stop;
  if (text == "restart") return Action::restart;
  return std::nullopt;
}

const char* action_name(Action action) {
  switch (action) {
    case Action::start: return "start";
    case Action::stop: return "stop";
    case Action::restart: return "restart";
  }
  return "?";
}

namespace {

ServiceView from_info(const xoe::ServiceInfo& s) {
  ServiceView v;
  v.name = s.name;
  v.software = s.software;
  v.version = s.version;
  v.role = s.role;
  v.state = s.state;
  v.seconds = s.seconds;
  return v;
}

ServiceView from_summary(const xoe::ServiceSummary& s) {
  ServiceView v;
  v.name = s.name;
  v.software = s.software;
  v.version = s.version;
  v.role = s.role;
  v.state = s.state;
  return v;
}

StudentView from_student(const xoe::StudentDatabase& d) {
  return {d.group, d.login, d.kind, d.service, d.database, d.url, d.state, d.created, d.password};
}

class LocalXoe final : public XoePort {
 public:
  explicit LocalXoe(const core::Paths& paths) : paths_(paths) {}

  std::vector<ServiceView> list() override {
    std::vector<ServiceView> out;
    for (const auto& s : client().list()) out.push_back(from_summary(s));
    return out;
  }

  std::vector<ServiceView> monitor(const std::optional<std::string>& service) override {
    xoe::Client& c = client();
    xoe::MonitorRequest request;
    if (service) request.services.push_back(*service);
    request.probe_timeout = std::chrono::milliseconds(2000);
    auto measured = c.monitor(request);
    std::vector<ServiceView> out;
    for (const auto& h : measured.services) {
      ServiceView v;
      // The time in its state is `service show`'s; a service removed
      // between the two calls keeps monitor's view.
      try {
        v = from_info(c.show({h.name}));
      } catch (const core::Error& e) {
        if (e.kind() != core::ErrorKind::not_found) throw;
        v = from_summary({h.name, h.software, h.version, h.role, h.state, ""});
      }
      v.up = h.up;
      v.memory_bytes = h.memory_bytes;
      v.db_bytes = h.db_bytes;
      v.users = h.users;
      v.last_login = h.last_login;
      v.last_backup = h.last_backup;
      v.backup_age_seconds = h.backup_age_seconds;
      out.push_back(std::move(v));
    }
    return out;
  }

  ServiceView act(const std::string& service, Action action) override {
    xoe::Client& c = client();
    switch (action) {
      case Action::start: return from_info(c.start({service}));
      case Action::stop: return from_info(c.stop({service}));
      case Action::restart: return from_info(c.restart({service}));
    }
    return from_info(c.show({service}));
  }

  BackupView backup_now(const std::string& service) override {
    auto r = client().backup({.service = service});
    for (const auto& b : backups(service))
      if (b.archive == r.archive) return b;
    return {r.archive, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()), r.bytes};
  }

  std::vector<BackupView> backups(const std::string& service) override {
    std::vector<BackupView> out;
    for (const auto& b : client().backup_list({service}))
      if (b.service == service) out.push_back({b.archive, b.time, b.bytes});
    return out;
  }

  ServiceDetail detail(const std::string& service) override {
    auto s = client().show({service});
    return {from_info(s), s.backend, s.database, s.port, s.url, s.user, s.supervisor, s.modules, s.admin_login};
  }

  std::vector<std::string> log(const std::string& service, std::size_t count) override {
    std::vector<std::string> out;
    for (const auto& l : client().logs({service, count}).lines) out.push_back(l.time ? *l.time + " " + l.text : l.text);
    return out;
  }

  VerifyView verify(const std::filesystem::path& archive) override {
    auto r = client().verify({archive});
    return {r.ok, r.error, r.seconds};
  }

  RestoreView restore_as_new(const std::string& service, const std::filesystem::path& archive,
                             const std::string& as) override {
    auto r = client().restore({.service = service, .archive = archive, .as = as, .role = std::nullopt, .origin = {}});
    return {r.service, r.role, r.url, r.port, r.database, r.neutralised, r.admin_password.value_or(""), r.seconds};
  }

  RestoreView restore_into(const std::string& service, const std::filesystem::path& archive) override {
    auto r = client().restore(
        {.service = service, .archive = archive, .as = std::nullopt, .role = std::nullopt, .origin = {}});
    return {r.service, r.role, r.url, r.port, r.database, r.neutralised, "", r.seconds};
  }

  RefreshView refresh(const std::string& training, const std::string& production) override {
    auto r = client().training_refresh({training, production});
    return {r.service, r.production, r.archive, r.restore.seconds};
  }

  StudentsView disseminate(const std::string& service, const std::string& group, int students) override {
    auto r = client().students_disseminate({.service = service, .group = group, .students = students, .list = {}});
    StudentsView out{r.group, r.service, {}, r.seconds};
    for (const auto& d : r.databases) out.databases.push_back(from_student(d));
    return out;
  }

  std::vector<StudentView> students(const std::optional<std::string>& group) override {
    std::vector<StudentView> out;
    for (const auto& d : client().students_list({group})) out.push_back(from_student(d));
    return out;
  }

  std::vector<std::string> remove_students(const std::string& group) override {
    return client().students_remove({group}).databases;
  }

 private:
  // The client, on xoe's settings read once (as one xoe command would).
  xoe::Client& client() {
    std::call_once(once_, [this] {
      auto config = core::Config::load("xoe", xoe::config_schema(), paths_.config_file("xoe"), {},
                                       core::environment());
      client_ = xoe::local_client(xoe::make_settings(paths_, config));
    });
    return *client_;
  }

  core::Paths paths_;
  std::once_flag once_;
  std::unique_ptr<xoe::Client> client_;
};

}  // namespace

std::unique_ptr<XoePort> local_xoe(const core::Paths& paths) { return std::make_unique<LocalXoe>(paths); }

}  // namespace goe
