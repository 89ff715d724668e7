// SPDX-License-Identifier: GPL-3.0-or-later
#include "tree_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/validate.hpp"

namespace poe {
namespace fs = std::filesystem;

namespace {

struct Dir {
  DIR* dir;
  explicit Dir(DIR* d) : dir(d) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (dir) ::closedir(dir);
  }
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads a whole file into `out` and returns its mode (type and permissions).
mode_t read_file(const std::string& path, std::string& out) {
  Fd file(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));  // never blocks on a FIFO
  if (file.fd < 0) core::fail_errno(core::ErrorKind::io, "open " + path, errno);
  struct stat st {};
  if (::fstat(file.fd, &st) < 0) core::fail_errno(core::ErrorKind::io, "stat " + path, errno);
  if (!S_ISREG(st.st_mode))
    core::fail(core::ErrorKind::io, "{} is no longer a regular file", core::escape_for_display(path, 200));
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  for (;;) {
    if (done == out.size()) out.resize(out.size() + 4096);  // the file grew
    ssize_t n = ::read(file.fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      core::fail_errno(core::ErrorKind::io, "read " + path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return st.st_mode;
}

void write_file(const fs::path& path, std::string_view data, mode_t mode) {
  Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (file.fd < 0) core::fail_errno(core::ErrorKind::io, "create " + path.string(), errno);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(file.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      core::fail_errno(core::ErrorKind::io, "write " + path.string(), errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(file.fd, mode) < 0) core::fail_errno(core::ErrorKind::io, "chmod " + path.string(), errno);
}

bool ignored(const std::string& name, const TreeOptions& options) {
  return std::any_of(options.ignore.begin(), options.ignore.end(),
                     [&](const std::string& pattern) { return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0; });
}

// An entry of a folder being read.
struct Entry {
  std::string name;
  git_filemode_t mode = GIT_FILEMODE_BLOB;
  git_oid id{};
  std::size_t folder = 0;  // the Scanner's folder when mode is GIT_FILEMODE_TREE
};

struct Folder {
  fs::path rel;
  std::string abs;  // the folder on disk, for the readers
  std::vector<Entry> entries;
  bool has_like = false;  // `like` has a folder at this path, with the id `like`
  git_oid like{};
};

// A regular file to read and hash.
struct Job {
  std::size_t folder = 0;
  std::size_t entry = 0;
  bool has_expected = false;  // `like` has a file at this path, with the id `expected`
  git_oid expected{};
};

// Git's order of tree entries: by name, a folder's name compared as if it
// ended with '/'.
bool tree_order(const Entry* a, const Entry* b) {
  const std::size_t n = std::min(a->name.size(), b->name.size());
  if (const int c = std::memcmp(a->name.data(), b->name.data(), n); c != 0) return c < 0;
  const auto next = [n](const Entry* e) -> unsigned {
    if (e->name.size() > n) return static_cast<unsigned char>(e->name[n]);
    return e->mode == GIT_FILEMODE_TREE ? '/' : 0;
  };
  return next(a) < next(b);
}

std::string_view mode_text(git_filemode_t mode) {
  switch (mode) {
    case GIT_FILEMODE_TREE: return "40000";
    case GIT_FILEMODE_BLOB_EXECUTABLE: return "100755";
    case GIT_FILEMODE_LINK: return "120000";
    default: return "100644";
  }
}

// Reads a folder in three passes: list every folder (one thread, checking
// names and links), read and hash the files (several threads), then write the
// trees bottom up. Trees are serialised here rather than with tree builders,
// which look every entry up in the object database again.
class Scanner {
 public:
  Scanner(git_repository* repo, const fs::path& top, const TreeOptions& options, ScanStats& stats, const git_tree* like)
      : top_(top), options_(options), stats_(stats), like_(like) {
    git_odb* odb = nullptr;
    git::check(git::call(git_repository_odb, &odb, repo), "open the object database");
    odb_.reset(odb);
  }

  git_oid run() {
    list({}, like_);
    hash_files();
    git_oid id{};
    build(0, id);
    return id;
  }

 private:
  // Records the folder `rel` (and, recursively, its folders) and returns its index.
  std::size_t list(const fs::path& rel, const git_tree* like) {
    const fs::path abs = rel.empty() ? top_ : top_ / rel;
    // readdir's own file types: no stat per entry (the reader's fstat gives
    // a file's executable bit).
    std::vector<std::pair<std::string, unsigned char>> found;
    {
      Dir dir(::opendir(abs.c_str()));
      if (!dir.dir) core::fail_errno(core::ErrorKind::io, "read folder " + core::escape_for_display(abs.string(), 200), errno);
      for (;;) {
        errno = 0;
        const dirent* d = ::readdir(dir.dir);
        if (!d) {
          if (errno != 0)
            core::fail_errno(core::ErrorKind::io, "read folder " + core::escape_for_display(abs.string(), 200), errno);
          break;
        }
        const std::string_view name(d->d_name);
        if (name == "." || name == "..") continue;
        unsigned char type = d->d_type;
        if (type == DT_UNKNOWN) {  // some file systems do not say
          struct stat st {};
          if (::fstatat(::dirfd(dir.dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            core::fail_errno(core::ErrorKind::io, "stat " + core::escape_for_display((rel / name).string(), 200), errno);
          type = S_ISLNK(st.st_mode) ? DT_LNK : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        found.emplace_back(name, type);
      }
    }
    std::error_code ec;

    const std::size_t index = folders_.size();
    folders_.emplace_back();
    folders_[index].rel = rel;
    folders_[index].abs = abs.string();
    if (like) {
      folders_[index].has_like = true;
      git_oid_cpy(&folders_[index].like, git_tree_id(like));
    }
    for (const auto& [name, type] : found) {
      const fs::path child = rel / name;
      if (!is_clean_name(name))
        core::fail(core::ErrorKind::invalid, "file name '{}' is not valid UTF-8 or holds a control character",
                   core::escape_for_display(child.string(), 200));
      if (ignored(name, options_)) continue;
      const git_tree_entry* like_entry = like ? git_tree_entry_byname(like, name.c_str()) : nullptr;
      Entry entry;
      entry.name = name;
      if (type == DT_LNK) {
        const fs::path target = fs::read_symlink(abs / name, ec);
        if (ec) core::fail(core::ErrorKind::io, "readlink {}: {}", child.string(), ec.message());
        const fs::path resolved = (rel / target).lexically_normal();
        if (target.is_absolute() || resolved.empty() || *resolved.begin() == "..")
          core::fail(core::ErrorKind::invalid, "symbolic link '{}' points outside the tree ({})",
                     core::escape_for_display(child.string(), 200), core::escape_for_display(target.string(), 200));
        const std::string text = target.string();
        git::check(git::call(git_odb_write, &entry.id, odb_.get(), text.data(), text.size(), GIT_OBJECT_BLOB),
                   "write a link");
        entry.mode = GIT_FILEMODE_LINK;
        ++stats_.files;
      } else if (type == DT_DIR) {
        git::Tree like_sub;
        if (like_entry && git_tree_entry_type(like_entry) == GIT_OBJECT_TREE) {
          git_tree* raw = nullptr;
          git::check(git::call(git_tree_lookup, &raw, git_tree_owner(like), git_tree_entry_id(like_entry)),
                     "read folder " + child.string());
          like_sub.reset(raw);
        }
        entry.mode = GIT_FILEMODE_TREE;
        entry.folder = list(child, like_sub.get());
      } else if (type == DT_REG) {
        Job job{index, folders_[index].entries.size()};
        if (like_entry && git_tree_entry_type(like_entry) == GIT_OBJECT_BLOB) {
          job.has_expected = true;
          git_oid_cpy(&job.expected, git_tree_entry_id(like_entry));
        }
        jobs_.push_back(job);
        ++stats_.files;
      } else {
        core::fail(core::ErrorKind::invalid, "'{}' is not a regular file, folder or symbolic link",
                   core::escape_for_display(child.string(), 200));
      }
      folders_[index].entries.push_back(std::move(entry));
    }
    return index;
  }

  // Reads and hashes every file on up to 4 threads (this one included); a
  // file that is not `like`'s is written unless the object database holds it.
  void hash_files() {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::atomic<std::uint64_t> bytes{0};
    std::mutex odb_mutex;  // libgit2's handles are not shared between threads
    std::mutex error_mutex;
    std::exception_ptr error;
    const auto work = [&]() noexcept {
      std::string buffer;
      std::uint64_t read = 0;
      try {
        for (std::size_t i = next++; i < jobs_.size() && !failed; i = next++) {
          const Job& job = jobs_[i];
          const Folder& folder = folders_[job.folder];
          Entry& entry = folders_[job.folder].entries[job.entry];
          const mode_t mode = read_file(folder.abs + "/" + entry.name, buffer);
          entry.mode = (mode & 0111) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
          read += buffer.size();
          const auto rel = [&] { return (folder.rel / entry.name).string(); };
          git::check(git::call(git_odb_hash, &entry.id, buffer.data(), buffer.size(), GIT_OBJECT_BLOB), "hash " + rel());
          if (job.has_expected && git_oid_equal(&entry.id, &job.expected)) continue;
          const std::lock_guard lock(odb_mutex);
          if (!git_odb_exists(odb_.get(), &entry.id))
            git::check(git::call(git_odb_write, &entry.id, odb_.get(), buffer.data(), buffer.size(), GIT_OBJECT_BLOB),
                       "write " + rel());
        }
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
      bytes += read;
    };
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t helpers = std::min({cores, std::size_t{4}, jobs_.size() / 64 + 1}) - 1;
    {
      std::vector<std::jthread> threads;
      for (std::size_t t = 0; t < helpers; ++t) threads.emplace_back(work);
      work();
    }
    if (error) std::rethrow_exception(error);
    stats_.bytes += bytes;
  }

  // Writes the tree of folder `index` (its folders first); false for a folder
  // that holds no file at all (the top one is written even then).
  bool build(std::size_t index, git_oid& out) {
    std::vector<const Entry*> kept;
    for (Entry& entry : folders_[index].entries) {
      if (entry.mode == GIT_FILEMODE_TREE && !build(entry.folder, entry.id)) continue;
      kept.push_back(&entry);
    }
    if (kept.empty() && index != 0) return false;
    std::sort(kept.begin(), kept.end(), tree_order);
    tree_buf_.clear();
    for (const Entry* entry : kept) {
      tree_buf_.append(mode_text(entry->mode));
      tree_buf_ += ' ';
      tree_buf_.append(entry->name);
      tree_buf_ += '\0';
      tree_buf_.append(reinterpret_cast<const char*>(entry->id.id), GIT_OID_RAWSZ);
    }
    const Folder& folder = folders_[index];
    const std::string what = "write tree " + (folder.rel.empty() ? std::string("/") : folder.rel.string());
    git::check(git::call(git_odb_hash, &out, tree_buf_.data(), tree_buf_.size(), GIT_OBJECT_TREE), what);
    if (folder.has_like && git_oid_equal(&out, &folder.like)) return true;
    if (!git_odb_exists(odb_.get(), &out))
      git::check(git::call(git_odb_write, &out, odb_.get(), tree_buf_.data(), tree_buf_.size(), GIT_OBJECT_TREE), what);
    return true;
  }

  fs::path top_;
  const TreeOptions& options_;
  ScanStats& stats_;
  const git_tree* like_;
  git::Odb odb_;
  std::vector<Folder> folders_;
  std::vector<Job> jobs_;
  std::string tree_buf_;
};

void write_tree_into(git_repository* repo, const git_tree* tree, const fs::path& dir) {
  const std::size_t count = git_tree_entrycount(tree);
  for (std::size_t i = 0; i < count; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    const fs::path target = dir / git_tree_entry_name(entry);
    const git_filemode_t mode = git_tree_entry_filemode(entry);
    if (mode == GIT_FILEMODE_TREE) {
      if (::mkdir(target.c_str(), 0755) < 0) core::fail_errno(core::ErrorKind::io, "mkdir " + target.string(), errno);
      git_tree* raw = nullptr;
      git::check(git::call(git_tree_lookup, &raw, repo, git_tree_entry_id(entry)), "read tree " + target.string());
      git::Tree sub(raw);
      write_tree_into(repo, sub.get(), target);
    } else if (mode == GIT_FILEMODE_LINK) {
      const std::string link = read_blob(repo, *git_tree_entry_id(entry));
      if (::symlink(link.c_str(), target.c_str()) < 0)
        core::fail_errno(core::ErrorKind::io, "symlink " + target.string(), errno);
    } else if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE) {
      write_file(target, read_blob(repo, *git_tree_entry_id(entry)), mode == GIT_FILEMODE_BLOB ? 0644 : 0755);
    } else {
      core::fail(core::ErrorKind::invalid, "unsupported entry {} (submodule)", target.string());
    }
  }
}

}  // namespace

bool is_clean_name(std::string_view name) noexcept {
  std::size_t i = 0;
  while (i < name.size()) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return false;
    std::size_t extra = 0;
    if (c < 0x80) extra = 0;
    else if ((c & 0xe0) == 0xc0 && c >= 0xc2) extra = 1;
    else if ((c & 0xf0) == 0xe0) extra = 2;
    else if ((c & 0xf8) == 0xf0 && c <= 0xf4) extra = 3;
    else return false;
    if (i + extra >= name.size() && extra > 0) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(name[i + k]) & 0xc0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

git_oid write_tree_from_folder(git_repository* repo, const fs::path& dir, const TreeOptions& options, ScanStats& stats,
                               const git_tree* like) {
  std::error_code ec;
  const auto status = fs::symlink_status(dir, ec);
  if (ec || !fs::is_directory(status))
    core::fail(core::ErrorKind::invalid, "'{}' is not a folder", core::escape_for_display(dir.string(), 200));
  return Scanner(repo, dir, options, stats, like).run();
}

void write_folder_from_tree(git_repository* repo, const git_tree* tree, const fs::path& dir) {
  write_tree_into(repo, tree, dir);
}

std::string read_blob(git_repository* repo, const git_oid& id) {
  if (git_oid_is_zero(&id)) return {};
  git_blob* raw = nullptr;
  git::check(git::call(git_blob_lookup, &raw, repo, &id), "read blob " + git::to_hex(id));
  git::Blob blob(raw);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<std::size_t>(git_blob_rawsize(blob.get())));
}

bool tree_entry_id(const git_tree* tree, const std::string& path, git_oid& id, git_filemode_t* mode) {
  git_tree_entry* raw = nullptr;
  const int rc = git::call(git_tree_entry_bypath, &raw, tree, path.c_str());
  if (rc == GIT_ENOTFOUND) return false;
  git::check(rc, "look up " + path);
  git::TreeEntry entry(raw);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return false;
  git_oid_cpy(&id, git_tree_entry_id(entry.get()));
  if (mode) *mode = git_tree_entry_filemode(entry.get());
  return true;
}

TreePaths::TreePaths(const git_tree* root) : root_(root) {}

const git_tree* TreePaths::folder(std::string_view dir) {
  if (dir.empty()) return root_;
  if (const auto it = folders_.find(dir); it != folders_.end()) return it->second.get();
  const auto slash = dir.rfind('/');
  const git_tree* parent = folder(slash == std::string_view::npos ? std::string_view() : dir.substr(0, slash));
  git::Tree tree;
  if (parent) {
    const std::string name(slash == std::string_view::npos ? dir : dir.substr(slash + 1));
    const git_tree_entry* entry = git_tree_entry_byname(parent, name.c_str());
    if (entry && git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
      git_tree* raw = nullptr;
      git::check(git::call(git_tree_lookup, &raw, git_tree_owner(parent), git_tree_entry_id(entry)),
                 "read folder " + std::string(dir));
      tree.reset(raw);
    }
  }
  return folders_.emplace(std::string(dir), std::move(tree)).first->second.get();
}

bool TreePaths::find(std::string_view path, git_oid& id, git_filemode_t* mode) {
  const auto slash = path.rfind('/');
  const git_tree* dir = folder(slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
  if (!dir) return false;
  const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  const git_tree_entry* entry = git_tree_entry_byname(dir, name.c_str());
  if (!entry || git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return false;
  git_oid_cpy(&id, git_tree_entry_id(entry));
  if (mode) *mode = git_tree_entry_filemode(entry);
  return true;
}

git::Tree subset_tree(git_repository* repo, TreePaths& full, const std::vector<std::string>& paths) {
  const std::set<std::string> unique(paths.begin(), paths.end());  // libgit2 refuses duplicates
  std::vector<git_tree_update> updates;
  updates.reserve(unique.size());
  for (const auto& path : unique) {
    git_tree_update update{};
    git_filemode_t mode = GIT_FILEMODE_BLOB;
    if (!full.find(path, update.id, &mode)) continue;
    update.action = GIT_TREE_UPDATE_UPSERT;
    update.filemode = mode;
    update.path = path.c_str();  // `unique` outlives the call
    updates.push_back(update);
  }
  git_oid id{};
  git::check(git::call(git_tree_create_updated, &id, repo, nullptr, updates.size(), updates.data()),
             fmt::format("build a tree of {} files", updates.size()));
  git_tree* raw = nullptr;
  git::check(git::call(git_tree_lookup, &raw, repo, &id), "read tree " + git::to_hex(id));
  return git::Tree(raw);
}

namespace {

git::Tree subtree(git_repository* repo, const git_tree_entry* entry, const std::string& path) {
  git_tree* raw = nullptr;
  git::check(git::call(git_tree_lookup, &raw, repo, git_tree_entry_id(entry)), "read folder " + path);
  return git::Tree(raw);
}

// Every file of a and b that differs; either may be null (a folder on one side only).
void collect_changes(git_repository* repo, const git_tree* a, const git_tree* b, const std::string& prefix,
                     std::vector<std::string>& out) {
  const auto side = [&](const git_tree_entry* entry, const std::string& path) {
    if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
      const git::Tree tree = subtree(repo, entry, path);
      collect_changes(repo, tree.get(), nullptr, path + "/", out);
    } else {
      out.push_back(path);
    }
  };
  const std::size_t count_a = a ? git_tree_entrycount(a) : 0;
  for (std::size_t i = 0; i < count_a; ++i) {
    const git_tree_entry* ea = git_tree_entry_byindex(a, i);
    const git_tree_entry* eb = b ? git_tree_entry_byname(b, git_tree_entry_name(ea)) : nullptr;
    if (eb && git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) &&
        git_tree_entry_filemode(ea) == git_tree_entry_filemode(eb))
      continue;
    const std::string path = prefix + git_tree_entry_name(ea);
    if (eb && git_tree_entry_type(ea) == GIT_OBJECT_TREE && git_tree_entry_type(eb) == GIT_OBJECT_TREE) {
      const git::Tree ta = subtree(repo, ea, path);
      const git::Tree tb = subtree(repo, eb, path);
      collect_changes(repo, ta.get(), tb.get(), path + "/", out);
      continue;
    }
    side(ea, path);
    if (eb) side(eb, path);
  }
  const std::size_t count_b = b ? git_tree_entrycount(b) : 0;
  for (std::size_t i = 0; i < count_b; ++i) {
    const git_tree_entry* eb = git_tree_entry_byindex(b, i);
    if (a && git_tree_entry_byname(a, git_tree_entry_name(eb))) continue;  // done above
    side(eb, prefix + git_tree_entry_name(eb));
  }
}

}  // namespace

std::vector<std::string> changed_paths(git_repository* repo, const git_tree* a, const git_tree* b) {
  std::vector<std::string> out;
  if (!git_oid_equal(git_tree_id(a), git_tree_id(b))) collect_changes(repo, a, b, "", out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace poe
