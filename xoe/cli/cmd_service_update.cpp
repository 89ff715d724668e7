// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service update NAME [--patches SERIES]
// xoe service upgrade NAME --to-version V [--check]
#include <filesystem>

#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/update.hpp"

namespace xoe::cli {

namespace {

std::string verdicts_table(const std::vector<PatchVerdict>& patches) {
  core::Table t{{"PATCH", "STATUS", "CONFLICTS"}, {}};
  for (const auto& p : patches) {
    std::string where;
    for (const auto& [file, lines] : p.conflicts) where += (where.empty() ? "" : ", ") + file + ":" + lines;
    t.rows.push_back({p.name, core::paint_status(p.status, core::stdout_colour()), where});
  }
  return core::render_table(t, core::stdout_colour());
}

void print_result(core::cli::Frame& frame, const UpdateResult& r) {
  if (frame.globals().json) {
    print_answer(r);
    return;
  }
  if (!r.patches.empty()) core::cli::Frame::out(verdicts_table(r.patches));
  std::string dropped;
  for (const auto& d : r.dropped) dropped += (dropped.empty() ? "" : ", ") + d;
  core::cli::Frame::out(core::render_fields({
      {"service", r.service},
      {"software", r.software + "/" + r.from_version + " -> " + r.to_version},
      {"backup", r.backup.string()},
      {"dropped (upstream)", dropped.empty() ? "-" : dropped},
      {"seconds", fmt::format("{:.1f}", r.seconds)},
  }));
}

}  // namespace

void add_service_update(core::cli::Frame& frame, CLI::App& service) {
  struct UpdateOptions {
    std::string name, patches;
  };
  auto u = std::make_shared<UpdateOptions>();
  CLI::App* update = frame.command(
      service, "update", "Back up, then update the service's modules (with a new series if given); rolls back on failure",
      core::cli::Effect::mutates, [&frame, u] {
        UpdateRequest rq{u->name, std::nullopt, std::nullopt};
        if (!u->patches.empty()) rq.patches = std::filesystem::absolute(u->patches);
        print_result(frame, update_service(settings(frame), rq));
        return core::exit_code::ok;
      });
  update->add_option("name", u->name, "Service name")->required();
  update->add_option("--patches", u->patches, "A new poe series for the service's code");

  struct UpgradeOptions {
    std::string name, to;
    bool check = false;
  };
  auto g = std::make_shared<UpgradeOptions>();
  CLI::App* upgrade = frame.command(
      service, "upgrade",
      "Check the service's series with poe, adapt it, build the new code, migrate a copy of the database, switch",
      core::cli::Effect::mutates, [&frame, g] {
        auto s = settings(frame);
        UpgradeCheck c = check_upgrade(s, g->name, g->to);
        if (g->check || c.blocked()) {
          if (frame.globals().json) {
            print_answer(c);
          } else {
            core::cli::Frame::out(c.patches.empty() ? std::string("no series: nothing to check\n")
                                                    : verdicts_table(c.patches));
          }
        }
        if (c.blocked()) {
          std::string which;
          for (const auto& p : c.patches)
            if (p.status == "conflict" || p.status == "removed") which += (which.empty() ? "" : ", ") + p.name;
          throw core::Error(core::ErrorKind::conflict,
                            fmt::format("upgrade of {} to {} refused: {} (see poe's report)", c.service, c.to, which));
        }
        if (g->check) return core::exit_code::ok;
        print_result(frame, update_service(s, {g->name, g->to, std::nullopt}));
        return core::exit_code::ok;
      });
  upgrade->add_option("name", g->name, "Service name")->required();
  upgrade->add_option("--to-version", g->to, "The version to upgrade to, e.g. 7.0")->required();
  upgrade->add_flag("--check", g->check, "Only print poe's verdict on each patch of the series");
}

}  // namespace xoe::cli
