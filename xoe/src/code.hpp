// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Each service's own code (docs/xoe.md, "Each service's code"):
// ROOT/var/lib/oe/xoe/services/NAME/code/ holds
//   tree/    the standard version's folder (Code::standard) hard linked, with
//            the service's series applied by libpoe (changed files are new files);
//   site/    (Debian-packaged software) the version's site folder with the
//            standard's package pointing at ../tree;
//   series/  the service's poe series, when it has one.
// Built aside and renamed into place, so the swap on an update is one rename.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "xoe/settings.hpp"
#include "xoe/software.hpp"

namespace xoe::detail {

std::filesystem::path code_dir(const Settings& s, const std::string& name);

// The paths a service runs: its own copy when it has one, else the version's.
Code service_code(const Settings& s, const std::string& name, const std::string& software, const std::string& version);
// The Code of a built folder `dir` (code/ of a service, or one being built) for `version`'s Code.
Code code_in(const Code& version, const std::filesystem::path& dir);

// The service's series folder, when it has one.
std::optional<std::filesystem::path> service_series(const Settings& s, const std::string& name);

// Copies the poe series in `from` (series, poe.json, the patches: read and
// checked first) into the new folder `to`.
void copy_series(const std::filesystem::path& from, const std::filesystem::path& to);

// True when the series folders `a` and `b` hold the same files with the same
// contents (nullopt: no series; two nullopt are the same).
bool same_series(const std::optional<std::filesystem::path>& a, const std::optional<std::filesystem::path>& b);

// Checks, without writing, that `series` is a readable poe series and that
// software/version is a standard in poe's store. Throws invalid, precondition.
void check_series_for(const Settings& s, const std::string& software, const std::string& version,
                      const std::filesystem::path& series);

// Builds tree/, site/ and series/ for software/version (+ series) into the
// folder `into` (replaced). Returns the number of files the series changed.
// Throws precondition (no standard), invalid (bad series), conflict (a patch
// does not apply to the standard).
std::size_t build_code(const Settings& s, const std::string& software, const std::string& version,
                       const std::optional<std::filesystem::path>& series, const std::filesystem::path& into);

}  // namespace xoe::detail
