// SPDX-License-Identifier: GPL-3.0-or-later
// Every cloe example of the seed translates to a modern command.
#include <gtest/gtest.h>

#include "cloe/tool.hpp"

namespace {

using Args = std::vector<std::string>;

Args tr(Args args) {
  return core::legacy::translate(cloe::legacy_table(), std::move(args), core::legacy::AtCluster::yes);
}

TEST(CloeLegacy, EverySeedExample) {
  EXPECT_EQ(tr({"@cluster", "--install", "-host"}), (Args{"--cluster", "cluster", "node", "install-host"}));
  EXPECT_EQ(tr({"@cluster", "--update"}), (Args{"--cluster", "cluster", "update"}));
  EXPECT_EQ(tr({"@cluster", "--new", "-vserver"}), (Args{"--cluster", "cluster", "vserver", "create"}));
  EXPECT_EQ(tr({"@cluster", "--start"}), (Args{"--cluster", "cluster", "start"}));
  EXPECT_EQ(tr({"@cluster", "--stop"}), (Args{"--cluster", "cluster", "stop"}));
  EXPECT_EQ(tr({"@cluster", "--save"}), (Args{"--cluster", "cluster", "save"}));
  EXPECT_EQ(tr({"@cluster", "--backup"}), (Args{"--cluster", "cluster", "backup"}));
  EXPECT_EQ(tr({"@cluster", "--restore"}), (Args{"--cluster", "cluster", "restore"}));
  EXPECT_EQ(tr({"@cluster", "--command", "group_vserver", "root", "hostname;"}),
            (Args{"--cluster", "cluster", "command", "--seed", "group_vserver", "root", "hostname;"}));
  EXPECT_EQ(tr({"@other_cluster", "--cluster", "-Join"}), (Args{"--cluster", "other_cluster", "cluster", "join"}));
}

TEST(CloeLegacy, AtClusterBeforeTheNewCommands) {
  EXPECT_EQ(tr({"@prod", "node", "add", "n1", "--address", "10.0.0.11"}),
            (Args{"--cluster", "prod", "node", "add", "n1", "--address", "10.0.0.11"}));
  EXPECT_EQ(tr({"--json", "@prod", "node", "list"}), (Args{"--json", "--cluster", "prod", "node", "list"}));
  EXPECT_EQ(tr({"cluster", "init", "prod"}), (Args{"cluster", "init", "prod"}));
}

TEST(CloeLegacy, ModernFormUntouched) {
  EXPECT_EQ(tr({"@prod", "doctor"}), (Args{"--cluster", "prod", "doctor"}));
  EXPECT_EQ(tr({"doctor", "--json"}), (Args{"doctor", "--json"}));
}

}  // namespace
