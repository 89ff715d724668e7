// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Debian packages of another suite, fetched without touching the system's apt
// state: a private sources list, lists and cache under the .deb cache folder,
// apt-get download, dpkg -x. The mirror is read from this host's apt
// configuration, never written into the project.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace xoe::apt {

struct Mirror {
  std::string uri;        // e.g. http://deb.example.org/debian
  std::string signed_by;  // keyring file, may be empty
};

// The first Debian mirror of the apt configuration under `etc_apt`
// (sources.list, sources.list.d/*.list and *.sources in name order) that
// serves a plain release suite ("bookworm", not "bookworm-security") of
// type deb. nullopt when there is none.
std::optional<Mirror> mirror_from(const std::filesystem::path& etc_apt);

// Same, from the given files (each parsed by its extension) in order.
std::optional<Mirror> mirror_from_files(const std::vector<std::filesystem::path>& files);

// Downloads `packages` of `suite` (component main) into `cache`/debs/, keyed
// by file name (which carries the package version): a package already there
// is not downloaded again. apt lists are kept in `cache`/lists/SUITE and
// refreshed with apt-get update; when the mirror cannot be reached and lists
// are there, they are used as they are. Returns the .deb files, in the order
// of `packages`. Throws external when apt fails, precondition when no
// mirror is configured, conflict when another fetch of `suite` into the
// same cache holds its lock longer than `lock_wait` (locks.wait).
std::vector<std::filesystem::path> download(const std::filesystem::path& cache, const std::filesystem::path& etc_apt,
                                            const std::string& suite, const std::vector<std::string>& packages,
                                            std::chrono::milliseconds lock_wait);

// Unpacks `deb` into `dest` (dpkg -x) and returns "PACKAGE VERSION".
std::string unpack(const std::filesystem::path& deb, const std::filesystem::path& dest);

}  // namespace xoe::apt
