// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Tar archives (any compression libarchive reads; zstd when written) that
// root reads, checks and unpacks without trusting their members, and writes
// from trees walked by descriptors (core/tree.hpp).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::archive {

enum class MemberType { file, directory, symlink, hardlink };

struct Member {
  std::string path;  // as stored, without a trailing '/'
  MemberType type;
  std::string link;  // a symbolic link's target, a hard link's member
  std::int64_t size = 0;
  mode_t mode = 0;  // permission bits
};

// Reads every header of `archive` and checks each member before anything
// is created: refused (ErrorKind::invalid, one line naming the member) are
// an empty or absolute name, a `..` component, a second member of the same
// name, a symbolic link whose target is absolute or leaves the member's
// top-level folder, a hard link to anything but an earlier file member,
// devices, FIFOs, sockets and any other type. A damaged archive is invalid
// too ("corrupt archive NAME: ..."). Returns the members in order.
std::vector<Member> list_members(const std::filesystem::path& archive);

// The content of the regular member `path`, at most `max_bytes` (invalid
// when larger or missing).
std::string read_member(const std::filesystem::path& archive, const std::string& path,
                        std::size_t max_bytes = std::size_t{16} << 20);

// Unpacks the members of `archive` (those equal to or under `only` when it
// is given) into the existing folder `into`, which should be empty and
// writable by the caller alone. The archive is checked first as
// list_members does. Everything is created relative to a descriptor of
// `into` (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS for parents,
// O_EXCL | O_NOFOLLOW for files, mkdirat, symlinkat): no member can write
// outside it or through a link. Hard links are unpacked as copies (a tree
// handed to a service user holds no link to a root file). Modes keep the
// permission bits without set-user-ID, set-group-ID and sticky; the
// caller's uid owns everything. Throws invalid for a refused member, io
// when writing fails.
void extract(const std::filesystem::path& archive, const std::filesystem::path& into,
             const std::optional<std::string>& only = std::nullopt);

// A tree to put into an archive: the entries `names` of folder `dir` (all
// of them when empty), stored under `prefix` ("" for the archive's top;
// "data" stores `dir` itself as member "data"). `exclude`: paths relative
// to `dir` that are left out.
struct Source {
  std::string prefix;
  std::filesystem::path dir;
  std::vector<std::string> names;
  std::set<std::string> exclude;
  // When set: a regular file with several hard links that this uid does not
  // own is left out (it may be a link to a file outside the tree).
  std::optional<uid_t> owner;
  // A symbolic link whose target is absolute or leaves the member's
  // top-level folder is left out (list_members would refuse the archive).
  bool inner_links_only = false;
};

struct WriteReport {
  // member paths of FIFOs, sockets, devices (never opened) and of what
  // `owner` and `inner_links_only` left out
  std::vector<std::string> skipped;
};

// Writes a zstd-compressed tar (pax) of `sources` to `out` (created 0600),
// walking each tree by descriptors: symbolic links are stored as links,
// never followed; regular files are opened through open_regular (never a
// FIFO or a device); special files are skipped and reported. Throws io.
WriteReport write_tar_zst(const std::filesystem::path& out, const std::vector<Source>& sources);

}  // namespace core::archive
