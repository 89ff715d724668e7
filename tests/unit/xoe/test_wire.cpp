// SPDX-License-Identifier: GPL-3.0-or-later
// xoe's JSON contract (wire.hpp): each answer of a fixed value is the golden
// file tests/golden/xoe/NAME.json byte for byte, and reads back equal.
// OE_UPDATE_GOLDEN=1 rewrites the golden files (then review their diff).
#include "xoe/wire.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

using namespace xoe;
using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
void golden(const std::string& name, const T& value) {
  std::string text = wire::render(wire::answer(value));
  std::filesystem::path file = std::filesystem::path(OE_GOLDEN_DIR) / (name + ".json");
  if (std::getenv("OE_UPDATE_GOLDEN")) std::ofstream(file, std::ios::binary) << text;
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  EXPECT_EQ(read_file(file), text) << name;
  T back = wire::read_answer<T>(nlohmann::json::parse(text), name);
  EXPECT_TRUE(back == value) << name << ": from_json(to_json(x)) != x";
  EXPECT_EQ(wire::render(wire::answer(back)), text) << name;
}

const std::chrono::sys_seconds t0{std::chrono::sys_days{std::chrono::year{2026} / 12 / 4} + 2h + 30min};

ServiceInfo service() {
  return {"acme-production", "tryton", "7.0", "production", "postgresql", "acme-production", 8001,
          "http://127.0.0.1:8001/", "xoe-acme-production", "admin", {"sale", "stock"}, "run", 4242, 3600, "runit"};
}

BackupMeta meta() {
  return {1, "acme-production", "tryton", "7.0", "production", "postgresql", "acme-production", {"sale"},
          "2026-12-04T02:30:00Z", {{"session_timeout", "900"}}, true};
}

RestoreResult restore() {
  return {"acme-test", "test", "http://127.0.0.1:8003/", 8003, "acme-test", true, true, false,
          std::string("s3cret-once"), meta(), 12.5, false};
}

StudentDatabase student(const std::string& password) {
  return {"g1", "student01", "reference", "school-test", "school-g1-student01", "http://127.0.0.1:8010/school-g1-student01/",
          "ready", "2026-12-04T02:30:00Z", password, "school-test"};
}

SupervisorStatus supervisor_status() {
  return {SupervisorKind::runit, true, 77, "/var/lib/oe/xoe/sv", {"acme-production"}, {}, std::nullopt};
}

PatchVerdict verdict() { return {"0001-fix.patch", "conflict", {"modules/sale/sale.py"}, {{"modules/sale/sale.py", "10-12"}}}; }

TEST(Wire, ServiceShow) { golden("service_show", service()); }
TEST(Wire, ServiceShowStopped) {
  ServiceInfo s = service();
  s.state = "down";
  s.pid.reset();
  s.supervisor.clear();
  golden("service_show_stopped", s);
}
TEST(Wire, ServiceList) { golden("service_list", std::vector<ServiceSummary>{summary(service())}); }
TEST(Wire, ServiceCreatePlan) { golden("service_create_plan", CreatePlan{service(), "xoe-tryton-7.0-postgresql-base", true, false}); }
TEST(Wire, ServiceCreate) { golden("service_create", Created{service(), "s3cret-once", false}); }
TEST(Wire, ServiceRemove) { golden("service_remove", Removed{"acme-test", false, 2}); }
TEST(Wire, ServiceRemoveArchive) {
  golden("service_remove_archive", Retired{"acme-test", "/srv/final/acme-test-20261204T023000Z.tar.zst",
                                           std::string(64, 'a'), 123456, 3});
}
TEST(Wire, ServiceUpdate) {
  golden("service_update", UpdateResult{"acme-production", "tryton", "6.0", "7.0",
                                        "/var/lib/oe/xoe/backups/acme-production/a.tar.zst",
                                        {verdict()}, {"0002-upstream.patch"}, 80.25, false});
}
TEST(Wire, ServiceUpgradeCheck) {
  golden("service_upgrade_check",
         UpgradeCheck{"acme-production", "tryton/6.0", "tryton/7.0", "tryton/6.0.29", "tryton/7.0.30", {verdict()}});
}
TEST(Wire, ServiceLogs) {
  golden("service_logs", LogLines{"acme-production", "/var/log/oe/xoe/acme-production/current",
                                  {{std::string("2026-12-04T02:30:00.12345Z"), "started"}, {std::nullopt, "no stamp"}}});
}
TEST(Wire, ServiceConfig) {
  golden("service_config", ServiceConfig{"acme-production", "tryton",
                                         {{"port", "8001", "assigned", "", "The port"},
                                          {"session_timeout", "900", "set", "2026-12-04T02:30:00Z", "Seconds"}},
                                         {"session_timeout"}, true});
}
TEST(Wire, Software) {
  golden("software_list", std::vector<SoftwareInfo>{{"tryton", "7.0", "debian:trixie", true, "/var/lib/oe/xoe/software/tryton/7.0",
                                                    "tryton-server 7.0.30-1", "2026-12-04T02:30:00Z"}});
}
TEST(Wire, SoftwareFetch) {
  golden("software_fetch", FetchResult{{"tryton", "7.0", "debian:trixie", true, "/var/lib/oe/xoe/software/tryton/7.0",
                                        "tryton-server 7.0.30-1", "2026-12-04T02:30:00Z"},
                                       false, true});
}
TEST(Wire, SoftwareRemove) { golden("software_remove", SoftwareRemoved{"tryton", "6.0"}); }
TEST(Wire, SoftwareDeps) { golden("software_deps", DepsResult{{"python3"}, {"tryton-server"}, true}); }
TEST(Wire, SelfInstall) {
  golden("self_install", SelfInstallResult{{"python3"}, {"zstd"}, {"zstd"}, std::filesystem::path("/etc/cron.d/oe-xoe")});
}
TEST(Wire, SelfUpdate) { golden("self_update", SelfUpdate{"0.0.2", "0.0.3"}); }
TEST(Wire, Backup) {
  golden("backup", BackupResult{"/var/lib/oe/xoe/backups/acme-production/acme-production-20261204T023000Z.tar.zst",
                                std::string(64, 'b'), 98765, meta(),
                                {"/var/lib/oe/xoe/backups/acme-production/acme-production-20261101T023000Z.tar.zst"}, false});
}
TEST(Wire, BackupList) {
  golden("backup_list", std::vector<BackupListEntry>{
                            {"/var/lib/oe/xoe/backups/acme-production/acme-production-20261204T023000Z.tar.zst", t0, 98765,
                             "acme-production", true}});
}
TEST(Wire, BackupPrune) {
  golden("backup_prune", PruneResult{"old", false, {"/var/lib/oe/xoe/backups/old/old-20261101T023000Z.tar.zst"}, {}});
}
TEST(Wire, BackupVerify) {
  golden("backup_verify", VerifyResult{"/srv/a.tar.zst", std::string(64, 'c'), meta(), "xoe-verify-1", true, 10.5, 120.25,
                                       14.75, "2026-12-04T02:30:00Z", ""});
}
TEST(Wire, Restore) { golden("restore", restore()); }
TEST(Wire, DbList) {
  golden("db_list", std::vector<DatabaseInfo>{{"acme-production", "acme-production", "postgresql", "production", 8388608}});
}
TEST(Wire, DbCopy) { golden("db_copy", CopyResult{"acme-production", "acme-test", true, true, true, 3.5, false}); }
TEST(Wire, DbDrop) {
  golden("db_drop", DropResult{"acme-test", "acme-test", "sqlite", std::filesystem::path("/srv/b.tar.zst"), 1.5, false});
}
TEST(Wire, DbCreate) {
  golden("db_create", DatabaseCreated{"acme-test", "acme-test", "sqlite", "xoe-tryton-7.0-sqlite-base", 4.5, false});
}
TEST(Wire, DbRename) { golden("db_rename", RenameResult{"acme-test", "acme-test", "acme2", "postgresql", true, 2.5, false}); }
TEST(Wire, TrainingRefresh) {
  golden("training_refresh", RefreshResult{"acme-training", "acme-production", "/srv/a.tar.zst", restore()});
}
TEST(Wire, StudentsDisseminate) {
  golden("students_disseminate", StudentsResult{"g1", "school-test", std::nullopt, {student("pw-of-student01")},
                                                {"/var/lib/oe/xoe/students/g1.csv"}, 6.5, false});
}
TEST(Wire, StudentsRemove) { golden("students_remove", StudentsRemoved{"g1", {"school-g1-student01"}, false}); }
TEST(Wire, StudentsList) { golden("students_list", std::vector<StudentDatabase>{student("")}); }
TEST(Wire, Monitor) {
  ServiceHealth up{"acme-production", "tryton", "7.0", "production", "run", true, 12.5, 104857600, 8388608,
                   t0 - 1h, 3600, 3, t0 - 2h};
  ServiceHealth down{"acme-test", "tryton", "7.0", "test", "down", false, std::nullopt, std::nullopt, 8388608,
                     std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  golden("monitor", MonitorResult{t0, {up, down}});
}
TEST(Wire, Nightly) {
  golden("nightly", NightlyResult{{{"acme-production", "backup", std::nullopt, std::filesystem::path("/srv/a.tar.zst"), true, "", 5.5},
                                   {"acme-training", "refresh", std::string("acme-production"), std::nullopt, false,
                                    "no backup of acme-production", 0.25}},
                                  {"acme-new (creating)"},
                                  6.0});
}
TEST(Wire, ProfileApply) {
  golden("profile_apply", ProfileResult{"vds", "acme", {{service(), std::string("s3cret-once"), false}, {service(), std::nullopt, true}}});
}
TEST(Wire, SupervisorStatus) { golden("supervisor_status", supervisor_status()); }
TEST(Wire, SupervisorMigrate) {
  golden("supervisor_migrate", MigrateResult{{{"acme-production", "systemd", "runit", true}}, supervisor_status()});
}

TEST(Wire, ErrorAnswer) {
  core::Error e(core::ErrorKind::not_found, "no service nosuch");
  std::string text = wire::render(wire::error_answer(e));
  std::filesystem::path file = std::filesystem::path(OE_GOLDEN_DIR) / "error.json";
  if (std::getenv("OE_UPDATE_GOLDEN")) std::ofstream(file, std::ios::binary) << text;
  EXPECT_EQ(read_file(file), text);
  try {
    wire::read_answer<ServiceInfo>(nlohmann::json::parse(text), "service show");
    FAIL() << "no error thrown";
  } catch (const core::Error& back) {
    EXPECT_EQ(back.kind(), core::ErrorKind::not_found);
    EXPECT_STREQ(back.what(), "no service nosuch");
  }
}

TEST(Wire, EveryKindHasItsSpelling) {
  for (auto kind : {core::ErrorKind::failed, core::ErrorKind::invalid, core::ErrorKind::not_found,
                    core::ErrorKind::conflict, core::ErrorKind::external, core::ErrorKind::precondition,
                    core::ErrorKind::io, core::ErrorKind::internal})
    EXPECT_EQ(wire::kind_of_spelling(wire::kind_spelling(kind)), kind) << wire::kind_spelling(kind);
  EXPECT_EQ(wire::kind_of_spelling("nonsense"), core::ErrorKind::internal);
}

core::ErrorKind kind_of_reading(const std::string& text) {
  try {
    wire::read_answer<ServiceInfo>(nlohmann::json::parse(text), "service show");
  } catch (const core::Error& e) {
    return e.kind();
  }
  return core::ErrorKind::failed;  // not thrown
}

TEST(Wire, AnswersOfAnotherVersionOrShapeAreExternalErrors) {
  std::string good = wire::render(wire::answer(service()));
  EXPECT_EQ(kind_of_reading(good), core::ErrorKind::failed);  // read, nothing thrown
  nlohmann::json old = nlohmann::json::parse(good);
  old["version"] = 1;
  EXPECT_EQ(kind_of_reading(old.dump()), core::ErrorKind::external);
  nlohmann::json missing = nlohmann::json::parse(good);
  missing["service"].erase("port");
  EXPECT_EQ(kind_of_reading(missing.dump()), core::ErrorKind::external);
  nlohmann::json wrong = nlohmann::json::parse(good);
  wrong["service"]["port"] = "eighty";
  EXPECT_EQ(kind_of_reading(wrong.dump()), core::ErrorKind::external);
  EXPECT_EQ(kind_of_reading("[1, 2]"), core::ErrorKind::external);
  EXPECT_EQ(kind_of_reading(R"({"version": 2, "error": {"kind": "conflict"}})"), core::ErrorKind::external);
}

}  // namespace
