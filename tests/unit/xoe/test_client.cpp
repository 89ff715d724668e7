// SPDX-License-Identifier: GPL-3.0-or-later
// command_client against a fake Runner: the argv it builds, answers read
// back, an error answer turned into core::Error with its kind, and stdout
// that is no answer turned into a clear external error without its text.
// (scenario.xoe_client runs it against the built xoe and real services.)
#include "xoe/client.hpp"

#include <gtest/gtest.h>

namespace {

using namespace xoe;

struct Fake {
  std::vector<std::vector<std::string>> calls;
  RunOutput next;
  Runner runner() {
    return [this](const std::vector<std::string>& argv, const std::optional<std::string>&) {
      calls.push_back(argv);
      return next;
    };
  }
};

ServiceInfo service() {
  return {"acme", "tryton", "7.0", "production", "sqlite", "acme", 8001, "http://127.0.0.1:8001/", "xoe-acme",
          "admin", {}, "run", 42, 10, "runit"};
}

TEST(CommandClient, BuildsTheCommandLineAndReadsTheAnswer) {
  Fake fake;
  fake.next = {0, wire::render(wire::answer(service())), ""};
  auto client = command_client(fake.runner(), {"--root", "/srv/r"});
  EXPECT_EQ(client->show({"acme"}), service());
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0], (std::vector<std::string>{"xoe", "--root", "/srv/r", "--json", "service", "show", "acme"}));
}

TEST(CommandClient, RequestOptionsBecomeOptions) {
  Fake fake;
  fake.next = {0, wire::render(wire::answer(RestoreResult{})), ""};
  auto client = command_client(fake.runner());
  client->restore({"acme", "/srv/a.tar.zst", std::string("acme-copy"), std::string("test"), ArchiveOrigin::trusted});
  EXPECT_EQ(fake.calls.at(0), (std::vector<std::string>{"xoe", "--json", "restore", "acme", "/srv/a.tar.zst", "--as",
                                                        "acme-copy", "--role", "test", "--trust"}));
  fake.next = {0, wire::render(wire::answer(BackupResult{})), ""};
  client->backup({"acme", Retention{2, 1, 0}});
  EXPECT_EQ(fake.calls.at(1), (std::vector<std::string>{"xoe", "--json", "backup", "acme", "--keep-daily", "2",
                                                        "--keep-weekly", "1", "--keep-monthly", "0"}));
}

TEST(CommandClient, EveryOperationRunsItsCommand) {
  // The command words of each operation, with an answer of its type.
  Fake fake;
  auto client = command_client(fake.runner());
  auto words = [&](auto answer, auto call) {
    fake.next = {0, wire::render(wire::answer(answer)), ""};
    call();
    std::vector<std::string> argv = fake.calls.back();
    return std::vector<std::string>(argv.begin() + 2, argv.end());  // after xoe --json
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(words(std::vector<ServiceSummary>{}, [&] { client->list(); }), (V{"service", "list"}));
  EXPECT_EQ(words(Created{}, [&] { client->create({"acme", "tryton", "7.0", "test", "sqlite", {"sale", "stock"}, 8005, std::nullopt}); }),
            (V{"service", "create", "acme", "--software", "tryton", "--version", "7.0", "--role", "test", "--db-backend",
               "sqlite", "--modules", "sale,stock", "--port", "8005"}));
  EXPECT_EQ(words(Retired{}, [&] { client->retire({"acme", "/srv/final"}); }),
            (V{"service", "remove", "acme", "--archive", "/srv/final"}));
  EXPECT_EQ(words(UpdateResult{}, [&] { client->update({"acme", std::string("7.0"), std::nullopt}); }),
            (V{"service", "upgrade", "acme", "--to-version", "7.0"}));
  EXPECT_EQ(words(LogLines{}, [&] { client->logs({"acme", 5}); }), (V{"service", "logs", "acme", "--lines", "5"}));
  EXPECT_EQ(words(std::vector<BackupListEntry>{}, [&] { client->backup_list({std::nullopt}); }), (V{"backup", "list"}));
  EXPECT_EQ(words(PruneResult{}, [&] { client->backup_prune({"old", std::nullopt, PruneScope::all}); }),
            (V{"backup", "prune", "old", "--all"}));
  EXPECT_EQ(words(VerifyResult{}, [&] { client->verify({"/srv/a.tar.zst", ArchiveOrigin::this_root}); }),
            (V{"backup", "verify", "/srv/a.tar.zst"}));
  EXPECT_EQ(words(DropResult{}, [&] { client->db_drop({"acme", false}); }), (V{"db", "drop", "acme", "--no-backup"}));
  EXPECT_EQ(words(RenameResult{}, [&] { client->db_rename({"acme", "acme2"}); }), (V{"db", "rename", "acme", "acme2"}));
  EXPECT_EQ(words(RefreshResult{}, [&] { client->training_refresh({"acme-training", std::nullopt}); }),
            (V{"training", "refresh", "acme-training"}));
  EXPECT_EQ(words(StudentsResult{}, [&] { client->students_disseminate({"school", "g1", 3, std::nullopt}); }),
            (V{"students", "disseminate", "school", "--group", "g1", "--students", "3"}));
  EXPECT_EQ(words(std::vector<StudentDatabase>{}, [&] { client->students_list({std::string("g1")}); }),
            (V{"students", "list", "--group", "g1"}));
  EXPECT_EQ(words(ProfileResult{}, [&] { client->profile_apply({"acs", "school", "", "", {"6.0", "7.0"}, "sqlite", {}}); }),
            (V{"profile", "apply", "acs", "--name", "school", "--versions", "6.0,7.0", "--db-backend", "sqlite"}));
  EXPECT_EQ(words(NightlyResult{}, [&] { client->nightly(); }), (V{"nightly"}));
  EXPECT_EQ(words(MigrateResult{}, [&] { client->supervisor_migrate(); }), (V{"supervisor", "migrate"}));
  EXPECT_EQ(words(SelfInstallResult{}, [&] { client->self_install({{{"tryton", "7.0"}}, true}); }),
            (V{"self-install", "tryton/7.0", "--check"}));
  EXPECT_EQ(words(SelfUpdate{}, [&] { client->self_update({"/srv/oe-xoe.deb"}); }), (V{"self-update", "/srv/oe-xoe.deb"}));
}

TEST(CommandClient, AnErrorAnswerIsTheErrorWithItsKind) {
  Fake fake;
  for (auto kind : {core::ErrorKind::not_found, core::ErrorKind::conflict, core::ErrorKind::io,
                    core::ErrorKind::internal, core::ErrorKind::precondition}) {
    fake.next = {core::exit_code_for(kind), wire::render(wire::error_answer(core::Error(kind, "it went wrong"))),
                 "xoe: it went wrong\n"};
    auto client = command_client(fake.runner());
    try {
      client->start({"acme"});
      FAIL() << "no error for " << wire::kind_spelling(kind);
    } catch (const core::Error& e) {
      EXPECT_EQ(e.kind(), kind);
      EXPECT_STREQ(e.what(), "it went wrong");
    }
  }
}

TEST(CommandClient, AResultWithANonZeroExitIsAResult) {
  Fake fake;
  MonitorResult down{std::chrono::sys_seconds{std::chrono::seconds{1700000000}},
                     {{"acme", "tryton", "7.0", "production", "down", false}}};
  fake.next = {1, wire::render(wire::answer(down)), ""};
  EXPECT_EQ(command_client(fake.runner())->monitor({{"acme"}}), down);
  EXPECT_EQ(fake.calls.at(0), (std::vector<std::string>{"xoe", "--json", "monitor", "acme"}));
}

TEST(CommandClient, TheLastOfTwoAnswersCounts) {
  // A refused upgrade prints poe's check, then the error.
  Fake fake;
  fake.next = {4, wire::render(wire::answer(UpgradeCheck{})) +
                      wire::render(wire::error_answer(core::Error(core::ErrorKind::conflict, "upgrade refused"))),
               ""};
  try {
    command_client(fake.runner())->update({"acme", std::string("7.0"), std::nullopt});
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::conflict);
  }
}

core::Error error_of(const RunOutput& out) {
  Fake fake;
  fake.next = out;
  try {
    command_client(fake.runner())->list();
  } catch (const core::Error& e) {
    return e;
  }
  return core::Error(core::ErrorKind::failed, "nothing thrown");
}

TEST(CommandClient, BadJsonIsAClearExternalErrorWithoutStdout) {
  core::Error e = error_of({0, "{\"version\": 2, \"services\": [{\"admin_password\": \"hunter22\"", "xoe: crashed\n"});
  EXPECT_EQ(e.kind(), core::ErrorKind::external);
  EXPECT_STREQ(e.what(), "xoe service list gave no JSON answer (exit status 0: xoe: crashed)");
  EXPECT_EQ(std::string(e.what()).find("hunter22"), std::string::npos);

  e = error_of({127, "", "cannot run\n"});
  EXPECT_EQ(e.kind(), core::ErrorKind::external);
  EXPECT_STREQ(e.what(), "xoe service list gave no JSON answer (exit status 127: cannot run)");

  e = error_of({0, "{\"version\": 1, \"services\": []}\n", ""});
  EXPECT_EQ(e.kind(), core::ErrorKind::external);
  EXPECT_NE(std::string(e.what()).find("not of contract version 2"), std::string::npos) << e.what();

  e = error_of({0, "{\"version\": 2, \"services\": [{\"name\": 3}]}\n", ""});
  EXPECT_EQ(e.kind(), core::ErrorKind::external);
  EXPECT_NE(std::string(e.what()).find("is not the one expected"), std::string::npos) << e.what();
}

TEST(CommandClient, ConfigChangeTakesOneOfSetAndUnset) {
  Fake fake;
  auto client = command_client(fake.runner());
  EXPECT_THROW(client->config_change({"acme", {}, {}}), core::Error);
  EXPECT_THROW(client->config_change({"acme", {"session_timeout=600"}, {"email_from"}}), core::Error);
  EXPECT_TRUE(fake.calls.empty());
  fake.next = {0, wire::render(wire::answer(ServiceConfig{})), ""};
  client->config_change({"acme", {}, {"email_from"}});
  EXPECT_EQ(fake.calls.at(0),
            (std::vector<std::string>{"xoe", "--json", "service", "config", "unset", "acme", "email_from"}));
}

}  // namespace
