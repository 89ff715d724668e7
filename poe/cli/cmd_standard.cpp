// SPDX-License-Identifier: GPL-3.0-or-later
// poe standard import|list|show|remove
#include <memory>

#include "commands.hpp"
#include "core/output.hpp"

namespace poe::cli {
namespace {

nlohmann::json to_json(const StandardInfo& s) {
  return {{"ref", s.ref},       {"commit", s.commit_id}, {"tree", s.tree_id}, {"source", s.source},
          {"imported_at", s.imported_at}, {"files", s.files}, {"bytes", s.bytes}};
}

void render_one(core::cli::Frame& frame, const StandardInfo& s) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"standard", to_json(s)}}.dump(2) + "\n");
    return;
  }
  core::cli::Frame::out(core::render_fields({{"standard", s.ref},
                                             {"tree", s.tree_id},
                                             {"commit", s.commit_id},
                                             {"files", std::to_string(s.files)},
                                             {"bytes", std::to_string(s.bytes)},
                                             {"imported", s.imported_at},
                                             {"source", s.source}}));
}

}  // namespace

void add_standard(core::cli::Frame& frame) {
  CLI::App* group = frame.group(frame.app(), "standard", "Standard versions of the ERP's code kept in poe's store");

  struct Import {
    std::string ref;
    std::string dir;
  };
  auto import = std::make_shared<Import>();
  CLI::App* cmd = frame.command(*group, "import", "Record a plain folder as the standard SOFTWARE/VERSION (never writes into it)",
                                core::cli::Effect::mutates, [&frame, import] {
                                  Store store = Store::open(store_path(frame), StoreMode::create_if_missing);
                                  render_one(frame, store.import_standard(import->ref, import->dir, tree_options(frame)));
                                  return core::exit_code::ok;
                                });
  cmd->add_option("ref", import->ref, "SOFTWARE/VERSION, e.g. tryton/6.0.29")->required();
  cmd->add_option("dir", import->dir, "The folder holding that version's code")->required();

  frame.command(*group, "list", "List the standard versions", core::cli::Effect::reads, [&frame] {
    std::vector<StandardInfo> all;
    std::error_code ec;
    if (std::filesystem::exists(store_path(frame) / "HEAD", ec))
      all = Store::open(store_path(frame), StoreMode::open_existing).list();
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& s : all) list.push_back(to_json(s));
      core::cli::Frame::out(nlohmann::json{{"version", 1}, {"standards", list}}.dump(2) + "\n");
    } else {
      core::Table table{{"STANDARD", "FILES", "BYTES", "IMPORTED", "TREE"}, {}};
      for (const auto& s : all)
        table.rows.push_back({s.ref, std::to_string(s.files), std::to_string(s.bytes), s.imported_at, s.tree_id.substr(0, 12)});
      core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
    }
    return core::exit_code::ok;
  });

  auto show_ref = std::make_shared<std::string>();
  cmd = frame.command(*group, "show", "Show one standard version", core::cli::Effect::reads, [&frame, show_ref] {
    render_one(frame, Store::open(store_path(frame), StoreMode::open_existing).show(*show_ref));
    return core::exit_code::ok;
  });
  cmd->add_option("ref", *show_ref, "SOFTWARE/VERSION")->required();

  auto remove_ref = std::make_shared<std::string>();
  cmd = frame.command(*group, "remove", "Remove a standard version from the store", core::cli::Effect::mutates,
                      [&frame, remove_ref] {
                        Store::open(store_path(frame), StoreMode::open_existing).remove(*remove_ref);
                        if (frame.globals().json)
                          core::cli::Frame::out(nlohmann::json{{"version", 1}, {"removed", *remove_ref}}.dump(2) + "\n");
                        else
                          core::cli::Frame::out("removed " + *remove_ref + "\n");
                        return core::exit_code::ok;
                      });
  cmd->add_option("ref", *remove_ref, "SOFTWARE/VERSION")->required();
}

}  // namespace poe::cli
