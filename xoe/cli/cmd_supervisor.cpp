// SPDX-License-Identifier: GPL-3.0-or-later
// xoe supervisor start|stop|status: the runsvdir of this root, or systemd.
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/supervisor.hpp"

namespace xoe::cli {

namespace {

int print(core::cli::Frame& frame, const SupervisorStatus& st) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", json_version},
                                         {"supervisor", {{"kind", kind_name(st.kind)},
                                                         {"running", st.running},
                                                         {"pid", st.pid ? nlohmann::json(*st.pid) : nlohmann::json(nullptr)},
                                                         {"scan_dir", st.scan_dir.string()}}}}
                              .dump(2) + "\n");
  } else {
    bool runit = st.kind == SupervisorKind::runit;
    core::cli::Frame::out(core::render_fields({{"supervisor", runit ? "runit (runsvdir)" : "systemd"},
                                               {"running", st.running ? fmt::format("yes (pid {})", *st.pid) : "no"},
                                               {runit ? "services folder" : "unit folder", st.scan_dir.string()}}));
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
  frame.command(*group, "status", "Whether the supervisor of this root runs", core::cli::Effect::reads,
                [&frame] { return print(frame, supervisor_status(settings(frame))); });
}

}  // namespace xoe::cli
