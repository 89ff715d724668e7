// SPDX-License-Identifier: GPL-3.0-or-later
#include "commands.hpp"

#include "cloe/doctor.hpp"
#include "core/output.hpp"

namespace cloe::cli {

void add_doctor(core::cli::Frame& frame) {
  frame.command(frame.app(), "doctor", "Check that this host can run the suite, and say how to fix what is missing",
                core::cli::Effect::reads, [&frame] {
                  const auto& cfg = frame.config();
                  DoctorReport report = doctor({cfg.get_string("libvirt.uri"), cfg.get_string("network.bridge")});
                  if (frame.globals().json) {
                    nlohmann::json checks = nlohmann::json::array();
                    for (const auto& c : report.checks)
                      checks.push_back({{"name", c.name}, {"status", status_name(c.status)}, {"detail", c.detail},
                                        {"fix", c.fix}});
                    core::cli::Frame::out(
                        nlohmann::json{{"version", 1}, {"ok", report.ok()}, {"checks", checks}}.dump(2) + "\n");
                  } else {
                    auto colour = core::stdout_colour();
                    core::Table table{{"CHECK", "STATUS", "FOUND", "FIX"}, {}};
                    for (const auto& c : report.checks)
                      table.rows.push_back({c.name, core::paint_status(status_name(c.status), colour), c.detail, c.fix});
                    core::cli::Frame::out(core::render_table(table, colour));
                    core::cli::Frame::out(report.ok() ? "This host can run the suite.\n"
                                                      : "This host is not ready: fix the failed checks above.\n");
                  }
                  return report.ok() ? core::exit_code::ok : core::exit_code::precondition;
                });
}

}  // namespace cloe::cli
