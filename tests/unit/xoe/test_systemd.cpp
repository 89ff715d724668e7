// SPDX-License-Identifier: GPL-3.0-or-later
// The pure parts of the systemd supervisor: unit names, quoting, the unit's
// text, and the state read from `systemctl show`. The unit against a real
// systemd: scenario.xoe_systemd.
#include "systemd.hpp"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include "core/error.hpp"

namespace {

using namespace xoe;

ServiceProgram program() {
  return {"acme",
          "xoe-acme",
          "oe-xoe",
          {"/usr/bin/python3", "-S", "/srv/code/usr/bin/trytond", "-c", "/var/lib/oe/xoe/services/acme/trytond.conf"},
          {{"PYTHONPATH", "/srv/site"}},
          "/var/lib/oe/xoe/services/acme",
          "/var/log/oe/xoe/acme"};
}

std::string line_of(const std::string& text, const std::string& key) {
  auto at = text.find("\n" + key + "=");
  if (at == std::string::npos) return "";
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

}  // namespace

TEST(SystemdUnit, NameOfTheRootSlashIsPlain) {
  EXPECT_EQ(systemd::unit_name("/", "acme"), "xoe-acme.service");
  EXPECT_EQ(systemd::unit_pattern("/"), "xoe-*.service");
}

TEST(SystemdUnit, NameOfAnotherRootCarriesItsHash) {
  auto a = systemd::unit_name("/tmp/a", "acme"), b = systemd::unit_name("/tmp/b", "acme");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 4), "xoe_");
  EXPECT_EQ(a.size(), std::string("xoe_0123456789abcdef_acme.service").size());
  EXPECT_EQ(a, systemd::unit_name("/tmp/a", "acme"));  // stable
  EXPECT_EQ(systemd::unit_pattern("/tmp/a"), a.substr(0, 21) + "*.service");
  // A service of / named like another root's unit cannot meet it: labels have no '_'.
  EXPECT_NE(systemd::unit_name("/", a.substr(4, 16) + "-acme"), a);
}

TEST(SystemdLogrotate, RuleNamesEachUnitsLogOnly) {
  EXPECT_EQ(systemd::logrotate_file("/"), "/etc/logrotate.d/xoe");
  auto file = systemd::logrotate_file("/tmp/a");
  EXPECT_EQ(file.filename().string(), systemd::unit_name("/tmp/a", "x").substr(0, 20));  // xoe_HASH
  std::string text = systemd::logrotate_text("/tmp/a", "/tmp/a/var/log/oe/xoe", {"_postgresql", "acme"});
  EXPECT_EQ(text.rfind("# Written by xoe for the root /tmp/a", 0), 0u);
  EXPECT_NE(text.find("\n\"/tmp/a/var/log/oe/xoe/_postgresql/current\"\n\"/tmp/a/var/log/oe/xoe/acme/current\"\n{\n"),
            std::string::npos);
  for (const char* line : {"size 1M", "rotate 10", "copytruncate", "missingok", "notifempty", "nocompress"})
    EXPECT_NE(text.find(std::string("\n    ") + line + "\n"), std::string::npos) << line;
  EXPECT_EQ(text.find("*"), std::string::npos);  // no glob: runit's svlogd folders are not in it
  EXPECT_THROW(systemd::logrotate_text("/tmp/a", "/tmp/a b", {"acme"}), core::Error);
}

TEST(SystemdRunitBoot, OneshotThatStartsTheRootsRunsvdir) {
  EXPECT_EQ(systemd::runit_boot_unit("/"), "runsvdir-xoe.service");
  auto name = systemd::runit_boot_unit("/tmp/a");
  EXPECT_EQ(name, "runsvdir-" + systemd::unit_name("/tmp/a", "x").substr(0, 20) + ".service");
  // Never taken for one of the services' units.
  EXPECT_NE(::fnmatch(systemd::unit_pattern("/").c_str(), systemd::runit_boot_unit("/").c_str(), 0), 0);
  EXPECT_NE(::fnmatch(systemd::unit_pattern("/tmp/a").c_str(), name.c_str(), 0), 0);
  std::string text = systemd::runit_boot_text("/tmp/a", "/usr/bin/xoe");
  EXPECT_EQ(text.rfind("# Written by xoe", 0), 0u);
  EXPECT_EQ(line_of(text, "Type"), "Type=oneshot");
  EXPECT_EQ(line_of(text, "RemainAfterExit"), "RemainAfterExit=yes");
  EXPECT_EQ(line_of(text, "ExecStart"),
            "ExecStart=\"/usr/bin/xoe\" \"--root\" \"/tmp/a\" \"--set\" \"supervisor.kind=runit\" \"supervisor\" \"start\"");
  EXPECT_EQ(line_of(text, "WantedBy"), "WantedBy=multi-user.target");
  EXPECT_THROW(systemd::runit_boot_text("/tmp/a", "xoe"), core::Error);  // not an absolute path
}

TEST(SystemdUnit, QuoteEscapesWhatSystemdWouldInterpret) {
  using systemd::Field;
  EXPECT_EQ(systemd::quote("/usr/bin/python3", Field::exec), "\"/usr/bin/python3\"");
  EXPECT_EQ(systemd::quote("a b", Field::exec), "\"a b\"");
  EXPECT_EQ(systemd::quote("say \"hi\"", Field::exec), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(systemd::quote("a\\b", Field::exec), "\"a\\\\b\"");
  EXPECT_EQ(systemd::quote("100%", Field::exec), "\"100%%\"");
  EXPECT_EQ(systemd::quote("$HOME", Field::exec), "\"$$HOME\"");
  EXPECT_EQ(systemd::quote("$HOME", Field::environment), "\"$HOME\"");  // no expansion in Environment=
  EXPECT_EQ(systemd::quote("a\nb\tc\x01", Field::exec), "\"a\\nb\\tc\\x01\"");
  EXPECT_EQ(systemd::quote("'; rm -rf /", Field::exec), "\"'; rm -rf /\"");
  EXPECT_EQ(systemd::quote("", Field::exec), "\"\"");
}

TEST(SystemdUnit, TextRunsTheArgvAsTheUserWithTheRunitEnvironment) {
  std::string t = systemd::unit_text("/", program());
  EXPECT_EQ(t.rfind("# Written by xoe for service acme of the root /.", 0), 0u) << t;
  EXPECT_EQ(line_of(t, "User"), "User=xoe-acme");
  EXPECT_EQ(line_of(t, "Group"), "Group=xoe-acme");
  EXPECT_EQ(line_of(t, "SupplementaryGroups"), "SupplementaryGroups=oe-xoe");
  EXPECT_EQ(line_of(t, "ExecStart"),
            "ExecStart=\"/usr/bin/python3\" \"-S\" \"/srv/code/usr/bin/trytond\" \"-c\" "
            "\"/var/lib/oe/xoe/services/acme/trytond.conf\"");
  EXPECT_EQ(line_of(t, "Environment"),
            "Environment=\"PATH=/usr/bin:/bin\" \"LC_ALL=C.UTF-8\" \"LANG=C.UTF-8\" \"PYTHONPATH=/srv/site\"");
  EXPECT_EQ(line_of(t, "WorkingDirectory"), "WorkingDirectory=/var/lib/oe/xoe/services/acme");
  EXPECT_EQ(line_of(t, "Restart"), "Restart=on-failure");
  EXPECT_EQ(line_of(t, "RestartSec"), "RestartSec=1");
  EXPECT_EQ(line_of(t, "StartLimitIntervalSec"), "StartLimitIntervalSec=0");
  EXPECT_EQ(line_of(t, "StandardOutput"), "StandardOutput=append:/var/log/oe/xoe/acme/current");
  EXPECT_EQ(line_of(t, "StandardError"), "StandardError=inherit");
  EXPECT_EQ(line_of(t, "WantedBy"), "WantedBy=multi-user.target");
}

TEST(SystemdUnit, TextDoublesPercentInPaths) {
  ServiceProgram p = program();
  p.logs = "/srv/100%/log";
  p.argv.push_back("--opt=%h");
  std::string t = systemd::unit_text("/", p);
  EXPECT_EQ(line_of(t, "StandardOutput"), "StandardOutput=append:/srv/100%%/log/current");
  EXPECT_NE(line_of(t, "ExecStart").find("\"--opt=%%h\""), std::string::npos);
}

TEST(SystemdUnit, TextRefusesWhatSystemdCannotTake) {
  ServiceProgram p = program();
  p.argv[0] = "python3";
  EXPECT_THROW(systemd::unit_text("/", p), core::Error);
  p = program();
  p.argv.clear();
  EXPECT_THROW(systemd::unit_text("/", p), core::Error);
  p = program();
  p.logs = "/var/log/with\nnewline";
  EXPECT_THROW(systemd::unit_text("/", p), core::Error);
  p = program();
  p.dir = "relative/dir";
  EXPECT_THROW(systemd::unit_text("/", p), core::Error);
  p = program();
  p.dir = "/a dir/with a blank";
  EXPECT_THROW(systemd::unit_text("/", p), core::Error);
}

TEST(SystemdShow, ActiveIsRunWithMainPidAndUptime) {
  auto st = systemd::parse_show(
      "MainPID=4242\nLoadState=loaded\nActiveState=active\nSubState=running\n"
      "ActiveEnterTimestampMonotonic=1000000\nStateChangeTimestampMonotonic=1000000\n",
      13500000);
  EXPECT_EQ(st.state, "run");
  ASSERT_TRUE(st.pid);
  EXPECT_EQ(*st.pid, 4242);
  EXPECT_EQ(st.seconds, 12);
}

TEST(SystemdShow, NotLoadedIsUnsupervised) {
  auto st = systemd::parse_show("LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n", 1);
  EXPECT_EQ(st.state, "unsupervised");
  EXPECT_FALSE(st.pid);
}

TEST(SystemdShow, InactiveFailedAndWaitingToRestartAreDown) {
  for (const char* s : {"ActiveState=inactive\nSubState=dead\nMainPID=0\n",
                        "ActiveState=failed\nSubState=failed\nMainPID=0\n",
                        "ActiveState=activating\nSubState=auto-restart\nMainPID=0\n"}) {
    auto st = systemd::parse_show(std::string("LoadState=loaded\nStateChangeTimestampMonotonic=2000000\n") + s,
                                  5000000);
    EXPECT_EQ(st.state, "down") << s;
    EXPECT_FALSE(st.pid) << s;
    EXPECT_EQ(st.seconds, 3) << s;
  }
}

TEST(SystemdShow, DeactivatingIsFinish) {
  auto st = systemd::parse_show("LoadState=loaded\nActiveState=deactivating\nSubState=stop-sigterm\nMainPID=77\n", 1);
  EXPECT_EQ(st.state, "finish");
  ASSERT_TRUE(st.pid);
  EXPECT_EQ(*st.pid, 77);
}

TEST(SystemdShow, ATimestampInTheFutureOrMissingIsZero) {
  auto st =
      systemd::parse_show("LoadState=loaded\nActiveState=active\nMainPID=5\nActiveEnterTimestampMonotonic=9\n", 3);
  EXPECT_EQ(st.seconds, 0);
  st = systemd::parse_show("LoadState=loaded\nActiveState=active\nMainPID=5\n", 3);
  EXPECT_EQ(st.seconds, 0);
}
