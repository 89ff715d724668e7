// SPDX-License-Identifier: GPL-3.0-or-later
// xoe db list | db copy SOURCE TARGET | db drop SERVICE [--no-backup] | db create SERVICE | db rename SERVICE NEWNAME
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/copy.hpp"
#include "xoe/database.hpp"

namespace xoe::cli {

void add_db(core::cli::Frame& frame) {
  CLI::App* group =
      frame.group(frame.app(), "db", "The services' databases: list, copy (neutralised), drop, create, rename");

  frame.command(*group, "list", "The database of every service and its size", core::cli::Effect::reads, [&frame] {
    auto all = list_databases(settings(frame));
    if (frame.globals().json) {
      print_answer(all);
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
          print_answer(r);
        } else {
          core::cli::Frame::out(fmt::format("{} copied into {} in {:.1f} s{}\n", r.source, r.target, r.seconds,
                                            r.neutralised ? ", neutralised" : ""));
        }
        return core::exit_code::ok;
      });
  copy->add_option("source", rq->source, "Service copied from")->required();
  copy->add_option("target", rq->target, "Service whose database is replaced")->required();

  auto drop = std::make_shared<DropRequest>();
  auto no_backup = std::make_shared<bool>(false);
  CLI::App* drop_cmd = frame.command(
      *group, "drop",
      "Drop a service's database after a backup; the service stays stopped until xoe db create gives it a new one",
      core::cli::Effect::mutates, [&frame, drop, no_backup] {
        drop->backup = !*no_backup;
        DropResult r = drop_database(settings(frame), *drop);
        std::string archive = r.archive ? r.archive->string() : std::string();
        if (frame.globals().json) {
          print_answer(r);
        } else {
          core::cli::Frame::out(fmt::format("database {} of {} dropped{}; the service is stopped\n", r.database,
                                            r.service, r.archive ? " after a backup to " + archive : ""));
        }
        return core::exit_code::ok;
      });
  drop_cmd->add_option("service", drop->service, "The service")->required();
  drop_cmd->add_flag("--no-backup", *no_backup, "Drop without a backup first");

  auto create_name = std::make_shared<std::string>();
  CLI::App* create_cmd = frame.command(
      *group, "create",
      "Give a service whose database was dropped a fresh one from its template (its admin password kept), and start it",
      core::cli::Effect::mutates, [&frame, create_name] {
        DatabaseCreated r = create_database(settings(frame), *create_name);
        if (frame.globals().json) {
          print_answer(r);
        } else {
          core::cli::Frame::out(fmt::format("database {} of {} created from {} in {:.1f} s; the service runs\n",
                                            r.database, r.service, r.template_name, r.seconds));
        }
        return core::exit_code::ok;
      });
  create_cmd->add_option("service", *create_name, "The service")->required();

  auto rename = std::make_shared<RenameRequest>();
  CLI::App* rename_cmd = frame.command(
      *group, "rename", "Rename a service's database (the service is stopped around it and started again)",
      core::cli::Effect::mutates, [&frame, rename] {
        RenameResult r = rename_database(settings(frame), *rename);
        if (frame.globals().json) {
          print_answer(r);
        } else {
          core::cli::Frame::out(fmt::format("database of {} renamed from {} to {}{}\n", r.service, r.old_database,
                                            r.database, r.restarted ? "; restarted" : ""));
        }
        return core::exit_code::ok;
      });
  rename_cmd->add_option("service", rename->service, "The service")->required();
  rename_cmd->add_option("database", rename->database, "The database's new name (a label)")->required();
}

}  // namespace xoe::cli
