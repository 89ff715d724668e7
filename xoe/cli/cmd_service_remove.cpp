// SPDX-License-Identifier: GPL-3.0-or-later
// xoe service remove NAME [--archive DIR]
#include "commands.hpp"
#include "xoe/retire.hpp"

namespace xoe::cli {

namespace {

// Its archives stay: say so, and how they go.
std::string kept_note(const std::string& name, std::size_t kept) {
  if (kept == 0) return {};
  return fmt::format("{} archive(s) of {} kept (xoe backup list {}; xoe backup prune {} --all removes them)\n", kept,
                     name, name, name);
}

}  // namespace

void add_service_remove(core::cli::Frame& frame, CLI::App& service) {
  struct Options {
    std::string name;
    std::optional<std::string> archive;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = frame.command(
      service, "remove",
      "Remove a service: supervisor entry, processes, database, data, config, log, user and port "
      "(or roll back its unfinished creation); --archive keeps a final backup",
      core::cli::Effect::mutates, [&frame, o] {
        if (o->archive) {
          Retired r = remove_with_archive(settings(frame), o->name, *o->archive);
          if (frame.globals().json)
            print_answer(r);
          else
            core::cli::Frame::out(r.name + " removed; final backup " + r.archive.string() + "\n" +
                                  kept_note(r.name, r.backups_kept));
          return core::exit_code::ok;
        }
        Removed r = remove_service(settings(frame), o->name);
        if (frame.globals().json)
          print_answer(r);
        else
          core::cli::Frame::out(
              (r.rolled_back ? r.name + ": unfinished creation rolled back\n" : r.name + " removed\n") +
              kept_note(r.name, r.backups_kept));
        return core::exit_code::ok;
      });
  cmd->add_option("name", o->name, "Service name")->required();
  cmd->add_option("--archive", o->archive,
                  "Back the service up first and keep the archive and its .sha256 in this folder (it must exist)");
}

}  // namespace xoe::cli
