// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Students: each student of a group gets their own copy of a database, with
// their own login, served by the service the database is copied from (Tryton
// and Odoo serve several databases per process: http://HOST:PORT/DATABASE/),
// but for a production service's database: its copies are served by the
// production's training service NAME-training, whose config sends mail to
// the catcher, since the production's server sends real mail.
// The copies are neutralised as the recipe says (role "student") and get the
// student's user from the recipe's [students] section. The registry keeps one
// row per student database (table `students`), never a password: the
// credentials are returned once and written for the teacher, root 0600, to
// ROOT/var/lib/oe/xoe/services/SERVICE/students/GROUP.credentials.
// docs/xoe.md, "Students".

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xoe/settings.hpp"

namespace xoe {

inline constexpr int max_students = 200;

// `student01` .. `studentNN` (two digits at least). Throws invalid outside 1..max_students.
std::vector<std::string> numbered_students(int count);

// The logins of a list file: one per line; blank lines and lines starting
// with '#' are skipped, spaces around a login are ignored. Throws invalid
// "FILE:LINE: login 'X': ..." for a login that is not a label, a duplicate,
// more than max_students logins or none; invalid too when the file cannot
// be read.
std::vector<std::string> read_student_list(const std::filesystem::path& file);

// The database of a student's copy: PREFIX-GROUP-LOGIN plus `suffix`
// ("", "-prod", "-test"). Throws invalid when it is not a label (longer
// than PostgreSQL's 63 bytes).
std::string student_database(const std::string& prefix, const std::string& group, const std::string& login,
                             const std::string& suffix);

struct DisseminateRequest {
  std::string service;                           // whose database is the reference
  std::string group;                             // a label, new
  std::optional<int> students;                   // --students N: student01..studentNN
  std::optional<std::filesystem::path> list;     // --list FILE (exactly one of the two)
  friend bool operator==(const DisseminateRequest&, const DisseminateRequest&) = default;
};

struct StudentsCopyRequest {
  std::string service;  // a production service NAME-production (or any service); its test is NAME-test
  std::string group;    // an existing group (made by disseminate)
  friend bool operator==(const StudentsCopyRequest&, const StudentsCopyRequest&) = default;
};

// One student database.
struct StudentDatabase {
  std::string group;
  std::string login;
  std::string kind;      // "reference", "production" or "test": what it is a copy of
  std::string service;   // the service that serves it
  std::string database;
  std::string url;       // http://HOST:PORT/DATABASE/
  std::string state;     // "ready", or "creating" while its job is unfinished
  std::string created;
  std::string password;  // only in the result of the run that made it
  // The service whose database it copies: `service`, but for a production's
  // database, whose copies are served by its training service (a production
  // server sends real mail). Empty in rows read from the registry.
  std::string source;
  friend bool operator==(const StudentDatabase&, const StudentDatabase&) = default;
};

struct StudentsResult {
  std::string group;
  std::string service;                        // the source (disseminate) or the production (copy)
  std::optional<std::string> test;            // copy: the test service, when there is one
  std::vector<StudentDatabase> databases;     // with their passwords
  std::vector<std::filesystem::path> credentials;  // the teacher's files (root 0600)
  double seconds = 0;
  bool resumed = false;
  friend bool operator==(const StudentsResult&, const StudentsResult&) = default;
};

// Gives each student of a new group a copy of the service's database, as a
// journaled job ("students.disseminate": register, drain, clone, neutralise,
// release, record). PostgreSQL copies with CREATE DATABASE ... TEMPLATE: the
// service's server is stopped once for all the copies and started again
// (also by a failure, a rollback, or the next run after a crash); SQLite
// copies with the online backup API, the server running. A run killed at
// any point is resumed by the next disseminate of the same group and
// students, or rolled back by remove_students. Checks first, with no side
// effect: throws invalid (bad group, count, list, login, a database name too
// long, a recipe without [students]), not_found (no service), conflict (the
// service is not ready, the group exists, a database exists, an unfinished
// run with other students), precondition (a production service without a
// training service NAME-training of the same software, version, backend
// and series to serve its copies).
StudentsResult disseminate(const Settings& settings, const DisseminateRequest& request);

// Gives each student of an existing group a copy of the production's
// database (served by its training service NAME-training, database NAME-GROUP-LOGIN-prod
// where NAME is the service's name without "-production") and of its test
// service's database when NAME-test exists (served by it,
// NAME-GROUP-LOGIN-test), with one new password per student for both, as a
// journaled job ("students.copy"). Both sources are stopped for the copies
// (PostgreSQL). Throws as disseminate, and not_found for an unknown group,
// conflict when the group has such copies already.
StudentsResult copy_for_students(const Settings& settings, const StudentsCopyRequest& request);

struct StudentsRemoved {
  std::string group;
  std::vector<std::string> databases;  // dropped
  bool rolled_back = false;            // an unfinished disseminate or copy of the group was rolled back
  friend bool operator==(const StudentsRemoved&, const StudentsRemoved&) = default;
};

// Drops every database of the group (PostgreSQL: DROP DATABASE ... WITH
// (FORCE); SQLite: the file), its attachments, the teacher's credentials
// files and its registry rows, as a journaled job ("students.remove"); an
// unfinished disseminate or copy of the group is rolled back first. Throws
// not_found for an unknown group.
StudentsRemoved remove_students(const Settings& settings, const std::string& group);

// The student databases (of one group, or all), by group, login, kind; no
// password. Reads only.
std::vector<StudentDatabase> list_students(const Settings& settings, const std::optional<std::string>& group);

}  // namespace xoe
