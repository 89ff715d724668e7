// SPDX-License-Identifier: GPL-3.0-or-later
// xoe supervisor start|stop|status|migrate: the runsvdir of this root, or systemd.
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/service.hpp"
#include "xoe/supervisor.hpp"

namespace xoe::cli {

namespace {

std::string entries_text(const std::vector<std::string>& names) {
  std::string out = std::to_string(names.size());
  if (!names.empty()) out += ": ";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

std::string boot_text(const SupervisorStatus& st) {
  if (st.boot) return "started by " + st.boot->string();
  if (st.runit.empty()) return "not needed (no runit entry)";
  return "nothing starts it: run `xoe supervisor start` at boot";
}

int print(core::cli::Frame& frame, const SupervisorStatus& st) {
  if (frame.globals().json) {
    print_answer(st);
  } else {
    bool runit = st.kind == SupervisorKind::runit;
    core::cli::Frame::out(core::render_fields({{"supervisor", runit ? "runit (runsvdir)" : "systemd"},
                                               {"running", st.running ? fmt::format("yes (pid {})", *st.pid) : "no"},
                                               {runit ? "services folder" : "unit folder", st.scan_dir.string()},
                                               {"runsvdir at boot", boot_text(st)},
                                               {"runit entries", entries_text(st.runit)},
                                               {"systemd units", entries_text(st.systemd)}}));
  }
  return core::exit_code::ok;
}

}  // namespace

void add_supervisor(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "supervisor", "The supervisor (runit or systemd) of this root's services");
  frame.command(*group, "start", "Start runsvdir for this root unless it runs (systemd: start its enabled services)",
                core::cli::Effect::mutates, [&frame] {
                  auto s = settings(frame);
                  supervisor_start(s);
                  return print(frame, supervisor_status(s));
                });
  frame.command(*group, "stop", "Stop every service and the supervisor of this root", core::cli::Effect::mutates,
                [&frame] {
                  auto s = settings(frame);
                  supervisor_stop(s);
                  return print(frame, supervisor_status(s));
                });
  frame.command(*group, "status", "Whether the supervisor of this root runs, and its entries under each supervisor",
                core::cli::Effect::reads, [&frame] { return print(frame, supervisor_status(settings(frame))); });
  frame.command(*group, "migrate",
                "Move every service written for the other supervisor (after a change of supervisor.kind) to this "
                "root's, restarting those that ran",
                core::cli::Effect::mutates, [&frame] {
                  auto s = settings(frame);
                  auto moved = migrate_supervisor(s);
                  if (frame.globals().json) {
                    print_answer(MigrateResult{moved, supervisor_status(s)});
                  } else {
                    std::string text;
                    for (const auto& m : moved)
                      text += fmt::format("{}: {} -> {}{}\n", m.name, m.from, m.to, m.running ? ", running" : "");
                    core::cli::Frame::out(text.empty() ? "nothing to move\n" : text);
                  }
                  return core::exit_code::ok;
                });
}

}  // namespace xoe::cli
