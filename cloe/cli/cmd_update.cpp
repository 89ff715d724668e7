// SPDX-License-Identifier: GPL-3.0-or-later
// cloe update --repository DIR [--dry-run]
#include "cloe/update.hpp"
#include "commands.hpp"
#include "core/output.hpp"

namespace cloe::cli {

void add_update(core::cli::Frame& frame, const ClusterOption& cluster) {
  struct Options {
    std::string repository;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* update = frame.command(
      frame.app(), "update",
      "Upgrade the suite's oe-xoe in every running vserver of the cluster, node by node, from a flat repository; "
      "stops at the first failure",
      core::cli::Effect::mutates, [&frame, o, cluster] {
        Settings s = settings(frame);
        UpdateRequest rq{cluster_name(s, *cluster), o->repository, o->dry_run};
        UpdateResult r = update_cluster(s, rq);
        if (frame.globals().json) {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& e : r.vservers)
            arr.push_back({{"node", e.node},
                           {"vserver", e.vserver},
                           {"before", e.before},
                           {"after", e.after},
                           {"outcome", e.outcome},
                           {"detail", e.detail}});
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"oe_xoe", r.version},
                                               {"dry_run", o->dry_run},
                                               {"failed", r.failed()},
                                               {"vservers", arr}}
                                    .dump(2) +
                                "\n");
        } else {
          core::Table table{{"NODE", "VSERVER", "BEFORE", "AFTER", "OUTCOME", "DETAIL"}, {}};
          for (const auto& e : r.vservers)
            table.rows.push_back({e.node, e.vserver, e.before.empty() ? "-" : e.before,
                                  e.after.empty() ? "-" : e.after, e.outcome, e.detail});
          core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
        }
        if (r.failed()) {
          for (const auto& e : r.vservers)
            if (e.outcome == "failed")
              throw core::Error(core::ErrorKind::failed, fmt::format("update stopped at vserver {}: {}", e.vserver,
                                                                     e.detail));
        }
        return core::exit_code::ok;
      });
  update->add_option("--repository", o->repository, "A flat repository of the suite's packages (oe-apt-repo)")
      ->required();
  update->add_flag("--dry-run", o->dry_run, "Only read what each vserver has and say what would change");
}

}  // namespace cloe::cli
