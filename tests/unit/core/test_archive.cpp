// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/archive.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/process.hpp"
#include "tempdir.hpp"

namespace fs = std::filesystem;
using core::archive::MemberType;

namespace {

// Writes `out` (a plain tar) with python3's tarfile: `members` is Python
// code that adds members to `t` (helpers: f(name, data), d(name),
// sym(name, target), hard(name, target), special(name, type)).
void craft(const fs::path& out, const std::string& members) {
  std::string script = R"(
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def f(name, data=b"x"):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
def d(name):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
def sym(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
def hard(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
def special(name, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.devmajor = 1; i.devminor = 3; t.addfile(i)
)" + members + "\nt.close()\n";
  core::run({"/usr/bin/python3", "-c", script, out.string()});
}

std::string refusal(const fs::path& archive) {
  auto e = test::error_of([&] { core::archive::list_members(archive); });
  EXPECT_EQ(e.kind(), core::ErrorKind::invalid) << e.what();
  return e.what();
}

}  // namespace

TEST(Archive, ListsAGoodArchive) {
  test::TempDir t;
  craft(t.path() / "a.tar", "d('data'); f('data/a'); sym('data/l', 'a'); sym('data/s/up', '../a'); hard('data/h', 'data/a')");
  auto m = core::archive::list_members(t.path() / "a.tar");
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].type, MemberType::directory);
  EXPECT_EQ(m[1].type, MemberType::file);
  EXPECT_EQ(m[2].type, MemberType::symlink);
  EXPECT_EQ(m[4].type, MemberType::hardlink);
  EXPECT_EQ(m[4].link, "data/a");
}

TEST(Archive, RefusesEachBadMemberByName) {
  test::TempDir t;
  struct Case {
    std::string code, part;
  };
  for (const auto& c : std::vector<Case>{
           {"f('data/../../etc/x')", "'data/../../etc/x' refused: '..'"},
           {"f('/etc/x')", "'/etc/x' refused: absolute"},
           {"sym('data/l', '/etc')", "'data/l' refused: symbolic link to '/etc'"},
           {"sym('data/l', '../../etc')", "symbolic link to '../../etc' leaves"},
           {"sym('data/l', '..')", "leaves its folder"},
           {"sym('data', 'config')", "'data' refused: symbolic link"},
           {"hard('data/h', '/etc/shadow')", "'data/h' refused: hard link"},
           {"hard('data/h', 'data/later'); f('data/later')", "not an earlier file"},
           {"special('data/null', tarfile.CHRTYPE)", "'data/null' refused: character device"},
           {"special('data/sda', tarfile.BLKTYPE)", "block device"},
           {"special('data/p', tarfile.FIFOTYPE)", "'data/p' refused: FIFO"},
           {"f('data/a'); f('data/a')", "a second member"},
           {"sym('data/l', 'x'); f('data/l/f')", "below a member that is not a folder"},
       }) {
    craft(t.path() / "bad.tar", c.code);
    std::string why = refusal(t.path() / "bad.tar");
    EXPECT_NE(why.find(c.part), std::string::npos) << c.code << ": " << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  }
}

TEST(Archive, ANewlineInAMemberNameStaysOneLine) {
  test::TempDir t;
  craft(t.path() / "n.tar", "f('data/a\\nb'); sym('data/x\\ny', '/etc')");
  std::string why = refusal(t.path() / "n.tar");
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
}

TEST(Archive, ExtractCreatesNothingWhenAMemberIsRefused) {
  test::TempDir t;
  craft(t.path() / "bad.tar", "f('data/a'); f('data/b'); f('/tmp/oe-unit-absolute')");
  fs::create_directories(t.path() / "into");
  EXPECT_EQ(test::error_of([&] { core::archive::extract(t.path() / "bad.tar", t.path() / "into"); }).kind(),
            core::ErrorKind::invalid);
  EXPECT_TRUE(fs::is_empty(t.path() / "into"));
}

TEST(Archive, ExtractWritesRelativeToTheFolder) {
  test::TempDir t;
  craft(t.path() / "a.tar",
        "d('data'); f('data/a', b'hello'); f('data/sub/deep/b', b'b'); sym('data/l', 'a'); hard('data/h', 'data/a');"
        "f('data/n\\nl', b'nl'); f('series/series', b's'); i = tarfile.TarInfo('data/suid'); i.mode = 0o4755;"
        "i.size = 1; t.addfile(i, io.BytesIO(b'x'))");
  fs::create_directories(t.path() / "into");
  core::archive::extract(t.path() / "a.tar", t.path() / "into");
  fs::path in = t.path() / "into";
  EXPECT_EQ(test::read_file(in / "data/a"), "hello");
  EXPECT_EQ(test::read_file(in / "data/sub/deep/b"), "b");
  EXPECT_EQ(fs::read_symlink(in / "data/l"), "a");
  EXPECT_EQ(test::read_file(in / "data/h"), "hello");
  EXPECT_EQ(fs::hard_link_count(in / "data/h"), 1u);  // a copy, not a link
  EXPECT_EQ(test::read_file(in / "data/n\nl"), "nl");
  struct stat st {};
  ASSERT_EQ(::stat((in / "data/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  fs::create_directories(t.path() / "only");
  core::archive::extract(t.path() / "a.tar", t.path() / "only", std::string("series"));
  EXPECT_TRUE(fs::exists(t.path() / "only/series/series"));
  EXPECT_FALSE(fs::exists(t.path() / "only/data"));
}

TEST(Archive, WritesTreesByDescriptorsAndSkipsSpecials) {
  test::TempDir t;
  t.write("stage/metadata.json", "{}");
  t.write("stage/config/x.conf", "c");
  t.write("data/att/f", "file");
  t.write("data/db.sqlite", "live");
  t.write("data/a\nb", "nl");
  t.write("outside/secret", "s");
  fs::create_directory_symlink(t.path() / "outside", t.path() / "data/link");
  ASSERT_EQ(::mkfifo((t.path() / "data/fifo").c_str(), 0600), 0);
  fs::path out = t.path() / "a.tar.zst";
  fs::create_symlink("att/f", t.path() / "data/inner");
  core::archive::Source data{"data", t.path() / "data", {}, {"db.sqlite"}};
  data.inner_links_only = true;
  auto report = core::archive::write_tar_zst(out, {{"", t.path() / "stage", {"metadata.json", "config"}, {}}, data});
  EXPECT_EQ(std::set<std::string>(report.skipped.begin(), report.skipped.end()),
            (std::set<std::string>{"data/fifo", "data/link"}));
  std::set<std::string> names;
  for (const auto& m : core::archive::list_members(out)) names.insert(m.path);
  EXPECT_EQ(names, (std::set<std::string>{"metadata.json", "config", "config/x.conf", "data", "data/att", "data/att/f",
                                          "data/a\nb", "data/inner"}));
  EXPECT_EQ(core::archive::read_member(out, "data/att/f"), "file");
  // plain tar reads it too (restores of these archives by hand)
  auto r = core::run({"tar", "--zstd", "-tf", out.string()});
  EXPECT_NE(r.out.find("data/att/f"), std::string::npos);
}

TEST(Archive, ACorruptArchiveIsInvalid) {
  test::TempDir t;
  t.write("junk.tar.zst", std::string(1000, 'j'));
  EXPECT_EQ(test::error_of([&] { core::archive::list_members(t.path() / "junk.tar.zst"); }).kind(),
            core::ErrorKind::invalid);
}
