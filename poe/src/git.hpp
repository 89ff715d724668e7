// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private to libpoe: owners for libgit2's handles and the conversion of its
// errors into core::Error. Every handle is owned by a std::unique_ptr from
// the line that creates it; every call whose failure is reported runs through
// call() (which clears the thread's stale error first) and is checked right
// after it with check(), which adds the context and that call's own message.

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"

namespace poe::git {

// Initialises libgit2 once per process (thread-safe, never shut down).
void init();

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* handle) const noexcept { Free(handle); }
};

using Repository = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using Odb = std::unique_ptr<git_odb, Deleter<git_odb, git_odb_free>>;
using Tree = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using TreeEntry = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry, git_tree_entry_free>>;
using TreeBuilder = std::unique_ptr<git_treebuilder, Deleter<git_treebuilder, git_treebuilder_free>>;
using Blob = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;
using Commit = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using Object = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;
using Reference = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using Signature = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using Diff = std::unique_ptr<git_diff, Deleter<git_diff, git_diff_free>>;
using Patch = std::unique_ptr<git_patch, Deleter<git_patch, git_patch_free>>;
using Index = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;
using OdbObject = std::unique_ptr<git_odb_object, Deleter<git_odb_object, git_odb_object_free>>;

// A git_buf owned for its scope.
struct Buf {
  git_buf buf = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string_view view() const noexcept { return {buf.ptr ? buf.ptr : "", buf.size}; }
};

// A git_merge_file_result owned for its scope.
struct MergeFileResult {
  git_merge_file_result result{};
  MergeFileResult() = default;
  MergeFileResult(const MergeFileResult&) = delete;
  MergeFileResult& operator=(const MergeFileResult&) = delete;
  ~MergeFileResult() { git_merge_file_result_free(&result); }
};

// Runs the libgit2 function `fn(args...)` with the thread's last error cleared
// first, so that when it fails git_error_last() holds its own error, never one
// left by an earlier call whose failure was expected and handled (a lookup that
// found nothing, a probe whose result is ignored). Use it for every call whose
// failure is reported: git::check(git::call(git_tree_lookup, &raw, repo, &id), "read tree").
template <typename Fn, typename... Args>
int call(Fn fn, Args&&... args) {
  git_error_clear();
  return fn(std::forward<Args>(args)...);
}

// What went wrong in the last failing libgit2 call that returned `rc`: its
// message, or the code when libgit2 set no error.
std::string last_error(int rc = -1);

// Throws core::Error(kind, "CONTEXT: LIBGIT2 MESSAGE") when rc < 0.
inline void check(int rc, std::string_view context, core::ErrorKind kind = core::ErrorKind::external) {
  if (rc < 0) core::fail(kind, "{}: {}", context, last_error(rc));
}

std::string to_hex(const git_oid& oid);
git_oid from_hex(std::string_view hex);  // throws invalid on a malformed id

}  // namespace poe::git
