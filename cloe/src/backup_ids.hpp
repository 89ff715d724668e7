// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The owners of a restored layer, moved from the backed-up vserver's id range
// to the target's (backup.cpp; docs/cloe.md, Backups). Private to libcloe;
// the unit tests use it.

#include <cstdint>
#include <filesystem>

namespace cloe::backup_ids {

// Shifts the owners of the tree at `top` (top included) from the range of
// 65536 ids at `from` to the one at `to`, by descriptors (core::walk_tree,
// fchownat with AT_SYMLINK_NOFOLLOW: no link is followed); set-id bits,
// which chown clears, are put back. Ids outside `from`'s range are left, so
// a second run changes nothing. Device nodes other than overlay whiteouts
// (0/0) are left as they are (logged). Throws io, not_found.
void shift(const std::filesystem::path& top, std::int64_t from, std::int64_t to);

}  // namespace cloe::backup_ids
