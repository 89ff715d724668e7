// SPDX-License-Identifier: GPL-3.0-or-later
// cloe command TARGET [--user U] [--parallel N] [--order name|node] [--timeout S] [--resume JOB] -- CMD ARG...
// cloe command --seed TARGET USER "STRING" (the seed's form: STRING through /bin/sh -c inside)
#include "cloe/command.hpp"
#include "commands.hpp"
#include "core/error.hpp"
#include "core/output.hpp"
#include "core/validate.hpp"

namespace cloe::cli {
namespace {

// The first line of its output (stdout, else stderr), for the table.
std::string first_line(const CommandResult& r) {
  const std::string& text = r.out.empty() ? r.err : r.out;
  return core::escape_for_display(text.substr(0, text.find('\n')), 60);
}

}  // namespace

void add_command(core::cli::Frame& frame, const ClusterOption& cluster) {
  struct Options {
    std::string target, user, order = "name";
    std::vector<std::string> words;
    int parallel = 1;
    std::int64_t timeout = 600, resume = 0;
    bool seed = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      frame.app(), "command",
      "Run a command inside every vserver of a group (or in one vserver), up to --parallel at once, as a journaled "
      "job (--resume JOB finishes a killed one)",
      core::cli::Effect::mutates, [&frame, o, cluster] {
        Settings s = settings(frame);
        CommandRequest rq;
        rq.cluster = cluster_name(s, *cluster);
        rq.target = o->target;
        if (o->seed) {
          if (o->words.size() != 2 || !o->user.empty())
            core::fail(core::ErrorKind::invalid, "--seed: TARGET USER \"COMMAND\" (the seed's form), no --user");
          rq.user = o->words[0];
          check_command_user(*rq.user);
          rq.argv = {"/bin/sh", "-c", o->words[1]};
        } else {
          rq.argv = o->words;
          if (!o->user.empty()) rq.user = o->user;
        }
        if (o->order == "node")
          rq.order = CommandOrder::node;
        else if (o->order != "name")
          core::fail(core::ErrorKind::invalid, "--order '{}': name or node", core::escape_for_display(o->order));
        rq.parallel = o->parallel;
        rq.timeout = o->timeout;
        if (o->resume != 0) rq.resume = o->resume;
        CommandReport r = command_run(s, rq);
        if (frame.globals().json) {
          nlohmann::json arr = nlohmann::json::array();
          for (const auto& x : r.results)
            arr.push_back({{"vserver", x.vserver},
                           {"node", x.node},
                           {"ran", x.ran},
                           {"exit", x.exit_code},
                           {"timed_out", x.timed_out},
                           {"seconds", x.seconds},
                           {"stdout", x.out},
                           {"stderr", x.err},
                           {"resumed", x.resumed},
                           {"ok", x.ok()}});
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"job", r.job},
                                               {"target", r.target},
                                               {"argv", r.argv},
                                               {"ok", r.all_ok()},
                                               {"results", arr}}
                                    .dump(2) +
                                "\n");
        } else {
          core::Table table{{"VSERVER", "NODE", "EXIT", "SECONDS", "OUTPUT"}, {}};
          std::size_t failed = 0;
          for (const auto& x : r.results) {
            if (!x.ok()) ++failed;
            std::string exit = !x.ran ? "not run" : x.timed_out ? "timeout" : std::to_string(x.exit_code);
            table.rows.push_back({x.vserver, x.node.empty() ? "-" : x.node, exit,
                                  fmt::format("{:.1f}{}", x.seconds, x.resumed ? " (earlier)" : ""), first_line(x)});
          }
          core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
          core::cli::Frame::out(
              fmt::format("job {}: {} of {} vservers succeeded\n", r.job, r.results.size() - failed, r.results.size()));
        }
        return r.all_ok() ? core::exit_code::ok : core::exit_code::failed;
      });
  cmd->add_option("target", o->target, "A vserver or a group of the cluster (vserver:NAME, group:NAME when both)")
      ->required();
  cmd->add_option("command", o->words, "After --: the command and its arguments (with --seed: USER \"COMMAND\")");
  cmd->add_option("--user", o->user, "Run it as this user inside (default: its root)");
  cmd->add_option("--parallel", o->parallel, "Vservers at once, 1..64")->default_str("1");
  cmd->add_option("--order", o->order, "The order they start in: name or node")->default_str("name");
  cmd->add_option("--timeout", o->timeout, "Seconds per vserver before it is killed, 1..86400")->default_str("600");
  cmd->add_option("--resume", o->resume, "Finish command job JOB: run only the vservers without a result");
  cmd->add_flag("--seed", o->seed, "The seed's form TARGET USER \"COMMAND\": COMMAND through /bin/sh -c inside");
}

}  // namespace cloe::cli
