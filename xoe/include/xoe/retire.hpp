// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Removing a service with a final backup kept (`xoe service remove NAME
// --archive DIR`). docs/xoe.md.

#include <cstdint>
#include <filesystem>
#include <string>

#include "xoe/settings.hpp"

namespace xoe {

struct Retired {
  std::string name;
  std::filesystem::path archive;  // the final backup, in the archive folder
  std::string sha256;
  std::uintmax_t bytes = 0;
  std::size_t backups_kept = 0;  // its archives left in Settings::backups/NAME, the final one too (Removed)
  friend bool operator==(const Retired&, const Retired&) = default;
};

// Checks that `archive_dir` is an existing folder (invalid otherwise), backs
// the service up (backup_service), copies the archive and its .sha256 into
// `archive_dir` (checked against the sha256), then removes the service as
// remove_service does. When the backup or the copy fails nothing is
// removed: external (5) for the backup, io for the copy.
Retired remove_with_archive(const Settings& settings, const std::string& name,
                            const std::filesystem::path& archive_dir);

}  // namespace xoe
