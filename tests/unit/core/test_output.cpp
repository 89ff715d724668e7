// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/output.hpp"

#include <gtest/gtest.h>

TEST(Output, TableColumnsAligned) {
  core::Table t{{"NAME", "STATE"}, {{"acme-production", "up"}, {"é", "down"}}};
  EXPECT_EQ(core::render_table(t, core::Colour::never),
            "NAME             STATE\n"
            "acme-production  up\n"
            "é                down\n");
}

TEST(Output, ColourEscapesDoNotBreakAlignment) {
  core::Table t{{"A", "B"}, {{core::paint_status("ok", core::Colour::always), "x"}, {"long-cell", "y"}}};
  auto text = core::render_table(t, core::Colour::always);
  EXPECT_NE(text.find("\033[32mok\033[0m         x"), std::string::npos) << text;
}

TEST(Output, Fields) {
  EXPECT_EQ(core::render_fields({{"name", "acme"}, {"database", "acme_prod"}}),
            "name:     acme\ndatabase: acme_prod\n");
}
