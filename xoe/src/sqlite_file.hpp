// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The SQLite database files of services (not xoe's registry): copied with
// SQLite's online backup API, never as files while a server may write them,
// and changed with plain SQL. Opened without core::sqlite's settings (WAL,
// foreign keys), so a server's file keeps its own journal mode.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace xoe::sqlite_file {

// Copies the database `from` into a new file `to` (replaced when present)
// with the online backup API: a consistent snapshot while a server runs.
// Throws external with SQLite's message.
void backup(const std::filesystem::path& from, const std::filesystem::path& to);

// Runs each statement in one transaction. Throws external.
void execute(const std::filesystem::path& file, const std::vector<std::string>& statements);

// The first column of the first row of `sql`, as text; nullopt when it is
// NULL or there is no row. The file is opened read-only and the connection
// set to query_only, so nothing can be changed; a lock held longer than
// `busy` fails. Throws not_found (no file), external.
std::optional<std::string> query_value(const std::filesystem::path& file, const std::string& sql,
                                       std::chrono::milliseconds busy = std::chrono::milliseconds{5000});

}  // namespace xoe::sqlite_file
