// SPDX-License-Identifier: GPL-3.0-or-later
// xoe nightly
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/nightly.hpp"

namespace xoe::cli {

void add_nightly(core::cli::Frame& frame) {
  frame.command(
      frame.app(), "nightly",
      "The nightly job (from cron): back up every service but the training ones, then refresh each training from "
      "its production's backup",
      core::cli::Effect::mutates, [&frame] {
        NightlyResult r = run_nightly(settings(frame));
        if (frame.globals().json) {
          print_answer(r);
        } else {
          std::string text;
          for (const auto& st : r.steps)
            text += fmt::format("{} {} {}: {}\n", st.action, st.service, st.from ? "from " + *st.from : std::string(),
                                st.ok ? (st.archive ? st.archive->string() : std::string("ok")) : "FAILED: " + st.error);
          for (const auto& sk : r.skipped) text += "skipped " + sk + "\n";
          text += fmt::format("nightly: {} in {:.1f} s\n", r.ok() ? "done" : "FAILED", r.seconds);
          core::cli::Frame::out(text);
        }
        // A failed step: exit 5, the answer printed all the same (as monitor does).
        return r.ok() ? core::exit_code::ok : core::exit_code::external;
      });
}

}  // namespace xoe::cli
