// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The SQLite database files of services (not xoe's registry): copied with
// SQLite's online backup API, never as files while a server may write them,
// and changed with plain SQL. Opened without core::sqlite's settings (WAL,
// foreign keys), so a server's file keeps its own journal mode.
//
// A service's database file and its side files (-journal, -wal, -shm) are
// in its data folder, which its user (the customer) changes at will: SQLite
// opens the side files by name, following a symbolic link there, and writes
// them. So none of these is ever opened by root: each operation runs in a
// child, `xoe __sqlite` (the xoe binary in a mode of its own, its request
// as JSON on stdin, its answer on stdout), as the service's user, whose
// rights alone then decide what it can reach (docs/architecture.md). Only
// the copy a backup makes is read by root, from a folder of that user's
// that root made for it, by descriptors, never following a link.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace xoe::sqlite_file {

// Copies the database `from`, of user `user`, into a new file `to` (replaced
// when present; mode 0600, root's) with the online backup API: a
// consistent snapshot while a server runs. The child writes its copy into a
// new folder of `user` below `scratch` (a folder of root's that `user` can
// enter, on the file system of `from`: the service's folder); root then
// copies that file into `to`, whose folder is opened without following a
// link. Throws not_found (no file), precondition (no such user), io,
// external with SQLite's message.
void backup(const std::string& user, const std::filesystem::path& from, const std::filesystem::path& to,
            const std::filesystem::path& scratch);

// Runs each statement in one transaction, as `user`. Throws not_found,
// precondition, external.
void execute(const std::string& user, const std::filesystem::path& file, const std::vector<std::string>& statements);

// The first column of the first row of `sql`, as text, read as `user`;
// nullopt when it is NULL or there is no row. The file is opened read-only
// and the connection set to query_only, so nothing can be changed; a lock
// held longer than `busy` fails. Throws not_found (no file), precondition,
// external.
std::optional<std::string> query_value(const std::string& user, const std::filesystem::path& file,
                                       const std::string& sql,
                                       std::chrono::milliseconds busy = std::chrono::milliseconds{5000});

// The argument that makes xoe the child above (main.cpp checks it first).
inline constexpr std::string_view child_command = "__sqlite";

// The child: reads its request on stdin, does it as the user it runs as,
// writes the answer on stdout; on failure one line "KIND<TAB>MESSAGE" on
// stderr (KIND the core::ErrorKind's number) and exit status 1. Returns the
// exit status.
int child_main();

}  // namespace xoe::sqlite_file
