// SPDX-License-Identifier: GPL-3.0-or-later
// The pure parts of per-service settings: keys, checks, and how they are written into a config.
#include "xoe/service_config.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace {

std::string message_of(const std::string& software, const std::string& key, const std::string& value) {
  try {
    xoe::check_setting(software, key, value);
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(ServiceSettings, KeysPerSoftware) {
  std::vector<std::string> tryton, odoo;
  for (const auto& s : xoe::setting_specs("tryton")) tryton.push_back(s.key);
  for (const auto& s : xoe::setting_specs("odoo")) odoo.push_back(s.key);
  EXPECT_EQ(tryton, (std::vector<std::string>{"email_from", "login_max_attempts", "password_min_length", "port",
                                              "session_timeout"}));
  EXPECT_EQ(odoo, (std::vector<std::string>{"email_from", "port", "workers"}));
  EXPECT_TRUE(xoe::setting_specs("nosuch").empty());
}

TEST(ServiceSettings, UnknownKeyNamesTheKeys) {
  EXPECT_EQ(message_of("tryton", "workers", "2"),
            "unknown key 'workers' for tryton services (keys: email_from, login_max_attempts, password_min_length, "
            "port, session_timeout)");
  EXPECT_EQ(message_of("tryton", "modules", "sale"),
            "unknown key 'modules' for tryton services (keys: email_from, login_max_attempts, password_min_length, "
            "port, session_timeout)");
}

TEST(ServiceSettings, ValuesAreChecked) {
  EXPECT_EQ(xoe::check_setting("tryton", "session_timeout", "0600").value, "600");
  EXPECT_EQ(xoe::check_setting("tryton", "port", "9000").value, "9000");
  EXPECT_EQ(xoe::check_setting("tryton", "email_from", "erp@example.org").value, "erp@example.org");
  EXPECT_EQ(xoe::check_setting("odoo", "workers", "0").value, "0");
  EXPECT_EQ(message_of("tryton", "session_timeout", "59"), "session_timeout '59': a whole number from 60 to 86400");
  EXPECT_EQ(message_of("tryton", "session_timeout", "-5"), "session_timeout '-5': a whole number from 60 to 86400");
  EXPECT_EQ(message_of("tryton", "session_timeout", "1e3"), "session_timeout '1e3': a whole number from 60 to 86400");
  EXPECT_EQ(message_of("tryton", "password_min_length", "25"),
            "password_min_length '25': a whole number from 4 to 24");
  EXPECT_EQ(message_of("tryton", "port", "80"), "port '80': below 1024");
  EXPECT_NE(message_of("tryton", "port", "99999"), "(accepted)");
  EXPECT_NE(message_of("tryton", "port", "8000x"), "(accepted)");
  EXPECT_NE(message_of("tryton", "email_from", "not an address"), "(accepted)");
  EXPECT_NE(message_of("tryton", "email_from", "a@b.org\n[web]"), "(accepted)");
}

TEST(ServiceSettings, AppliedIntoTheirSections) {
  std::string config = "\n[database]\nuri = sqlite://\n\n[web]\nlisten = 127.0.0.1:8000\n";
  std::string out = xoe::apply_settings(config, "tryton",
                                        {{"session_timeout", "600"}, {"email_from", "erp@example.org"},
                                         {"port", "9000"}, {"from_a_later_version", "x"}});
  EXPECT_EQ(out, config + "\n[session]\ntimeout = 600\n\n[email]\nfrom = erp@example.org\n");
  // Applying again changes nothing.
  EXPECT_EQ(xoe::apply_settings(out, "tryton", {{"session_timeout", "600"}, {"email_from", "erp@example.org"}}), out);
  EXPECT_EQ(xoe::apply_settings("\n[options]\nhttp_port = 8069\n", "odoo", {{"workers", "2"}}),
            "\n[options]\nhttp_port = 8069\nworkers = 2\n");
}
