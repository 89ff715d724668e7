// SPDX-License-Identifier: GPL-3.0-or-later
// Edits of the servers' INI config files that keep the rest of the file.
#include "ini.hpp"

#include <gtest/gtest.h>

namespace ini = xoe::ini;

namespace {

const std::string tryton = "\n[database]\nuri = sqlite://\npath = /srv/data\n\n[web]\nlisten = 127.0.0.1:8000\n";

}  // namespace

TEST(Ini, Get) {
  EXPECT_EQ(ini::get(tryton, "web", "listen"), "127.0.0.1:8000");
  EXPECT_EQ(ini::get(tryton, "WEB", "listen"), std::nullopt);  // sections are case-sensitive, keys are not
  EXPECT_EQ(ini::get(tryton, "database", "URI"), "sqlite://");
  EXPECT_EQ(ini::get(tryton, "email", "from"), std::nullopt);
  EXPECT_EQ(ini::get("[a]\nk: v\n", "a", "k"), "v");
}

TEST(Ini, SetReplacesAKeyInPlace) {
  EXPECT_EQ(ini::set(tryton, "web", "listen", "127.0.0.1:9000"),
            "\n[database]\nuri = sqlite://\npath = /srv/data\n\n[web]\nlisten = 127.0.0.1:9000\n");
  // Continuation lines of the old value go with it.
  EXPECT_EQ(ini::set("[a]\nk = 1\n  2\nx = 3\n", "a", "k", "9"), "[a]\nk = 9\nx = 3\n");
}

TEST(Ini, SetAddsToTheEndOfItsSection) {
  EXPECT_EQ(ini::set(tryton, "database", "language", "fr"),
            "\n[database]\nuri = sqlite://\npath = /srv/data\nlanguage = fr\n\n[web]\nlisten = 127.0.0.1:8000\n");
}

TEST(Ini, SetAppendsAMissingSection) {
  EXPECT_EQ(ini::set(tryton, "session", "timeout", "600"), tryton + "\n[session]\ntimeout = 600\n");
  EXPECT_EQ(ini::set("[a]\nk = 1", "b", "x", "2"), "[a]\nk = 1\n\n[b]\nx = 2\n");
}

TEST(Ini, NeutralisedCopyKeepsItsMailSection) {
  std::string neutralised = tryton + "\n[email]\nuri = smtp://127.0.0.1:1\n";
  std::string out = ini::set(neutralised, "email", "from", "erp@example.org");
  EXPECT_EQ(out, tryton + "\n[email]\nuri = smtp://127.0.0.1:1\nfrom = erp@example.org\n");
  // One [email] section: Python's ConfigParser refuses a section given twice.
  EXPECT_EQ(out.find("[email]"), out.rfind("[email]"));
}

TEST(Ini, Unset) {
  EXPECT_EQ(ini::unset("[a]\nk = 1\nx = 2\n", "a", "K"), "[a]\nx = 2\n");
  EXPECT_EQ(ini::unset(tryton, "web", "nosuch"), tryton);
}

TEST(Ini, RebaseCarriesAPortChangeAndKeepsTheRest) {
  std::string old_base = tryton;
  std::string new_base = ini::set(tryton, "web", "listen", "127.0.0.1:9000");
  std::string file = tryton + "\n[email]\nuri = smtp://127.0.0.1:1\nfrom = erp@example.org\n";
  EXPECT_EQ(ini::rebase(file, old_base, new_base),
            ini::set(file, "web", "listen", "127.0.0.1:9000"));
  // Idempotent, and a no-op without a change.
  EXPECT_EQ(ini::rebase(ini::rebase(file, old_base, new_base), old_base, new_base),
            ini::rebase(file, old_base, new_base));
  EXPECT_EQ(ini::rebase(file, old_base, old_base), file);
}

TEST(Ini, RebaseOfOdooKeysAppendedWithoutHeader) {
  // odoo.conf: one [options] section; a neutralisation appends keys to it without a header.
  auto base = [](const std::string& db, int port) {
    return "\n[options]\ndb_name = " + db + "\ndbfilter = ^" + db + "$\nhttp_port = " + std::to_string(port) + "\n";
  };
  std::string file = base("acme", 8000) + "smtp_server = 127.0.0.1\nsmtp_port = 1\n";
  std::string out = ini::rebase(file, base("acme", 8000), base("acme2", 8000));
  EXPECT_EQ(out, base("acme2", 8000) + "smtp_server = 127.0.0.1\nsmtp_port = 1\n");
  EXPECT_EQ(ini::get(out, "options", "smtp_port"), "1");
}
