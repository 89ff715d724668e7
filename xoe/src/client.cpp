// SPDX-License-Identifier: GPL-3.0-or-later
// xoe::Client's two implementations (client.hpp).
#include "xoe/client.hpp"

#include <fmt/format.h>

#include <sstream>

#include "core/process.hpp"
#include "xoe/logs.hpp"
#include "xoe/nightly.hpp"
#include "xoe/self.hpp"

namespace xoe {

namespace {

class LocalClient final : public Client {
 public:
  explicit LocalClient(Settings settings) : s_(std::move(settings)) {}

  std::vector<SoftwareInfo> software_list() override { return xoe::list_software(s_); }
  FetchResult software_fetch(const FetchRequest& r) override { return xoe::fetch_software(s_, r); }
  SoftwareRemoved software_remove(const core::SoftwareRef& ref) override {
    xoe::remove_software(s_, ref);
    return {ref.software, ref.version};
  }
  DepsResult software_deps(const DepsRequest& r) override {
    DepsPlan plan = r.check ? xoe::check_deps(s_, r.ref) : xoe::install_deps(s_, r.ref);
    return {plan.present, plan.missing, !r.check};
  }

  CreatePlan plan_create(const CreateRequest& r) override { return xoe::plan_create(s_, r); }
  Created create(const CreateRequest& r) override { return xoe::create_service(s_, r); }
  std::vector<ServiceSummary> list() override {
    std::vector<ServiceSummary> out;
    for (const auto& s : xoe::list_services(s_)) out.push_back(summary(s));
    return out;
  }
  ServiceInfo show(const ServiceRequest& r) override { return xoe::show_service(s_, r.name); }
  ServiceInfo start(const ServiceRequest& r) override { return xoe::start_service(s_, r.name); }
  ServiceInfo stop(const ServiceRequest& r) override { return xoe::stop_service(s_, r.name); }
  ServiceInfo restart(const ServiceRequest& r) override { return xoe::restart_service(s_, r.name); }
  Removed remove(const ServiceRequest& r) override { return xoe::remove_service(s_, r.name); }
  Retired retire(const RetireRequest& r) override { return xoe::remove_with_archive(s_, r.name, r.archive_dir); }
  UpdateResult update(const UpdateRequest& r) override { return xoe::update_service(s_, r); }
  UpgradeCheck upgrade_check(const UpgradeCheckRequest& r) override {
    return xoe::check_upgrade(s_, r.service, r.to_version);
  }
  LogLines logs(const LogsRequest& r) override { return parsed(xoe::read_service_log(s_, r.name, r.lines)); }
  ServiceConfig config_show(const ServiceRequest& r) override { return xoe::show_service_config(s_, r.name); }
  ServiceConfig config_change(const ConfigChange& r) override { return xoe::change_service_config(s_, r); }

  BackupResult backup(const BackupRequest& r) override { return xoe::backup_service(s_, r); }
  std::vector<BackupListEntry> backup_list(const BackupListRequest& r) override {
    return backup_listing(xoe::list_service_backups(s_, r.service));
  }
  PruneResult backup_prune(const PruneRequest& r) override { return xoe::prune_backups(s_, r); }
  VerifyResult verify(const VerifyRequest& r) override { return xoe::verify_backup(s_, r.archive, r.origin); }
  RestoreResult restore(const RestoreRequest& r) override { return xoe::restore_service(s_, r); }

  std::vector<DatabaseInfo> db_list() override { return xoe::list_databases(s_); }
  CopyResult db_copy(const CopyRequest& r) override { return xoe::copy_database(s_, r); }
  DropResult db_drop(const DropRequest& r) override { return xoe::drop_database(s_, r); }
  DatabaseCreated db_create(const ServiceRequest& r) override { return xoe::create_database(s_, r.name); }
  RenameResult db_rename(const RenameRequest& r) override { return xoe::rename_database(s_, r); }
  RefreshResult training_refresh(const RefreshRequest& r) override { return xoe::training_refresh(s_, r); }

  StudentsResult students_disseminate(const DisseminateRequest& r) override { return xoe::disseminate(s_, r); }
  StudentsResult students_copy(const StudentsCopyRequest& r) override { return xoe::copy_for_students(s_, r); }
  StudentsRemoved students_remove(const StudentsRemoveRequest& r) override {
    return xoe::remove_students(s_, r.group);
  }
  std::vector<StudentDatabase> students_list(const StudentsListRequest& r) override {
    return xoe::list_students(s_, r.group);
  }

  MonitorResult monitor(const MonitorRequest& r) override { return xoe::monitor_services(s_, r); }
  NightlyResult nightly() override { return xoe::run_nightly(s_); }
  ProfileResult profile_apply(const ProfileRequest& r) override { return xoe::apply_profile(s_, r); }
  SupervisorStatus supervisor_status() override { return xoe::supervisor_status(s_); }
  SupervisorStatus supervisor_start() override {
    xoe::supervisor_start(s_);
    return xoe::supervisor_status(s_);
  }
  SupervisorStatus supervisor_stop() override {
    xoe::supervisor_stop(s_);
    return xoe::supervisor_status(s_);
  }
  MigrateResult supervisor_migrate() override {
    auto moved = xoe::migrate_supervisor(s_);
    return {moved, xoe::supervisor_status(s_)};
  }

  SelfInstallResult self_install(const SelfInstallRequest& r) override {
    // As `xoe self-install`: the packages, then the nightly job's cron file.
    DepsPlan plan = r.check ? xoe::check_self(s_, r.refs) : xoe::self_install(s_, r.refs);
    std::optional<std::filesystem::path> cron;
    if (!r.check) cron = xoe::install_nightly_cron(s_);
    return {plan.present, plan.missing, r.check ? std::vector<std::string>{} : plan.missing, cron};
  }
  SelfUpdate self_update(const SelfUpdateRequest& r) override { return xoe::self_update(s_, r.package); }

 private:
  Settings s_;
};

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class CommandClient final : public Client {
 public:
  CommandClient(Runner runner, std::vector<std::string> global_args)
      : runner_(std::move(runner)), global_(std::move(global_args)) {}

  std::vector<SoftwareInfo> software_list() override {
    return call<std::vector<SoftwareInfo>>({"software", "list"});
  }
  FetchResult software_fetch(const FetchRequest& r) override {
    std::vector<std::string> a = {"software", "fetch", ref(r.ref)};
    if (!r.source.empty()) add(a, "--source", r.source);
    if (r.refresh) a.push_back("--refresh");
    return call<FetchResult>(a);
  }
  SoftwareRemoved software_remove(const core::SoftwareRef& r) override {
    return call<SoftwareRemoved>({"software", "remove", ref(r)});
  }
  DepsResult software_deps(const DepsRequest& r) override {
    std::vector<std::string> a = {"software", "deps", ref(r.ref)};
    if (r.check) a.push_back("--check");
    return call<DepsResult>(a);
  }

  CreatePlan plan_create(const CreateRequest& r) override {
    auto a = create_args(r);
    a.push_back("--dry-run");
    return call<CreatePlan>(a);
  }
  Created create(const CreateRequest& r) override { return call<Created>(create_args(r)); }
  std::vector<ServiceSummary> list() override { return call<std::vector<ServiceSummary>>({"service", "list"}); }
  ServiceInfo show(const ServiceRequest& r) override { return call<ServiceInfo>({"service", "show", r.name}); }
  ServiceInfo start(const ServiceRequest& r) override { return call<ServiceInfo>({"service", "start", r.name}); }
  ServiceInfo stop(const ServiceRequest& r) override { return call<ServiceInfo>({"service", "stop", r.name}); }
  ServiceInfo restart(const ServiceRequest& r) override { return call<ServiceInfo>({"service", "restart", r.name}); }
  Removed remove(const ServiceRequest& r) override { return call<Removed>({"service", "remove", r.name}); }
  Retired retire(const RetireRequest& r) override {
    return call<Retired>({"service", "remove", r.name, "--archive", r.archive_dir.string()});
  }
  UpdateResult update(const UpdateRequest& r) override {
    if (r.to_version) {
      if (r.patches) core::fail(core::ErrorKind::invalid, "an upgrade takes no new series (--patches)");
      return call<UpdateResult>({"service", "upgrade", r.service, "--to-version", *r.to_version});
    }
    std::vector<std::string> a = {"service", "update", r.service};
    if (r.patches) add(a, "--patches", r.patches->string());
    return call<UpdateResult>(a);
  }
  UpgradeCheck upgrade_check(const UpgradeCheckRequest& r) override {
    return call<UpgradeCheck>({"service", "upgrade", r.service, "--to-version", r.to_version, "--check"});
  }
  LogLines logs(const LogsRequest& r) override {
    return call<LogLines>({"service", "logs", r.name, "--lines", std::to_string(r.lines)});
  }
  ServiceConfig config_show(const ServiceRequest& r) override {
    return call<ServiceConfig>({"service", "config", "show", r.name});
  }
  ServiceConfig config_change(const ConfigChange& r) override {
    if (r.assignments.empty() == r.unset.empty())
      core::fail(core::ErrorKind::invalid, "config change of {}: give assignments or keys to unset, one of the two",
                 r.service);
    std::vector<std::string> a = {"service", "config", r.unset.empty() ? "set" : "unset", r.service};
    for (const auto& v : r.unset.empty() ? r.assignments : r.unset) a.push_back(v);
    return call<ServiceConfig>(a);
  }

  BackupResult backup(const BackupRequest& r) override {
    std::vector<std::string> a = {"backup", r.service};
    if (r.retention) {
      add(a, "--keep-daily", std::to_string(r.retention->daily));
      add(a, "--keep-weekly", std::to_string(r.retention->weekly));
      add(a, "--keep-monthly", std::to_string(r.retention->monthly));
    }
    return call<BackupResult>(a);
  }
  std::vector<BackupListEntry> backup_list(const BackupListRequest& r) override {
    std::vector<std::string> a = {"backup", "list"};
    if (r.service) a.push_back(*r.service);
    return call<std::vector<BackupListEntry>>(a);
  }
  PruneResult backup_prune(const PruneRequest& r) override {
    std::vector<std::string> a = {"backup", "prune", r.service};
    if (r.scope == PruneScope::all) {
      if (r.retention) core::fail(core::ErrorKind::invalid, "a prune of all archives takes no retention");
      a.push_back("--all");
    } else if (r.retention) {
      add(a, "--keep-daily", std::to_string(r.retention->daily));
      add(a, "--keep-weekly", std::to_string(r.retention->weekly));
      add(a, "--keep-monthly", std::to_string(r.retention->monthly));
    }
    return call<PruneResult>(a);
  }
  VerifyResult verify(const VerifyRequest& r) override {
    std::vector<std::string> a = {"backup", "verify", r.archive.string()};
    if (r.origin == ArchiveOrigin::trusted) a.push_back("--trust");
    return call<VerifyResult>(a);
  }
  RestoreResult restore(const RestoreRequest& r) override {
    std::vector<std::string> a = {"restore", r.service, r.archive.string()};
    if (r.as) add(a, "--as", *r.as);
    if (r.role) add(a, "--role", *r.role);
    if (r.origin == ArchiveOrigin::trusted) a.push_back("--trust");
    return call<RestoreResult>(a);
  }

  std::vector<DatabaseInfo> db_list() override { return call<std::vector<DatabaseInfo>>({"db", "list"}); }
  CopyResult db_copy(const CopyRequest& r) override { return call<CopyResult>({"db", "copy", r.source, r.target}); }
  DropResult db_drop(const DropRequest& r) override {
    std::vector<std::string> a = {"db", "drop", r.service};
    if (!r.backup) a.push_back("--no-backup");
    return call<DropResult>(a);
  }
  DatabaseCreated db_create(const ServiceRequest& r) override {
    return call<DatabaseCreated>({"db", "create", r.name});
  }
  RenameResult db_rename(const RenameRequest& r) override {
    return call<RenameResult>({"db", "rename", r.service, r.database});
  }
  RefreshResult training_refresh(const RefreshRequest& r) override {
    std::vector<std::string> a = {"training", "refresh", r.service};
    if (r.from) add(a, "--from", *r.from);
    return call<RefreshResult>(a);
  }

  StudentsResult students_disseminate(const DisseminateRequest& r) override {
    std::vector<std::string> a = {"students", "disseminate", r.service, "--group", r.group};
    if (r.students) add(a, "--students", std::to_string(*r.students));
    if (r.list) add(a, "--list", r.list->string());
    return call<StudentsResult>(a);
  }
  StudentsResult students_copy(const StudentsCopyRequest& r) override {
    return call<StudentsResult>({"students", "copy", r.service, "--group", r.group});
  }
  StudentsRemoved students_remove(const StudentsRemoveRequest& r) override {
    return call<StudentsRemoved>({"students", "remove", "--group", r.group});
  }
  std::vector<StudentDatabase> students_list(const StudentsListRequest& r) override {
    std::vector<std::string> a = {"students", "list"};
    if (r.group) add(a, "--group", *r.group);
    return call<std::vector<StudentDatabase>>(a);
  }

  MonitorResult monitor(const MonitorRequest& r) override {
    std::vector<std::string> a = {"monitor"};
    for (const auto& s : r.services) a.push_back(s);
    return call<MonitorResult>(a);
  }
  NightlyResult nightly() override { return call<NightlyResult>({"nightly"}); }
  ProfileResult profile_apply(const ProfileRequest& r) override {
    std::vector<std::string> a = {"profile", "apply", r.profile, "--name", r.name};
    if (!r.software.empty()) add(a, "--software", r.software);
    if (!r.version.empty()) add(a, "--version", r.version);
    if (!r.versions.empty()) add(a, "--versions", joined(r.versions, ","));
    if (!r.backend.empty()) add(a, "--db-backend", r.backend);
    if (!r.modules.empty()) add(a, "--modules", joined(r.modules, ","));
    return call<ProfileResult>(a);
  }
  SupervisorStatus supervisor_status() override { return call<SupervisorStatus>({"supervisor", "status"}); }
  SupervisorStatus supervisor_start() override { return call<SupervisorStatus>({"supervisor", "start"}); }
  SupervisorStatus supervisor_stop() override { return call<SupervisorStatus>({"supervisor", "stop"}); }
  MigrateResult supervisor_migrate() override { return call<MigrateResult>({"supervisor", "migrate"}); }

  SelfInstallResult self_install(const SelfInstallRequest& r) override {
    std::vector<std::string> a = {"self-install"};
    for (const auto& ref_ : r.refs) a.push_back(ref(ref_));
    if (r.check) a.push_back("--check");
    return call<SelfInstallResult>(a);
  }
  SelfUpdate self_update(const SelfUpdateRequest& r) override {
    return call<SelfUpdate>({"self-update", r.package.string()});
  }

 private:
  static std::string ref(const core::SoftwareRef& r) { return r.software + "/" + r.version; }
  static void add(std::vector<std::string>& a, const char* option, const std::string& value) {
    a.push_back(option);
    a.push_back(value);
  }
  static std::vector<std::string> create_args(const CreateRequest& r) {
    std::vector<std::string> a = {"service", "create", r.name, "--software", r.software, "--version", r.version,
                                  "--role", r.role};
    if (!r.backend.empty()) add(a, "--db-backend", r.backend);
    if (!r.modules.empty()) add(a, "--modules", joined(r.modules, ","));
    if (r.port) add(a, "--port", std::to_string(*r.port));
    if (r.patches) add(a, "--patches", r.patches->string());
    return a;
  }

  // Runs xoe with the command's words and reads its answer. Errors name the
  // command by its first words ("xoe service show").
  template <typename T>
  T call(const std::vector<std::string>& command) {
    std::vector<std::string> argv = {"xoe"};
    argv.insert(argv.end(), global_.begin(), global_.end());
    argv.push_back("--json");
    argv.insert(argv.end(), command.begin(), command.end());
    std::size_t words = command.size() > 1 && command[1] == "config" ? 3 : 2;
    std::string what = "xoe";
    for (std::size_t i = 0; i < command.size() && i < words; ++i) what += " " + command[i];
    RunOutput run = runner_(argv, std::nullopt);
    nlohmann::json answer;
    try {
      // One answer, or (service upgrade refused) the check then the error: the last counts.
      std::istringstream in(run.out);
      bool any = false;
      while ((in >> std::ws).peek() != std::char_traits<char>::eof()) {
        in >> answer;
        any = true;
      }
      if (!any) throw core::Error(core::ErrorKind::external, "");
    } catch (const std::exception&) {
      // Never stdout's text in the message: it may carry a password.
      std::string err = last_line(run.err);
      core::fail(core::ErrorKind::external, "{} gave no JSON answer (exit status {}{}{})", what, run.exit_code,
                 err.empty() ? "" : ": ", err);
    }
    return wire::read_answer<T>(answer, what);
  }

  Runner runner_;
  std::vector<std::string> global_;
};

}  // namespace

std::unique_ptr<Client> local_client(const Settings& settings) { return std::make_unique<LocalClient>(settings); }

std::unique_ptr<Client> command_client(Runner runner, std::vector<std::string> global_args) {
  if (!runner) core::fail(core::ErrorKind::internal, "command_client without a runner");
  return std::make_unique<CommandClient>(std::move(runner), std::move(global_args));
}

Runner local_runner(std::optional<std::filesystem::path> program) {
  if (!program) {
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) core::fail(core::ErrorKind::internal, "cannot read /proc/self/exe: {}", ec.message());
    program = self.parent_path() / "xoe";
  }
  return [program = *program](const std::vector<std::string>& argv, const std::optional<std::string>& stdin_text) {
    std::vector<std::string> args = argv;
    if (args.empty()) core::fail(core::ErrorKind::internal, "local_runner: no argv");
    args[0] = program.string();
    core::RunOptions options;
    options.env = core::RunOptions::Env::inherit;
    options.check = false;
    options.stdin_data = stdin_text;
    core::RunResult r = core::run(args, options);
    return RunOutput{r.exit_code, std::move(r.out), std::move(r.err)};
  };
}

}  // namespace xoe
