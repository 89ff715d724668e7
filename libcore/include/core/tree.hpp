// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// File trees walked relative to directory descriptors, for trees that
// someone else (a customer's service user) can change while root works on
// them. No function here follows a symbolic link found in the tree or
// resolves a full path below the top: each folder is opened with
// openat(parent, name, O_DIRECTORY | O_NOFOLLOW), each entry is changed
// through a descriptor or a name relative to its folder's descriptor.
//
// The contract for the top: the caller trusts every component of `top`
// except the last one (its parents are not writable by the customer); the
// last one is opened with O_NOFOLLOW, so a symbolic link there is not
// followed either.
//
// Special files a customer planted: FIFOs and sockets are never opened;
// chown_tree changes their owner like a file's (lchown), remove_tree
// removes them, walk_tree reports them to the visitor, which must not open
// them. Device nodes are never opened, never chowned (that would hand the
// device to the customer): chown_tree refuses a tree that holds one
// (ErrorKind::precondition, naming it). A regular file with more than one
// hard link that the new owner does not own already is refused too: it
// may be a link to a file outside the tree.

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/fd.hpp"

namespace core {

// Opens the folder `path` (O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC). Throws
// not_found when it does not exist, io when it is a symbolic link or not a
// folder or cannot be opened.
Fd open_directory(const std::filesystem::path& path);

// Opens `relative` below the folder `dirfd` with openat2(2) and
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS: no
// component may be a symbolic link or leave the folder. O_CLOEXEC is added
// to `flags`. Returns an invalid Fd with errno set when it fails.
Fd open_beneath(int dirfd, const std::filesystem::path& relative, int flags, mode_t mode = 0);

// One entry of a walk: `parent` is the descriptor of its folder (valid
// during the call only), `name` its name there, `path` its path relative to
// the top ("a/b/c"), `st` its lstat.
struct TreeEntry {
  int parent;
  std::string_view name;
  std::string_view path;
  const struct stat& st;
};

// What the visitor of walk_tree answers for a folder.
enum class Descend { yes, no };

// Calls `visit` for every entry below the folder `top` (not for `top`
// itself), a folder before its content. Folders are opened with O_NOFOLLOW
// and entered only when `visit` answers Descend::yes; other answers are
// ignored for non-folders. Throws io when a folder cannot be read, or when
// the tree is deeper than 512 levels.
void walk_tree(int top, const std::function<Descend(const TreeEntry&)>& visit);

// Opens the regular file `name` of folder `parent` for reading without
// following a symbolic link and without opening anything else: O_PATH
// first, then, when it is a regular file, a reopen of that same inode.
// Returns an invalid Fd when the entry is not a regular file (any more) or
// cannot be opened; `st` receives its fstat.
Fd open_regular(int parent, const std::string& name, struct stat& st);

// lchown -R `top` to uid:gid by descriptors (see the header comment for
// devices and hard links). A missing `top` throws not_found.
void chown_tree(const std::filesystem::path& top, uid_t uid, gid_t gid);

// cp -a of the folder `from` into the new folder `to` (made here; its
// parent is trusted as `top` is above), both sides by descriptors:
// symbolic links are copied as links, never followed; regular files are
// read through open_regular; hard links become separate copies; FIFOs,
// sockets and devices are skipped, never opened. Everything made is owned
// by uid:gid (fchown on the new descriptors) with the source's permission
// bits, set-id bits dropped; `to` stays root's, mode 0700, until everything
// below it is made, so its new owner cannot enter it half-made. Throws
// io; a missing `from` throws not_found.
void copy_tree(const std::filesystem::path& from, const std::filesystem::path& to, uid_t uid, gid_t gid);

// rm -r `top` by descriptors: symbolic links are removed, never followed;
// a missing `top` is fine. Throws io when something cannot be removed.
void remove_tree(const std::filesystem::path& top);

}  // namespace core
