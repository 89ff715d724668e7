// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/legacy.hpp"

#include <gtest/gtest.h>

namespace {

using Args = std::vector<std::string>;

const core::legacy::Table table = {
    {{"--subscription", "-declare"}, {"subscription", "declare"}},
    {{"--subscription", "-check", "-expired"}, {"subscription", "check-expired"}},
    {{"--new", "-vserver"}, {"vserver", "create"}},
    {{"--command"}, {"command"}},
};

TEST(Legacy, RewritesAndKeepsTheRest) {
  EXPECT_EQ(core::legacy::translate(table, {"--subscription", "-declare", "--name", "acme"}),
            (Args{"subscription", "declare", "--name", "acme"}));
}

TEST(Legacy, LongestRuleWinsAndCaseIsIgnored) {
  EXPECT_EQ(core::legacy::translate(table, {"--Subscription", "-CHECK", "-Expired"}),
            (Args{"subscription", "check-expired"}));
}

TEST(Legacy, GlobalOptionsFirstAreKept) {
  EXPECT_EQ(core::legacy::translate(table, {"--root", "/tmp/x", "-vv", "--json", "--subscription", "-declare"}),
            (Args{"--root", "/tmp/x", "-vv", "--json", "subscription", "declare"}));
}

TEST(Legacy, AtClusterBecomesAnOption) {
  EXPECT_EQ(core::legacy::translate(table, {"@prod", "--new", "-vserver"}, core::legacy::AtCluster::yes),
            (Args{"--cluster", "prod", "vserver", "create"}));
  EXPECT_EQ(core::legacy::translate(table, {"@prod", "--command", "web", "root", "hostname;"},
                                    core::legacy::AtCluster::yes),
            (Args{"--cluster", "prod", "command", "web", "root", "hostname;"}));
  // Without AtCluster::yes, @words are left for the parser to refuse.
  EXPECT_EQ(core::legacy::translate(table, {"@prod"}), (Args{"@prod"}));
}

TEST(Legacy, ModernCommandLinesUnchanged) {
  Args modern{"subscription", "declare", "--type", "vds"};
  EXPECT_EQ(core::legacy::translate(table, modern), modern);
  EXPECT_EQ(core::legacy::translate(table, {}), Args{});
}

TEST(Legacy, PartialMatchIsNoMatch) {
  EXPECT_EQ(core::legacy::translate(table, {"--subscription"}), (Args{"--subscription"}));
  EXPECT_EQ(core::legacy::translate(table, {"--subscription", "-remove"}), (Args{"--subscription", "-remove"}));
}

}  // namespace
