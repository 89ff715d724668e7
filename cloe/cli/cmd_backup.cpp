// SPDX-License-Identifier: GPL-3.0-or-later
// cloe save VSERVER; cloe backup VSERVER [--to NODE] [--retention N]; cloe backup list [VSERVER];
// cloe backup verify ID; cloe restore VSERVER [--backup ID] [--as NEW] [--node NODE] [--force]
#include <nlohmann/json.hpp>

#include "cloe/backup.hpp"
#include "commands.hpp"
#include "core/error.hpp"
#include "core/output.hpp"

namespace cloe::cli {
namespace {

nlohmann::json backup_json(const Backup& b) {
  nlohmann::json contents = nlohmann::json::parse(b.contents, nullptr, false);
  if (contents.is_discarded()) contents = nlohmann::json::object();
  nlohmann::json j = {{"id", b.id},
                      {"cluster", b.cluster},
                      {"vserver", b.vserver},
                      {"node", b.node},
                      {"location", b.location},
                      {"tool", b.tool},
                      {"snapshot", b.snapshot},
                      {"bytes", b.bytes},
                      {"kind", contents.value("kind", "backup")},
                      {"contents", contents},
                      {"created", b.created}};
  j["verified"] = b.verified ? nlohmann::json(*b.verified) : nlohmann::json(nullptr);
  j["restore_seconds"] = b.restore_seconds ? nlohmann::json(*b.restore_seconds) : nlohmann::json(nullptr);
  return j;
}

void print_backup(core::cli::Frame& frame, const Backup& b, const std::string& what) {
  if (frame.globals().json) {
    core::cli::Frame::out(nlohmann::json{{"version", 1}, {"backup", backup_json(b)}}.dump(2) + "\n");
    return;
  }
  core::cli::Frame::out(fmt::format("{} {} of vserver {}: snapshot {} on node {}, {} added\n", what, b.id, b.vserver,
                                    b.snapshot.substr(0, 8), b.node, b.bytes == 0 ? "0" : format_size(b.bytes)));
}

}  // namespace

void add_backup(core::cli::Frame& frame, const ClusterOption& cluster) {
  // ---------------------------------------------------------------- save
  auto save_name = std::make_shared<std::string>();
  CLI::App* save = frame.command(
      frame.app(), "save",
      "A consistent snapshot of a vserver's writable layer (frozen for the copy) into its own node's repository",
      core::cli::Effect::mutates, [&frame, save_name, cluster] {
        Settings s = settings(frame);
        BackupRequest rq;
        rq.cluster = cluster_name(s, *cluster);
        rq.vserver = *save_name;
        rq.kind = BackupKind::save;
        rq.keep = frame.config().get_int("backup.keep_saves");
        print_backup(frame, backup_create(s, rq), "save");
        return core::exit_code::ok;
      });
  save->add_option("vserver", *save_name, "The vserver")->required();

  // ---------------------------------------------------------------- backup [list|verify]
  struct BackupOptions {
    std::string vserver, to, list_vserver;
    std::int64_t retention = 0, verify_id = 0;
    CLI::Option* retention_option = nullptr;
  };
  auto o = std::make_shared<BackupOptions>();
  // list and verify are words of backup (not commands of their own), so
  // that `cloe backup VSERVER` stays the seed's form: backup's run dispatches.
  auto words = std::make_shared<std::pair<CLI::App*, CLI::App*>>();
  CLI::App* backup = frame.command(
      frame.app(), "backup",
      "Back up a vserver's writable layer (restic, incremental and deduplicated, with retention); list, verify",
      core::cli::Effect::mutates, [&frame, o, cluster, words] {
        CLI::App* list = words->first;
        CLI::App* verify = words->second;
        Settings s = settings(frame);
        std::string c = cluster_name(s, *cluster);
        if (list->parsed()) {
          std::optional<std::string> only;
          if (!o->list_vserver.empty()) only = o->list_vserver;
          auto all = backup_list(s, c, only);
          if (frame.globals().json) {
            nlohmann::json arr = nlohmann::json::array();
            for (const auto& b : all) arr.push_back(backup_json(b));
            core::cli::Frame::out(nlohmann::json{{"version", 1}, {"backups", arr}}.dump(2) + "\n");
            return core::exit_code::ok;
          }
          core::Table table{{"ID", "VSERVER", "KIND", "NODE", "CREATED", "ADDED", "SNAPSHOT", "VERIFIED"}, {}};
          for (const auto& b : all) {
            auto j = backup_json(b);
            table.rows.push_back(
                {std::to_string(b.id), b.vserver, j["kind"].get<std::string>(), b.node, b.created,
                 b.bytes == 0 ? "0" : format_size(b.bytes), b.snapshot.substr(0, 8),
                 b.verified ? fmt::format("{} ({:.1f} s)", *b.verified, b.restore_seconds.value_or(0)) : "-"});
          }
          core::cli::Frame::out(core::render_table(table, core::stdout_colour()));
          return core::exit_code::ok;
        }
        if (verify->parsed()) {
          VerifyResult r = backup_verify(s, c, o->verify_id);
          if (frame.globals().json) {
            core::cli::Frame::out(nlohmann::json{{"version", 1},
                                                 {"backup", backup_json(r.backup)},
                                                 {"scratch", r.scratch},
                                                 {"restore_seconds", r.restore_seconds},
                                                 {"probe", r.probe},
                                                 {"ok", true}}
                                      .dump(2) +
                                  "\n");
          } else {
            core::cli::Frame::out(
                fmt::format("backup {} verified: restored into {} in {:.1f} s, started, probe `{}` passed\n",
                            r.backup.id, r.scratch, r.restore_seconds, r.probe));
          }
          return core::exit_code::ok;
        }
        if (o->vserver.empty()) core::fail(core::ErrorKind::invalid, "cloe backup: a VSERVER, or list or verify ID");
        BackupRequest rq;
        rq.cluster = c;
        rq.vserver = o->vserver;
        if (!o->to.empty()) rq.to = o->to;
        rq.keep = o->retention_option->count() > 0 ? o->retention : frame.config().get_int("backup.keep");
        print_backup(frame, backup_create(s, rq), "backup");
        return core::exit_code::ok;
      });
  CLI::App* list_cmd = backup->add_subcommand("list", "The catalogue of backups and saves, newest first");
  list_cmd->add_option("vserver", o->list_vserver, "Only this vserver's");
  CLI::App* verify_cmd = backup->add_subcommand(
      "verify", "Restore backup ID into a scratch vserver, start it, probe it, record the restore time, destroy it");
  verify_cmd->add_option("id", o->verify_id, "The backup's id (cloe backup list)")->required();
  *words = {list_cmd, verify_cmd};
  backup->add_option("vserver", o->vserver, "The vserver to back up");
  backup->add_option("--to", o->to, "The node whose repository gets it (default: the vserver's own)");
  o->retention_option =
      backup->add_option("--retention", o->retention, "Keep the last N backups of this vserver (default: backup.keep)");

  // ---------------------------------------------------------------- restore
  struct RestoreOptions {
    std::string vserver, as, node;
    std::int64_t backup = 0;
    bool force = false;
  };
  auto ro = std::make_shared<RestoreOptions>();
  CLI::App* restore = frame.command(
      frame.app(), "restore",
      "Restore a vserver's layer from a backup (its newest unless --backup), in place (stopped first, --force while "
      "it runs) or --as a new vserver with its recorded template and quotas",
      core::cli::Effect::mutates, [&frame, ro, cluster] {
        Settings s = settings(frame);
        RestoreRequest rq;
        rq.cluster = cluster_name(s, *cluster);
        rq.vserver = ro->vserver;
        if (ro->backup != 0) rq.backup = ro->backup;
        if (!ro->as.empty()) rq.as = ro->as;
        if (!ro->node.empty()) rq.node = ro->node;
        rq.force = ro->force;
        RestoreResult r = backup_restore(s, rq);
        if (frame.globals().json) {
          core::cli::Frame::out(nlohmann::json{{"version", 1},
                                               {"backup", backup_json(r.backup)},
                                               {"vserver", r.vserver.name},
                                               {"node", r.vserver.node},
                                               {"ip", r.vserver.ip},
                                               {"seconds", r.seconds}}
                                    .dump(2) +
                                "\n");
        } else {
          core::cli::Frame::out(fmt::format("backup {} of {} restored into vserver {} ({} on node {}) in {:.1f} s\n",
                                            r.backup.id, r.backup.vserver, r.vserver.name, r.vserver.ip, r.vserver.node,
                                            r.seconds));
        }
        return core::exit_code::ok;
      });
  restore->add_option("vserver", ro->vserver, "The vserver the backup is of")->required();
  restore->add_option("--backup", ro->backup, "The backup's id (default: the vserver's newest)");
  restore->add_option("--as", ro->as, "Restore into this new vserver instead");
  restore->add_option("--node", ro->node, "With --as: the new vserver's node (default: placement)");
  restore->add_flag("--force", ro->force, "In place of a running vserver: stop it first");
}

}  // namespace cloe::cli
