// SPDX-License-Identifier: GPL-3.0-or-later
#include "poe/store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "poe/series.hpp"
#include "tree_io.hpp"
#include "../core/tempdir.hpp"

namespace poe {
namespace {
namespace fs = std::filesystem;

using test::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

TEST(TreeIo, CleanNames) {
  EXPECT_TRUE(is_clean_name("party.py"));
  EXPECT_TRUE(is_clean_name("caf\xc3\xa9.xml"));
  EXPECT_FALSE(is_clean_name("a\nb"));
  EXPECT_FALSE(is_clean_name("bad\xff"));
  EXPECT_FALSE(is_clean_name("cut\xc3"));
}

TEST(Store, ImportListShowRemove) {
  TempDir tmp;
  write(tmp.path() / "std/modules/m/a.py", "one\ntwo\n");
  write(tmp.path() / "std/__pycache__/x.pyc", "ignored");
  Store store = Store::open(tmp.path() / "store", StoreMode::create_if_missing);
  const StandardInfo info = store.import_standard("soft/1.0", tmp.path() / "std", {{"__pycache__"}});
  EXPECT_EQ(info.files, 1u);
  EXPECT_EQ(info.tree_id.size(), 40u);
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.show("soft/1.0").tree_id, info.tree_id);
  try {
    store.import_standard("soft/1.0", tmp.path() / "std", {});
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::conflict);
  }
  store.remove("soft/1.0");
  EXPECT_TRUE(store.list().empty());
  try {
    store.show("soft/1.0");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::not_found);
  }
}

TEST(Series, DiffApplyCheckRoundTrip) {
  TempDir tmp;
  std::string text;
  for (int i = 1; i <= 30; ++i) text += "line " + std::to_string(i) + "\n";
  write(tmp.path() / "v1/modules/m/a.py", text);
  write(tmp.path() / "v2/modules/m/a.py", "header\n" + text);
  write(tmp.path() / "custom/modules/m/a.py", [&] {
    std::string t = text;
    t.replace(t.find("line 15\n"), 8, "line fifteen\n");
    return t;
  }());
  write(tmp.path() / "custom/modules/n/b.py", "new\n");
  Store store = Store::open(tmp.path() / "store", StoreMode::create_if_missing);
  store.import_standard("soft/1.0", tmp.path() / "v1", {});
  store.import_standard("soft/2.0", tmp.path() / "v2", {});
  fs::copy(tmp.path() / "v1/modules", tmp.path() / "custom/modules",
           fs::copy_options::recursive | fs::copy_options::skip_existing);

  DiffRequest diff{"soft/1.0", tmp.path() / "custom", tmp.path() / "series"};
  const Series series = make_series(store, diff);
  ASSERT_EQ(series.patches.size(), 2u);
  EXPECT_EQ(series.patches[0].name, "modules-m.patch");
  EXPECT_EQ(read_series(tmp.path() / "series").patches[1].files, std::vector<std::string>{"modules/n/b.py"});

  ApplyRequest apply{tmp.path() / "series", "", tmp.path() / "out", std::nullopt, {}};
  apply_series(store, apply);
  std::ifstream in(tmp.path() / "out/modules/m/a.py");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "line 1");

  const CheckReport report = check_series(store, tmp.path() / "series", "soft/2.0", {});
  ASSERT_EQ(report.patches.size(), 2u);
  EXPECT_EQ(report.patches[0].status, PatchStatus::offset);
  EXPECT_EQ(report.patches[1].status, PatchStatus::applies);
  EXPECT_FALSE(report.has_conflict());
}

}  // namespace
}  // namespace poe
