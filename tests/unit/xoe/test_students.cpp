// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/students.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "../core/tempdir.hpp"

namespace fs = std::filesystem;

namespace {

using test::TempDir;

// The message of the core::Error(invalid) `f` throws; fails the test otherwise.
template <typename F>
std::string invalid_message(F&& f) {
  try {
    f();
  } catch (const core::Error& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::invalid) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

}  // namespace

TEST(Students, NumberedStudents) {
  EXPECT_EQ(xoe::numbered_students(3), (std::vector<std::string>{"student01", "student02", "student03"}));
  auto many = xoe::numbered_students(200);
  ASSERT_EQ(many.size(), 200U);
  EXPECT_EQ(many.front(), "student001");
  EXPECT_EQ(many.back(), "student200");
  EXPECT_EQ(invalid_message([] { (void)xoe::numbered_students(0); }), "--students 0: between 1 and 200");
  EXPECT_EQ(invalid_message([] { (void)xoe::numbered_students(201); }), "--students 201: between 1 and 200");
}

TEST(Students, ListFileSkipsCommentsAndBlankLines) {
  TempDir t;
  fs::path f = t.path() / "class.txt";
  std::ofstream(f) << "# class 3B\n\nalice\n  bob  \r\n# late\ncarol-2\n";
  EXPECT_EQ(xoe::read_student_list(f), (std::vector<std::string>{"alice", "bob", "carol-2"}));
}

TEST(Students, BadListFilesNameTheLine) {
  TempDir t;
  fs::path f = t.path() / "class.txt";
  std::ofstream(f) << "alice\n\nBob\n";
  EXPECT_EQ(invalid_message([&] { (void)xoe::read_student_list(f); }),
            f.string() + ":3: login 'Bob': must be lowercase");
  std::ofstream(f) << "alice\nbob\nalice\n";
  EXPECT_EQ(invalid_message([&] { (void)xoe::read_student_list(f); }),
            f.string() + ":3: login 'alice' is listed twice");
  std::ofstream(f) << "# nobody\n\n";
  EXPECT_EQ(invalid_message([&] { (void)xoe::read_student_list(f); }), f.string() + ": no login in it");
  std::ofstream(f) << "a b\n";
  EXPECT_NE(invalid_message([&] { (void)xoe::read_student_list(f); }).find(":1: login 'a b'"), std::string::npos);
  {
    std::ofstream out(f);
    for (int i = 0; i < 201; ++i) out << "s" << i << "\n";
  }
  EXPECT_EQ(invalid_message([&] { (void)xoe::read_student_list(f); }), f.string() + ":201: more than 200 students");
  EXPECT_EQ(invalid_message([&] { (void)xoe::read_student_list(t.path() / "missing"); }),
            "--list " + (t.path() / "missing").string() + ": cannot read it");
  EXPECT_NE(invalid_message([&] { (void)xoe::read_student_list(t.path()); }).find("cannot read it"), std::string::npos);
}

TEST(Students, DatabaseNamesStayWithinPostgreSQLsLimit) {
  EXPECT_EQ(xoe::student_database("acme", "g1", "student01", ""), "acme-g1-student01");
  EXPECT_EQ(xoe::student_database("acme", "g1", "alice", "-prod"), "acme-g1-alice-prod");
  std::string service(40, 's'), group(10, 'g'), login(11, 'l');
  EXPECT_EQ(xoe::student_database(service, group, login, "").size(), 63U);
  auto message = invalid_message([&] { (void)xoe::student_database(service, group, login, "-test"); });
  EXPECT_NE(message.find("(68 characters)"), std::string::npos) << message;
}
