// SPDX-License-Identifier: GPL-3.0-or-later
// xoe backup SERVICE [--keep-daily N --keep-weekly N --keep-monthly N] | backup verify ARCHIVE | backup list [SERVICE]
// | backup prune SERVICE [--keep-daily N --keep-weekly N --keep-monthly N | --all]
#include "commands.hpp"
#include "core/output.hpp"
#include "xoe/backup.hpp"

namespace xoe::cli {

namespace {

struct BackupOptions {
  std::string service;
  std::optional<std::int64_t> daily, weekly, monthly;
  std::string archive;  // verify
  bool trust = false;   // verify: an archive this root's key does not authenticate
  std::optional<std::string> list_service;
  std::string prune_service;
  bool prune_all = false;
};

// The retention of the --keep-* options, each defaulting to backup.keep_*; empty when none is given.
std::optional<Retention> retention_of(const Settings& s, const BackupOptions& o) {
  if (!o.daily && !o.weekly && !o.monthly) return std::nullopt;
  return Retention{o.daily.value_or(s.keep_daily), o.weekly.value_or(s.keep_weekly),
                   o.monthly.value_or(s.keep_monthly)};
}

int run_backup(core::cli::Frame& frame, const BackupOptions& o) {
  if (o.service.empty()) throw core::Error(core::ErrorKind::invalid, "backup: give a SERVICE (or verify ARCHIVE)");
  Settings s = settings(frame);
  BackupRequest rq{o.service, retention_of(s, o)};
  BackupResult r = backup_service(s, rq);
  if (frame.globals().json) {
    print_answer(r);
  } else {
    std::string text = fmt::format("{}\nsha256 {}  {} bytes\n", r.archive.string(), r.sha256, r.bytes);
    for (const auto& p : r.pruned) text += "pruned " + p.string() + "\n";
    core::cli::Frame::out(text);
  }
  return core::exit_code::ok;
}

int run_verify(core::cli::Frame& frame, const std::string& archive, bool trust) {
  VerifyResult v =
      verify_backup(settings(frame), archive, trust ? ArchiveOrigin::trusted : ArchiveOrigin::this_root);
  if (frame.globals().json) {
    print_answer(v);
  } else {
    core::cli::Frame::out(core::render_fields({
        {"archive", v.archive.string()},
        {"result", v.ok ? "ok: restored, started and logged in" : "FAILED: " + v.error},
        {"software", v.meta.software + "/" + v.meta.version + " (" + v.meta.backend + ")"},
        {"restore", fmt::format("{:.1f} s", v.restore_seconds)},
        {"login", fmt::format("{:.0f} ms", v.login_ms)},
        {"total", fmt::format("{:.1f} s", v.seconds)},
    }));
  }
  // A backup that does not restore is an external failure (5).
  return v.ok ? core::exit_code::ok : core::exit_code::external;
}

int run_list(core::cli::Frame& frame, const std::optional<std::string>& service) {
  auto all = list_service_backups(settings(frame), service);
  if (frame.globals().json) {
    print_answer(backup_listing(all));
  } else {
    core::Table t{{"SERVICE", "ARCHIVE", "BYTES"}, {}};
    for (const auto& b : all)
      for (const auto& e : b.backups)
        t.rows.push_back({b.service_exists ? b.service : b.service + " (removed)", e.archive.string(),
                          std::to_string(std::filesystem::file_size(e.archive))});
    core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
  }
  return core::exit_code::ok;
}

int run_prune(core::cli::Frame& frame, const BackupOptions& o) {
  // The --keep-* options of `backup` itself share the variables: given before
  // `prune`, CLI11's excludes of --all does not see them.
  if (o.prune_all && (o.daily || o.weekly || o.monthly))
    core::fail(core::ErrorKind::invalid, "--all excludes --keep-daily, --keep-weekly and --keep-monthly");
  Settings s = settings(frame);
  PruneResult r = prune_backups(s, {o.prune_service, retention_of(s, o),
                                    o.prune_all ? PruneScope::all : PruneScope::retention});
  if (frame.globals().json) {
    print_answer(r);
  } else {
    std::string text;
    for (const auto& p : r.pruned) text += "pruned " + p.string() + "\n";
    for (const auto& k : r.kept) text += "kept " + k.string() + "\n";
    if (r.pruned.empty() && r.kept.empty()) text = "no archive of " + r.service + "\n";
    if (!r.service_exists) text += "(" + r.service + " is a removed service)\n";
    core::cli::Frame::out(text);
  }
  return core::exit_code::ok;
}

}  // namespace

void add_backup(core::cli::Frame& frame) {
  auto o = std::make_shared<BackupOptions>();
  // `backup SERVICE` is the command; `verify` and `list` are its subcommands
  // (so a service cannot be called "verify" or "list"). CLI11 runs the
  // parent's callback last, so the parent's action dispatches.
  struct Subs {
    CLI::App* verify = nullptr;
    CLI::App* list = nullptr;
    CLI::App* prune = nullptr;
  };
  auto subs = std::make_shared<Subs>();
  CLI::App* cmd = frame.command(
      frame.app(), "backup",
      "Back a service up into one archive (dump, attachments, config, metadata, sha256), then apply the retention",
      core::cli::Effect::mutates, [&frame, o, subs] {
        if (subs->verify->parsed()) return run_verify(frame, o->archive, o->trust);
        if (subs->list->parsed()) return run_list(frame, o->list_service);
        if (subs->prune->parsed()) return run_prune(frame, *o);
        return run_backup(frame, *o);
      });
  cmd->add_option("service", o->service, "Service name");
  cmd->add_option("--keep-daily", o->daily, "Daily backups kept (default: backup.keep_daily)")->check(CLI::Range(0, 3650));
  cmd->add_option("--keep-weekly", o->weekly, "Weekly backups kept (default: backup.keep_weekly)")->check(CLI::Range(0, 520));
  cmd->add_option("--keep-monthly", o->monthly, "Monthly backups kept (default: backup.keep_monthly)")->check(CLI::Range(0, 240));
  subs->verify = cmd->add_subcommand("verify", "Restore an archive into a scratch service, start it, log in, remove it");
  subs->verify->add_option("archive", o->archive, "The archive (.tar.zst)")->required();
  subs->verify->add_flag("--trust", o->trust,
                         "Accept an archive this root's backup key does not authenticate (made elsewhere)");
  subs->list = cmd->add_subcommand(
      "list", "The archives of a service, newest first; without SERVICE, of every service, removed ones too");
  subs->list->add_option("service", o->list_service, "Service name (a removed one too)");
  subs->prune = cmd->add_subcommand(
      "prune", "Apply the retention to a service's archives (a removed service's too), or remove all of a removed one");
  subs->prune->add_option("service", o->prune_service, "Service name (a removed one too)")->required();
  // The retention's options, as backup's own (the same variables: backup_service and prune_backups read them alike).
  auto* pd = subs->prune->add_option("--keep-daily", o->daily, "Daily backups kept (default: backup.keep_daily)")
                 ->check(CLI::Range(0, 3650));
  auto* pw = subs->prune->add_option("--keep-weekly", o->weekly, "Weekly backups kept (default: backup.keep_weekly)")
                 ->check(CLI::Range(0, 520));
  auto* pm = subs->prune
                 ->add_option("--keep-monthly", o->monthly, "Monthly backups kept (default: backup.keep_monthly)")
                 ->check(CLI::Range(0, 240));
  subs->prune
      ->add_flag("--all", o->prune_all, "Remove every archive of a removed service (refused for a service that exists)")
      ->excludes(pd)
      ->excludes(pw)
      ->excludes(pm);
}

}  // namespace xoe::cli
