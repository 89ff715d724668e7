// SPDX-License-Identifier: GPL-3.0-or-later
// Every hoe example of the seed translates to a modern command.
#include <gtest/gtest.h>

#include "hoe/tool.hpp"

namespace {

using Args = std::vector<std::string>;

Args tr(Args args) { return core::legacy::translate(hoe::legacy_table(), std::move(args)); }

TEST(HoeLegacy, EverySeedExample) {
  EXPECT_EQ(tr({"--subscription", "-declare"}), (Args{"subscription", "declare"}));
  EXPECT_EQ(tr({"--subscription", "-configure"}), (Args{"subscription", "configure"}));
  EXPECT_EQ(tr({"--subscription", "-install"}), (Args{"subscription", "install"}));
  EXPECT_EQ(tr({"--subscription", "-close"}), (Args{"subscription", "close"}));
  EXPECT_EQ(tr({"--subscription", "-check", "-expired"}), (Args{"subscription", "check-expired"}));
  EXPECT_EQ(tr({"--subscription", "-set", "-expired"}), (Args{"subscription", "check-expired"}));
  EXPECT_EQ(tr({"--config", "-edit", "-global"}), (Args{"config", "edit", "global"}));
  EXPECT_EQ(tr({"--config", "-edit", "-subscriptions"}), (Args{"config", "edit", "subscriptions"}));
  EXPECT_EQ(tr({"--config", "-edit", "-iptables"}), (Args{"config", "edit", "firewall"}));
  EXPECT_EQ(tr({"--update"}), (Args{"update"}));
  EXPECT_EQ(tr({"--mail", "-start-date"}), (Args{"mail", "start-date"}));
  EXPECT_EQ(tr({"--help"}), (Args{"--help"}));
  EXPECT_EQ(tr({"--log"}), (Args{"log"}));
}

}  // namespace
