// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/paths.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>

#include "core/error.hpp"
#include "tempdir.hpp"

namespace {

class EnvGuard {
 public:
  explicit EnvGuard(const char* value) {
    if (const char* old = std::getenv("OE_ROOT")) old_ = old;
    if (value)
      ::setenv("OE_ROOT", value, 1);
    else
      ::unsetenv("OE_ROOT");
  }
  ~EnvGuard() {
    if (old_)
      ::setenv("OE_ROOT", old_->c_str(), 1);
    else
      ::unsetenv("OE_ROOT");
  }

 private:
  std::optional<std::string> old_;
};

TEST(Paths, EverythingBelowTheRoot) {
  test::TempDir dir;
  EnvGuard env(nullptr);
  auto paths = core::Paths::resolve(dir.path().string());
  EXPECT_EQ(paths.etc(), dir.path() / "etc/oe");
  EXPECT_EQ(paths.data("xoe"), dir.path() / "var/lib/oe/xoe");
  EXPECT_EQ(paths.log(), dir.path() / "var/log/oe");
  EXPECT_EQ(paths.config_file("cloe"), dir.path() / "etc/oe/cloe.toml");
}

TEST(Paths, DefaultIsSlashAndEnvironmentIsUsed) {
  test::TempDir dir;
  {
    EnvGuard env(nullptr);
    EXPECT_EQ(core::Paths::resolve(std::nullopt).etc(), "/etc/oe");
  }
  EnvGuard env(dir.path().c_str());
  EXPECT_EQ(core::Paths::resolve(std::nullopt).root(), dir.path());
  // --root wins over the environment.
  EXPECT_EQ(core::Paths::resolve("/").root(), "/");
}

TEST(Paths, MissingOrNotAFolderIsInvalid) {
  test::TempDir dir;
  EnvGuard env(nullptr);
  auto file = dir.write("file", "x");
  for (auto bad : {(dir.path() / "missing").string(), file.string(), std::string{}}) {
    try {
      core::Paths::resolve(bad);
      FAIL() << bad;
    } catch (const core::Error& e) {
      EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    }
  }
}

TEST(Paths, PrepareCreatesFoldersAndRefusesReadOnlyRoot) {
  test::TempDir dir;
  EnvGuard env(nullptr);
  core::Paths paths(dir.path());
  paths.prepare_for_writing();
  EXPECT_TRUE(std::filesystem::is_directory(paths.data()));
  EXPECT_TRUE(std::filesystem::is_directory(paths.locks()));
  if (::geteuid() != 0) GTEST_SKIP() << "the read-only mount needs root";
  auto ro = dir.path() / "ro";
  std::filesystem::create_directory(ro);
  ASSERT_EQ(::mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, nullptr), 0);
  try {
    core::Paths(ro).prepare_for_writing();
    ADD_FAILURE() << "a read-only root was accepted";
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid);
    EXPECT_NE(std::string(e.what()).find("not writable"), std::string::npos);
  }
  ::umount(ro.c_str());
}

}  // namespace
