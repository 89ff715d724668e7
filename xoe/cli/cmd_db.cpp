// SPDX-License-Identifier: GPL-3.0-or-later
// xoe db list | db copy SOURCE TARGET
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/copy.hpp"

namespace xoe::cli {

void add_db(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "db", "The services' databases: list, copy (neutralised)");

  frame.command(*group, "list", "The database of every service and its size", core::cli::Effect::reads, [&frame] {
    auto all = list_databases(settings(frame));
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& d : all)
        list.push_back({{"service", d.service}, {"database", d.database}, {"backend", d.backend}, {"role", d.role},
                        {"bytes", d.bytes}});
      core::cli::Frame::out(nlohmann::json{{"version", json_version}, {"databases", list}}.dump(2) + "\n");
    } else {
      core::Table t{{"SERVICE", "DATABASE", "BACKEND", "ROLE", "BYTES"}, {}};
      for (const auto& d : all) t.rows.push_back({d.service, d.database, d.backend, d.role, std::to_string(d.bytes)});
      core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
    }
    return core::exit_code::ok;
  });

  auto rq = std::make_shared<CopyRequest>();
  CLI::App* copy = frame.command(
      *group, "copy",
      "Replace TARGET's database and data with a copy of SOURCE's, neutralised unless TARGET is production "
      "(PostgreSQL: SOURCE is stopped for the copy)",
      core::cli::Effect::mutates, [&frame, rq] {
        CopyResult r = copy_database(settings(frame), *rq);
        if (frame.globals().json) {
          core::cli::Frame::out(nlohmann::json{{"version", json_version},
                                               {"copy", {{"source", r.source},
                                                         {"target", r.target},
                                                         {"neutralised", r.neutralised},
                                                         {"source_stopped", r.source_stopped},
                                                         {"seconds", r.seconds},
                                                         {"resumed", r.resumed}}}}
                                    .dump(2) + "\n");
        } else {
          core::cli::Frame::out(fmt::format("{} copied into {} in {:.1f} s{}\n", r.source, r.target, r.seconds,
                                            r.neutralised ? ", neutralised" : ""));
        }
        return core::exit_code::ok;
      });
  copy->add_option("source", rq->source, "Service copied from")->required();
  copy->add_option("target", rq->target, "Service whose database is replaced")->required();
}

}  // namespace xoe::cli
