// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Replacing a service's database and data folder with prepared ones: what a
// restore (backup.cpp) and a database copy (copy.cpp) share. The job's first
// steps (the source's) prepare, under Settings::work_dir()/TARGET:
//   new-data/      the new data folder (attachments under the target
//                  database's name; SQLite: the file DATABASE.sqlite)
//   PostgreSQL:    the database new_database(TARGET)
//   code/          (a restore whose archive's series differs) the new code
// then add_replace_steps() appends: stop, swap (old ones kept as old-data/,
// old-code/ and old_database(TARGET)), password, neutralise, start, finish. Every step
// is idempotent; the undos put the old database, data and code back and start the
// service again.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/jobs.hpp"
#include "xoe/settings.hpp"

namespace xoe::detail {

struct Replacement {
  std::string target;                // the service
  std::string copy_of;               // what the new database is a copy of (the marker of a neutralised copy)
  std::vector<std::string> modules;  // the new database's modules (recorded at the end)
};

std::filesystem::path work_dir(const Settings& s, const std::string& target);
std::filesystem::path new_data(const Settings& s, const std::string& target);
std::string new_database(const std::string& target);
std::string old_database(const std::string& target);

// Creates an empty work folder (0700) for `target`, removing an old one.
void fresh_work_dir(const Settings& s, const std::string& target);
// Drops new_database(target) and removes the work folder: the undo of a prepare step.
void discard_prepared(const Settings& s, const std::string& target);

// Renames new-data/FROM to new-data/TO (attachments follow the database's name).
void rename_attachments(const Settings& s, const std::string& target, const std::string& from, const std::string& to);

void add_replace_steps(core::Job& job, const Settings& s, const Replacement& r);

// Runs `action`; when it throws, runs `undo` and rethrows: an action that
// fails half-way cleans up after itself, as core/jobs.hpp asks (the runner
// undoes done steps only). When `undo` throws too, throws core::StepHalfDone
// naming both errors and `what`: the job then stays failed with nothing
// undone (the half-done step may hold the only copy of the data), and the
// next run finishes it.
void run_or_undo(const std::function<void()>& action, const std::function<void()>& undo, std::string_view what);

// Neutralises the database of service `name` as its recipe says ({role},
// {copy_of}), and appends the recipe's neutralise.config to its config.
void neutralise(const Settings& s, const std::string& name, const std::string& copy_of);

// Refuses (conflict) when an unfinished job of another kind than `kind` works on `target`.
void refuse_other_jobs(core::JobRunner& jobs, const std::string& target, const std::string& kind);

}  // namespace xoe::detail
