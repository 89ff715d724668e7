// SPDX-License-Identifier: GPL-3.0-or-later
// xoe training refresh SERVICE [--from PRODUCTION]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/copy.hpp"

namespace xoe::cli {

void add_training(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "training", "Training services");
  auto rq = std::make_shared<RefreshRequest>();
  CLI::App* refresh = frame.command(
      *group, "refresh",
      "Replace a training service's database with its production's last backup, neutralised (nightly, from cron)",
      core::cli::Effect::mutates, [&frame, rq] {
        RefreshResult r = training_refresh(settings(frame), *rq);
        if (frame.globals().json) {
          print_answer(r);
        } else {
          core::cli::Frame::out(fmt::format("{} refreshed from {} ({}) in {:.1f} s, neutralised\n", r.service,
                                            r.production, r.archive.filename().string(), r.restore.seconds));
        }
        return core::exit_code::ok;
      });
  refresh->add_option("service", rq->service, "The training service")->required();
  refresh->add_option("--from", rq->from, "Its production service (default: NAME-training -> NAME-production)");
}

}  // namespace xoe::cli
