// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cloe/template.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "cloe-template-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& f, const std::string& text) {
  fs::create_directories(f.parent_path());
  std::ofstream(f) << text;
}

}  // namespace

TEST(CloeTemplate, MirrorFromDeb822Sources) {
  TempDir d;
  write(d.path() / "sources.list.d/debian.sources",
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\n");
  EXPECT_EQ(cloe::host_debian_mirror(d.path()), "http://mirror.example/debian");
}

TEST(CloeTemplate, MirrorFromOneLineSourcesWithOptions) {
  TempDir d;
  write(d.path() / "sources.list",
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian/ bookworm main\n");
  EXPECT_EQ(cloe::host_debian_mirror(d.path()), "http://one.example/debian/");
}

TEST(CloeTemplate, DisabledSourcesAndNoArchiveAreRefused) {
  TempDir d;
  write(d.path() / "sources.list.d/a.sources", "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\n");
  write(d.path() / "sources.list.d/b.list", "deb http://other.example/ubuntu jammy main\n");
  try {
    cloe::host_debian_mirror(d.path());
    FAIL() << "no error";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::precondition);
  }
}

TEST(CloeTemplate, ChecksumFollowsContentModeAndNames) {
  TempDir d;
  fs::path r = d.path() / "root";
  write(r / "etc/a", "one");
  write(r / "usr/bin/b", "two");
  fs::create_symlink("a", r / "etc/link");
  std::string first = cloe::template_checksum(r);
  EXPECT_EQ(first.size(), 64u);
  EXPECT_EQ(cloe::template_checksum(r), first);  // the same tree, the same sum
  write(r / "etc/a", "One");
  std::string content = cloe::template_checksum(r);
  EXPECT_NE(content, first);
  fs::permissions(r / "etc/a", fs::perms::owner_read);
  std::string mode = cloe::template_checksum(r);
  EXPECT_NE(mode, content);
  fs::remove(r / "etc/link");
  fs::create_symlink("b", r / "etc/link");
  EXPECT_NE(cloe::template_checksum(r), mode);
  fs::rename(r / "usr/bin/b", r / "usr/bin/c");
  EXPECT_NE(cloe::template_checksum(r), mode);
}

TEST(CloeTemplate, BadRequestsAreInvalidBeforeAnythingIsMade) {
  TempDir d;
  core::Paths paths(d.path());
  auto kind = [&](cloe::TemplateBuildRequest r) {
    r.mirror = r.mirror.value_or("http://mirror.example/debian");
    try {
      cloe::build_template(paths, r);
    } catch (const core::Error& e) {
      return e.kind();
    }
    return core::ErrorKind::internal;
  };
  EXPECT_EQ(kind({.name = "Bad"}), core::ErrorKind::invalid);
  EXPECT_EQ(kind({.name = "ok", .suite = "book-worm"}), core::ErrorKind::invalid);
  EXPECT_EQ(kind({.name = "ok", .packages = {"a;b"}}), core::ErrorKind::invalid);
  EXPECT_EQ(kind({.name = "ok", .mirror = "ftp://h/debian"}), core::ErrorKind::invalid);
  EXPECT_EQ(kind({.name = "ok", .mirror = "http://h/debian x"}), core::ErrorKind::invalid);
  EXPECT_FALSE(fs::exists(d.path() / "var/lib/oe/cloe/templates"));
}
