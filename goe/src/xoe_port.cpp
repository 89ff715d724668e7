// SPDX-License-Identifier: GPL-3.0-or-later
// XoePort over libxoe's public headers (xoe/include/xoe): the one file that
// knows how goe reaches xoe (xoe_port.hpp).
#include "xoe_port.hpp"

#include <mutex>

#include "core/config.hpp"
#include "xoe/backup.hpp"
#include "xoe/logs.hpp"
#include "xoe/monitor.hpp"
#include "xoe/service.hpp"
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

class LocalXoe final : public XoePort {
 public:
  explicit LocalXoe(const core::Paths& paths) : paths_(paths) {}

  std::vector<ServiceView> list() override {
    std::vector<ServiceView> out;
    for (const auto& s : xoe::list_services(settings())) out.push_back(from_info(s));
    return out;
  }

  std::vector<ServiceView> monitor(const std::optional<std::string>& service) override {
    const xoe::Settings& s = settings();
    std::vector<xoe::ServiceInfo> infos;
    if (service)
      infos.push_back(xoe::show_service(s, *service));
    else
      infos = xoe::list_services(s);
    xoe::MonitorRequest request;
    if (service) request.services.push_back(*service);
    request.probe_timeout = std::chrono::milliseconds(2000);
    auto measured = xoe::monitor_services(s, request);
    std::vector<ServiceView> out;
    for (const auto& info : infos) {
      ServiceView v = from_info(info);
      for (const auto& h : measured.services) {
        if (h.name != info.name) continue;
        v.up = h.up;
        v.memory_bytes = h.memory_bytes;
        v.db_bytes = h.db_bytes;
        v.users = h.users;
        v.last_login = h.last_login;
        v.last_backup = h.last_backup;
        v.backup_age_seconds = h.backup_age_seconds;
      }
      out.push_back(std::move(v));
    }
    return out;
  }

  ServiceView act(const std::string& service, Action action) override {
    const xoe::Settings& s = settings();
    switch (action) {
      case Action::start: return from_info(xoe::start_service(s, service));
      case Action::stop: return from_info(xoe::stop_service(s, service));
      case Action::restart: return from_info(xoe::restart_service(s, service));
    }
    return from_info(xoe::show_service(s, service));
  }

  BackupView backup_now(const std::string& service) override {
    auto r = xoe::backup_service(settings(), {.service = service});
    for (const auto& b : backups(service))
      if (b.archive == r.archive) return b;
    return {r.archive, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()), r.bytes};
  }

  std::vector<BackupView> backups(const std::string& service) override {
    std::vector<BackupView> out;
    for (const auto& b : xoe::list_backups(settings(), service)) {
      std::error_code ec;
      auto size = std::filesystem::file_size(b.archive, ec);
      out.push_back({b.archive, b.time, ec ? std::nullopt : std::optional<std::uintmax_t>(size)});
    }
    return out;
  }

  ServiceDetail detail(const std::string& service) override {
    auto s = xoe::show_service(settings(), service);
    return {from_info(s), s.backend, s.database, s.port, s.url, s.user, s.supervisor, s.modules};
  }

  std::vector<std::string> log(const std::string& service, std::size_t count) override {
    return xoe::read_service_log(settings(), service, count).lines;
  }

  VerifyView verify(const std::filesystem::path& archive) override {
    auto r = xoe::verify_backup(settings(), archive);
    return {r.ok, r.error, r.seconds};
  }

 private:
  // xoe's settings, read once (as one xoe command would).
  const xoe::Settings& settings() {
    std::call_once(once_, [this] {
      auto config = core::Config::load("xoe", xoe::config_schema(), paths_.config_file("xoe"), {},
                                       core::environment());
      settings_ = xoe::make_settings(paths_, config);
    });
    return *settings_;
  }

  core::Paths paths_;
  std::once_flag once_;
  std::optional<xoe::Settings> settings_;
};

}  // namespace

std::unique_ptr<XoePort> local_xoe(const core::Paths& paths) { return std::make_unique<LocalXoe>(paths); }

}  // namespace goe
