// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/validate.hpp"

#include "core/error.hpp"

#include <stdlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tempdir.hpp"

namespace {

using namespace std::string_view_literals;
using core::ErrorKind;

// Values every check must refuse: shell metacharacters, whitespace, control
// characters, unicode look-alikes, and the empty string.
const std::vector<std::string_view> hostile = {
    ""sv,        " "sv,        "a b"sv,        "a;b"sv,       "a|b"sv,       "a&b"sv,
    "$(id)"sv,   "`id`"sv,     "a'b"sv,        "a\"b"sv,      "a\\b"sv,      "a\nb"sv,
    "a\rb"sv,    "a\tb"sv,     "a\0b"sv,       "\xc3\xa9t\xc3\xa9"sv /* été */,
    "\xd0\xb0pple"sv /* Cyrillic a */,          "a\xe2\x80\xae" "b"sv /* right-to-left override */,
};

// Checks both forms of a validator against one value.
template <typename Is, typename Validate>
void expect_valid(std::string_view value, Is is, Validate validate) {
  SCOPED_TRACE(core::escape_for_display(value));
  EXPECT_TRUE(is(value));
  EXPECT_NO_THROW(validate(value, "input"));
}

template <typename Is, typename Validate>
void expect_invalid(std::string_view value, Is is, Validate validate) {
  SCOPED_TRACE(core::escape_for_display(value));
  EXPECT_FALSE(is(value));
  try {
    validate(value, "input");
    ADD_FAILURE() << "accepted";
  } catch (const core::Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::invalid);
    const std::string message = error.what();
    EXPECT_TRUE(message.starts_with("input '")) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

template <typename Is, typename Validate>
void check_table(const std::vector<std::string_view>& valid, const std::vector<std::string_view>& invalid,
                 Is is, Validate validate) {
  for (auto value : valid) expect_valid(value, is, validate);
  for (auto value : invalid) expect_invalid(value, is, validate);
  for (auto value : hostile) expect_invalid(value, is, validate);
}

std::string message_of(auto body) {
  try {
    body();
  } catch (const core::Error& error) {
    return error.what();
  }
  return "(no error)";
}

using test::TempDir;

TEST(ValidateDisplay, EscapesAndTruncates) {
  EXPECT_EQ(core::escape_for_display("plain"), "plain");
  EXPECT_EQ(core::escape_for_display("a\nb\tc\r\\"), "a\\nb\\tc\\r\\\\");
  EXPECT_EQ(core::escape_for_display("nul\0x"sv), "nul\\0x");
  EXPECT_EQ(core::escape_for_display("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(core::escape_for_display("\xc3\xa9"), "\\xc3\\xa9");
  EXPECT_EQ(core::escape_for_display(std::string(100, 'x')), std::string(60, 'x') + "...");
  EXPECT_EQ(core::escape_for_display(std::string(60, 'x')), std::string(60, 'x'));
  // An escape is never cut in half.
  EXPECT_EQ(core::escape_for_display(std::string(59, 'x') + "\n"), std::string(59, 'x') + "...");
  EXPECT_EQ(core::escape_for_display("abcdef", 3), "abc...");
}

TEST(ValidateLabel, Table) {
  check_table({"a", "acme", "acme-1", "0", "123", "a-b-c", "x1", std::string_view("a23456789012345678901234567890"
                                                                                  "123456789012345678901234567890123")},
              {"-a", "a-", "-", "Acme", "ACME", "a_b", "a.b", "a/b", "a@b", "a+b", "a*", "~",
               std::string_view("a234567890123456789012345678901234567890123456789012345678901234")},
              core::is_label, core::validate_label);
}

TEST(ValidateLabel, Messages) {
  EXPECT_EQ(message_of([] { core::validate_label("Acme", "customer name"); }),
            "customer name 'Acme': must be lowercase");
  EXPECT_EQ(message_of([] { core::validate_label("a;rm -rf /", "customer name"); }),
            "customer name 'a;rm -rf /': may contain only lowercase letters a-z, digits and '-'");
  EXPECT_EQ(message_of([] { core::validate_label("", "customer name"); }), "customer name '': must not be empty");
  EXPECT_EQ(message_of([] { core::validate_label("-x", "name"); }), "name '-x': must not start or end with '-'");
  EXPECT_EQ(message_of([] { core::validate_label(std::string(70, 'a'), "name"); }),
            "name '" + std::string(60, 'a') + "...': must be at most 63 characters");
  EXPECT_EQ(message_of([] { core::validate_label("a\nb", "name"); }),
            "name 'a\\nb': may contain only lowercase letters a-z, digits and '-'");
}

TEST(ValidateFqdn, Table) {
  const std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                              std::string(61, 'd');  // 253
  const std::string too_long = longest + "d";
  const std::string long_label = std::string(64, 'a') + ".com";
  check_table({"example.com", "a.b", "mail.example.co.uk", "xn--bcher-kva.example", "1.example.com", "a-b.c-d.org",
               "host.example.c0m", longest},
              {"example", "example.com.", ".example.com", "example..com", "Example.com", "exa_mple.com",
               "-a.example.com", "a-.example.com", "10.0.0.1", "example.123", "*.example.com", "a..", ".",
               "example.com/x", "user@example.com", "example.com:80", too_long, long_label},
              core::is_fqdn, core::validate_fqdn);
}

TEST(ValidateFqdn, Messages) {
  EXPECT_EQ(message_of([] { core::validate_fqdn("example.com.", "host"); }),
            "host 'example.com.': must not end with '.'");
  EXPECT_EQ(message_of([] { core::validate_fqdn("localhost", "host"); }),
            "host 'localhost': must have at least two labels, like example.com");
  EXPECT_EQ(message_of([] { core::validate_fqdn("10.0.0.1", "host"); }),
            "host '10.0.0.1': must not end with an all-numeric label");
}

TEST(ValidateEmail, Table) {
  const std::string local64 = std::string(64, 'a') + "@example.com";
  const std::string local65 = std::string(65, 'a') + "@example.com";
  const std::string total255 = std::string(64, 'a') + "@" + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                               std::string(62, 'd');  // 255
  check_table({"user@example.com", "first.last@example.com", "User.Name@Example.COM", "a+tag@mail.example.org",
               "o'brien@example.ie", "x@a.bc", "!#$%&'*+/=?^_`{|}~-@example.com", "1234@example.com", local64},
              {"user", "@example.com", "user@", "user@@example.com", "a@b@example.com", "user@localhost",
               ".user@example.com", "user.@example.com", "us..er@example.com", "user name@example.com",
               "user@exa mple.com", "user;rm@example.com", "user(x)@example.com", "\"quoted\"@example.com",
               "user@example.com.", "user@-example.com", "user@example.com\n", "us\\er@example.com",
               "user@[127.0.0.1]", "user@example.com>", "<user@example.com", "user,x@example.com",
               "j\xc3\xb6rg@example.com", local65, total255},
              core::is_email, core::validate_email);
}

TEST(ValidateEmail, Messages) {
  EXPECT_EQ(message_of([] { core::validate_email("user@localhost", "--email"); }),
            "--email 'user@localhost': domain after '@' must have at least two labels, like example.com");
  EXPECT_EQ(message_of([] { core::validate_email("a b@example.com", "--email"); }),
            "--email 'a b@example.com': the part before '@' contains a character not allowed in an e-mail address");
}

TEST(ValidateIsoDate, Table) {
  check_table({"2024-02-29", "2000-02-29", "2023-12-31", "0001-01-01", "9999-12-31", "1970-01-01"},
              {"2023-02-29", "1900-02-29", "2023-13-01", "2023-00-10", "2023-01-00", "2023-04-31", "2023-1-01",
               "23-01-01", "2023/01/01", "2023-01-01T00:00", "2023-01-01 ", " 2023-01-01", "0000-01-01",
               "+023-01-01", "2023-0a-01", "20230101", "2023-01-001"},
              core::is_iso_date, core::validate_iso_date);
}

TEST(ValidateIsoDate, Parses) {
  using namespace std::chrono;
  EXPECT_EQ(core::parse_iso_date("2024-02-29", "date"), year_month_day(year(2024), February, day(29)));
  EXPECT_EQ(message_of([] { core::parse_iso_date("2023-02-29", "--until"); }),
            "--until '2023-02-29': is not a day of the calendar");
  EXPECT_EQ(message_of([] { core::parse_iso_date("29.02.2024", "--until"); }),
            "--until '29.02.2024': must be a date of the form YYYY-MM-DD");
}

TEST(ValidateVersion, Table) {
  check_table({"7", "7.0", "6.0.29", "16.0", "0", "0.0", "1.2.3.4", "10.20.30.40", "0.1", "123456789"},
              {".", "7.", ".7", "7..0", "07", "7.00", "7.01", "1.2.3.4.5", "v7.0", "7.0-rc1", "7.0a", "-1",
               "1234567890", "7,0", "7.0 ", "+7"},
              core::is_version, core::validate_version);
}

TEST(ValidateSoftwareRef, Table) {
  check_table({"tryton/7.0", "odoo/16.0", "postgresql/16", "nginx/1.24.0", "a/0"},
              {"tryton", "tryton/", "/7.0", "tryton/7.0/x", "Tryton/7.0", "tryton/v7", "try ton/7.0",
               "tryton/7.0;id", "tryton//7.0", "-tryton/7.0", "tryton/07.0"},
              core::is_software_ref, core::validate_software_ref);
}

TEST(ValidateSoftwareRef, Parses) {
  EXPECT_EQ(core::parse_software_ref("tryton/7.0", "software"), (core::SoftwareRef{"tryton", "7.0"}));
  EXPECT_EQ(message_of([] { core::parse_software_ref("tryton/7.01", "--software"); }),
            "--software 'tryton/7.01': version must not have a number with a leading zero");
  EXPECT_EQ(message_of([] { core::parse_software_ref("Tryton/7.0", "--software"); }),
            "--software 'Tryton/7.0': software name must be lowercase");
}

TEST(ValidateSafeName, Table) {
  // Spaces and shell characters are fine in a file name: it never meets a
  // shell. Separators, control characters and option look-alikes are not.
  const std::vector<std::string_view> valid = {"backup.dump", ".hidden", "a..b", "with space", "x-1_2.tar.gz",
                                               "été", "a;b", "..."};
  const std::string longest(255, 'n');
  const std::string too_long(256, 'n');
  const std::vector<std::string_view> invalid = {"", ".", "..", "a/b", "/", "/etc/passwd", "../x", "a\nb",
                                                 "a\rb", "a\tb", "nul\0x"sv, "\x7f", "-rf", "--help", too_long};
  for (auto value : valid) expect_valid(value, core::is_safe_name, core::validate_safe_name);
  expect_valid(longest, core::is_safe_name, core::validate_safe_name);
  for (auto value : invalid) expect_invalid(value, core::is_safe_name, core::validate_safe_name);
}

TEST(ValidatePort, Table) {
  check_table({"1", "22", "80", "443", "5432", "8069", "65535"},
              {"0", "00", "080", "65536", "99999", "100000", "-1", "+80", " 80", "80 ", "8o", "0x50", "1e3",
               "4294967297", "18446744073709551617"},
              core::is_port, core::validate_port);
  EXPECT_EQ(core::parse_port("65535", "port"), 65535);
  EXPECT_EQ(core::parse_port("1", "port"), 1);
  EXPECT_EQ(message_of([] { core::parse_port("65536", "--port"); }),
            "--port '65536': must be a number from 1 to 65535");
}

TEST(ValidateAssignment, Parses) {
  EXPECT_EQ(core::parse_assignment("key=value", "--set"), (core::Assignment{"key", "value"}));
  EXPECT_EQ(core::parse_assignment("db.max-conn_2=a=b c", "--set"), (core::Assignment{"db.max-conn_2", "a=b c"}));
  EXPECT_EQ(core::parse_assignment("empty=", "--set"), (core::Assignment{"empty", ""}));
  EXPECT_EQ(core::parse_assignment("x=$(id);`id`", "--set"), (core::Assignment{"x", "$(id);`id`"}));
  for (auto bad : {"=value"sv, "key"sv, "Key=v"sv, "1key=v"sv, "_key=v"sv, "ke y=v"sv, "key;=v"sv, "k\xc3\xa9=v"sv,
                   "key=a\nb"sv, "key=a\rb"sv, "key=a\0b"sv, ""sv, "key$(id)=v"sv}) {
    SCOPED_TRACE(core::escape_for_display(bad));
    EXPECT_FALSE(core::is_assignment(bad));
    try {
      core::parse_assignment(bad, "--set");
      ADD_FAILURE() << "accepted";
    } catch (const core::Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid);
    }
  }
  EXPECT_TRUE(core::is_assignment(std::string(128, 'k') + "=v"));
  EXPECT_FALSE(core::is_assignment(std::string(129, 'k') + "=v"));
}

TEST(ValidateAssignment, MessageNeverShowsTheValue) {
  EXPECT_EQ(message_of([] { core::parse_assignment("db.password=hunter2\n", "--set"); }),
            "--set 'db.password=': value must not contain NUL or line breaks");
  EXPECT_EQ(message_of([] { core::parse_assignment("Password=hunter2", "--set"); }),
            "--set 'Password=': key must start with a lowercase letter a-z");
  EXPECT_EQ(message_of([] { core::parse_assignment("no-equals-sign", "--set"); }),
            "--set '': must have the form KEY=VALUE");
}

class ValidateResolveInside : public ::testing::Test {
 protected:
  void SetUp() override {
    base = std::filesystem::canonical(dir.path()) / "base";
    std::filesystem::create_directories(base / "sub" / "deeper");
    std::filesystem::create_directories(dir.path() / "outside");
    std::ofstream(base / "sub" / "file") << "x";
    std::filesystem::create_symlink(dir.path() / "outside", base / "escape");      // absolute, out
    std::filesystem::create_symlink("../outside", base / "escape-relative");       // relative, out
    std::filesystem::create_symlink("sub/deeper", base / "inner");                 // stays in
    std::filesystem::create_symlink(".", base / "self");                           // the base itself
    std::filesystem::create_symlink("loop-b", base / "loop-a");
    std::filesystem::create_symlink("loop-a", base / "loop-b");
  }

  std::string rejection(std::string_view relative) {
    try {
      core::resolve_inside(base, relative, "path");
    } catch (const core::Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::invalid) << error.what();
      return error.what();
    }
    return "(accepted)";
  }

  TempDir dir;
  std::filesystem::path base;
};

TEST_F(ValidateResolveInside, AcceptsPathsInside) {
  EXPECT_EQ(core::resolve_inside(base, "sub/file", "path"), base / "sub" / "file");
  EXPECT_EQ(core::resolve_inside(base, "sub", "path"), base / "sub");
  EXPECT_EQ(core::resolve_inside(base, "./sub//file", "path"), base / "sub" / "file");
  EXPECT_EQ(core::resolve_inside(base, "sub/../sub/file", "path"), base / "sub" / "file");
  EXPECT_EQ(core::resolve_inside(base, "new-file", "path"), base / "new-file");  // need not exist
  EXPECT_EQ(core::resolve_inside(base, "new/dir/file", "path"), base / "new" / "dir" / "file");
  EXPECT_EQ(core::resolve_inside(base, "inner/x", "path"), base / "sub" / "deeper" / "x");
  EXPECT_EQ(core::resolve_inside(base, "with space;$(id)", "path"), base / "with space;$(id)");
  // A base given with "..", a trailing slash or through a symlink is canonicalized.
  EXPECT_EQ(core::resolve_inside(base / "sub" / ".." / "", "sub", "path"), base / "sub");
}

TEST_F(ValidateResolveInside, RejectsLexicalEscapes) {
  EXPECT_EQ(rejection(""), "path '': must not be empty");
  EXPECT_EQ(rejection("/etc/passwd"), "path '/etc/passwd': must be a relative path");
  EXPECT_EQ(rejection(".."), "path '..': must not climb above the base directory with '..'");
  EXPECT_EQ(rejection("../base/sub"), "path '../base/sub': must not climb above the base directory with '..'");
  EXPECT_EQ(rejection("sub/../../x"), "path 'sub/../../x': must not climb above the base directory with '..'");
  EXPECT_EQ(rejection("a\nb"), "path 'a\\nb': must not contain control characters");
  EXPECT_EQ(rejection("a\0b"sv), "path 'a\\0b': must not contain control characters");
  EXPECT_EQ(rejection("."), "path '.': must name something inside the base directory, not the directory itself");
  EXPECT_EQ(rejection("sub/.."), "path 'sub/..': must name something inside the base directory, not the directory itself");
}

TEST_F(ValidateResolveInside, RejectsSymlinkEscapes) {
  EXPECT_EQ(rejection("escape"), "path 'escape': leaves the base directory through a symbolic link");
  EXPECT_EQ(rejection("escape/secret"), "path 'escape/secret': leaves the base directory through a symbolic link");
  EXPECT_EQ(rejection("escape-relative/x"),
            "path 'escape-relative/x': leaves the base directory through a symbolic link");
  // "inner/.." is base/sub physically, fine; "inner/../../.." climbs out lexically already.
  EXPECT_EQ(core::resolve_inside(base, "inner/../x", "path"), base / "sub" / "x");
  EXPECT_EQ(rejection("self"), "path 'self': resolves to the base directory itself");
  EXPECT_EQ(rejection("loop-a/x"), "path 'loop-a/x': runs into a loop of symbolic links");
}

TEST_F(ValidateResolveInside, SiblingWithCommonPrefixIsOutside) {
  // /tmp/x/base-evil starts with the string "/tmp/x/base" but is not inside it.
  std::filesystem::create_directories(dir.path() / "base-evil");
  std::filesystem::create_symlink(dir.path() / "base-evil", base / "evil");
  EXPECT_EQ(rejection("evil/x"), "path 'evil/x': leaves the base directory through a symbolic link");
}

TEST_F(ValidateResolveInside, MissingBase) {
  try {
    core::resolve_inside(dir.path() / "missing", "x", "path");
    ADD_FAILURE() << "accepted";
  } catch (const core::Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::not_found) << error.what();
  }
}

}  // namespace
