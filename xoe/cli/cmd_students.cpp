// SPDX-License-Identifier: GPL-3.0-or-later
// xoe students disseminate SERVICE --group G (--students N | --list FILE) | copy SERVICE --group G
//            | remove --group G | list [--group G]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/students.hpp"

namespace xoe::cli {

namespace {

// The credentials, shown once: the passwords are kept nowhere else than in the teacher's files.
int render_result(core::cli::Frame& frame, const StudentsResult& r) {
  if (frame.globals().json) {
    print_answer(r);
  } else {
    core::Table t{{"LOGIN", "KIND", "DATABASE", "URL", "PASSWORD"}, {}};
    for (const auto& d : r.databases) t.rows.push_back({d.login, d.kind, d.database, d.url, d.password});
    std::string files;
    for (const auto& f : r.credentials) files += "\n  " + f.string();
    core::cli::Frame::out(core::render_table(t, core::stdout_colour()) +
                          fmt::format("{} databases for group {} in {:.1f} s; credentials (root only):{}\n",
                                      r.databases.size(), r.group, r.seconds, files));
  }
  return core::exit_code::ok;
}

struct DisseminateOptions {
  DisseminateRequest request;
  std::optional<int> students;
  std::optional<std::string> list;
};

}  // namespace

void add_students(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "students",
                                "Students' own copies of a database, each with their own login");

  auto d = std::make_shared<DisseminateOptions>();
  CLI::App* dis = frame.command(
      *group, "disseminate",
      "Give each student of a new group a copy of SERVICE's database with their own login; prints the passwords "
      "once (PostgreSQL: SERVICE is stopped for the copies)",
      core::cli::Effect::mutates, [&frame, d] {
        DisseminateRequest rq = d->request;
        rq.students = d->students;
        if (d->list) rq.list = *d->list;
        return render_result(frame, disseminate(settings(frame), rq));
      });
  dis->add_option("service", d->request.service, "The service whose database is copied")->required();
  dis->add_option("--group", d->request.group, "The new group (a label)")->required();
  auto* n = dis->add_option("--students", d->students, "N students: student01..studentNN (1 to 200)");
  dis->add_option("--list", d->list, "A file with one login per line (blank lines and # comments skipped)")
      ->excludes(n);

  auto c = std::make_shared<StudentsCopyRequest>();
  CLI::App* copy = frame.command(
      *group, "copy",
      "Give each student of a group a copy of the production's database and of its test's (NAME-test), with a "
      "new password each; prints the passwords once (PostgreSQL: both are stopped for the copies)",
      core::cli::Effect::mutates,
      [&frame, c] { return render_result(frame, copy_for_students(settings(frame), *c)); });
  copy->add_option("service", c->service, "The production service (NAME-production)")->required();
  copy->add_option("--group", c->group, "An existing group")->required();

  auto rg = std::make_shared<std::string>();
  CLI::App* remove = frame.command(
      *group, "remove", "Drop every database of a group, its credentials files and its rows (or roll back its "
                        "unfinished disseminate or copy)",
      core::cli::Effect::mutates, [&frame, rg] {
        StudentsRemoved r = remove_students(settings(frame), *rg);
        if (frame.globals().json)
          print_answer(r);
        else
          core::cli::Frame::out(fmt::format("group {} removed: {} databases dropped{}\n", r.group, r.databases.size(),
                                            r.rolled_back ? ", an unfinished run rolled back" : ""));
        return core::exit_code::ok;
      });
  remove->add_option("--group", *rg, "The group")->required();

  auto lg = std::make_shared<std::optional<std::string>>();
  CLI::App* list = frame.command(*group, "list", "The students' databases (no password)", core::cli::Effect::reads,
                                 [&frame, lg] {
    auto all = list_students(settings(frame), *lg);
    if (frame.globals().json) {
      print_answer(all);
    } else {
      core::Table t{{"GROUP", "LOGIN", "KIND", "SERVICE", "DATABASE", "URL", "STATE"}, {}};
      for (const auto& s : all) t.rows.push_back({s.group, s.login, s.kind, s.service, s.database, s.url, s.state});
      core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
    }
    return core::exit_code::ok;
  });
  list->add_option("--group", *lg, "Only this group");
}

}  // namespace xoe::cli
