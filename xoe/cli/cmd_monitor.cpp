// SPDX-License-Identifier: GPL-3.0-or-later
// xoe monitor [SERVICE...] [--json | --prometheus]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/monitor.hpp"

namespace xoe::cli {

namespace {

struct MonitorOptions {
  std::vector<std::string> services;
  bool prometheus = false;
};

std::string bytes_text(const std::optional<std::uint64_t>& b) {
  if (!b) return "-";
  if (*b >= (std::uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(*b) / (1 << 30));
  if (*b >= (std::uint64_t{1} << 20)) return fmt::format("{:.0f} MiB", static_cast<double>(*b) / (1 << 20));
  return fmt::format("{:.0f} KiB", static_cast<double>(*b) / 1024);
}

// "3 h ago" for people.
std::string age_text(const std::optional<std::chrono::sys_seconds>& t, std::chrono::sys_seconds now) {
  if (!t) return "-";
  auto s = (now - *t).count();
  if (s < 120) return fmt::format("{} s ago", s);
  if (s < 7200) return fmt::format("{} min ago", s / 60);
  if (s < 2 * 86400) return fmt::format("{} h ago", s / 3600);
  return fmt::format("{} d ago", s / 86400);
}

int run_monitor(core::cli::Frame& frame, const MonitorOptions& o) {
  if (o.prometheus && frame.globals().json)
    throw core::Error(core::ErrorKind::invalid, "monitor: --json and --prometheus exclude each other");
  MonitorResult r = monitor_services(settings(frame), MonitorRequest{o.services});
  if (o.prometheus) {
    core::cli::Frame::out(prometheus_text(r));
  } else if (frame.globals().json) {
    print_answer(r);
  } else {
    auto colour = core::stdout_colour();
    core::Table t{{"NAME", "STATE", "UP", "HTTP", "MEMORY", "DATABASE", "LAST BACKUP", "USERS", "LAST LOGIN"}, {}};
    for (const auto& h : r.services)
      t.rows.push_back({h.name, core::paint_status(h.state, colour), h.up ? "yes" : core::paint_status("no", colour),
                        h.http_ms ? fmt::format("{:.0f} ms", *h.http_ms) : "-", bytes_text(h.memory_bytes),
                        bytes_text(h.db_bytes), age_text(h.last_backup, r.time),
                        h.users ? std::to_string(*h.users) : "-", age_text(h.last_login, r.time)});
    core::cli::Frame::out(core::render_table(t, colour));
  }
  // Documented: 1 when a service does not answer its probe (docs/xoe.md).
  return r.all_up() ? core::exit_code::ok : core::exit_code::failed;
}

}  // namespace

void add_monitor(core::cli::Frame& frame) {
  auto o = std::make_shared<MonitorOptions>();
  CLI::App* cmd = frame.command(
      frame.app(), "monitor",
      "Health and usage of services: state, probe, memory, database size, last backup, users, last login "
      "(exit 1 when one is down)",
      core::cli::Effect::reads, [&frame, o] { return run_monitor(frame, *o); });
  cmd->add_option("service", o->services, "Services (default: every service)");
  cmd->add_flag("--prometheus", o->prometheus, "The Prometheus text exposition format instead of a table");
}

}  // namespace xoe::cli
