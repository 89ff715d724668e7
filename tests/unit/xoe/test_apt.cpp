// SPDX-License-Identifier: GPL-3.0-or-later
#include "apt.hpp"
#include "../core/tempdir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;

namespace {

using test::TempDir;

}  // namespace

TEST(AptMirror, Deb822SkipsSecurityAndNonDebStanzas) {
  TempDir t;
  std::ofstream(t.path() / "a.sources") << "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\n\n"
                                         "Types: deb\nURIs: http://sec.invalid/debian-security\nSuites: bookworm-security\n\n"
                                         "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\n"
                                         "Suites: bookworm bookworm-updates\nComponents: main\n"
                                         "Signed-By: /usr/share/keyrings/k.gpg\n";
  auto m = xoe::apt::mirror_from_files({t.path() / "a.sources"});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uri, "http://mirror.invalid/debian");
  EXPECT_EQ(m->signed_by, "/usr/share/keyrings/k.gpg");
}

TEST(AptMirror, OneLineFormatWithOptions) {
  TempDir t;
  std::ofstream(t.path() / "s.list") << "# deb http://commented.invalid/debian bookworm main\n"
                                      "deb http://sec.invalid/debian-security bookworm-security main\n"
                                      "deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian bookworm main\n";
  auto m = xoe::apt::mirror_from_files({t.path() / "s.list"});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uri, "http://m.invalid/debian");
  EXPECT_EQ(m->signed_by, "/k.gpg");
}

TEST(AptMirror, NoneFound) {
  TempDir t;
  std::ofstream(t.path() / "s.list") << "deb https://vendor.invalid/apt cloud-sdk-bookworm main\n";
  EXPECT_FALSE(xoe::apt::mirror_from_files({t.path() / "s.list"}));
  EXPECT_FALSE(xoe::apt::mirror_from(t.path() / "missing"));
}

TEST(AptMirror, ThisHostHasOne) {
  // The machines this suite runs on read their packages from a Debian mirror.
  EXPECT_TRUE(xoe::apt::mirror_from("/etc/apt"));
}
