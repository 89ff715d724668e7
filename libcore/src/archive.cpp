// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/tree.hpp"
#include "core/validate.hpp"

namespace fs = std::filesystem;

namespace core::archive {

namespace {

std::string shown(std::string_view s) { return escape_for_display(s, 120); }

struct ReadCloser {
  void operator()(struct archive* a) const noexcept { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(struct archive* a) const noexcept { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};
using Reader = std::unique_ptr<struct archive, ReadCloser>;
using Writer = std::unique_ptr<struct archive, WriteCloser>;

// libarchive's message, with the system's reason when it has one ("Write
// error: No space left on device").
std::string what_went_wrong(struct archive* a) {
  const char* e = archive_error_string(a);
  std::string out = e ? e : "unknown error";
  int err = archive_errno(a);
  if (err > 0 && out.find(std::strerror(err)) == std::string::npos)
    out += std::string(": ") + std::strerror(err);
  return out;
}

Reader open_reader(const fs::path& file) {
  Reader a(archive_read_new());
  if (!a) fail(ErrorKind::internal, "archive_read_new failed");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    fail(ErrorKind::invalid, "corrupt archive {}: {}", shown(file.filename().string()), shown(what_went_wrong(a.get())));
  return a;
}

// `name` split into components, "." and empty ones dropped; empty when the
// name is refused (absolute, "..", nothing left).
std::vector<std::string> components(std::string_view name) {
  std::vector<std::string> out;
  if (name.empty() || name.front() == '/') return {};
  std::size_t at = 0;
  while (at <= name.size()) {
    std::size_t slash = name.find('/', at);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view c = name.substr(at, slash - at);
    if (c == "..") return {};
    if (!c.empty() && c != ".") out.emplace_back(c);
    at = slash + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

// Whether symbolic link `parts` (a member) with `target` stays within the
// member's top-level folder once resolved lexically.
bool link_stays_inside(const std::vector<std::string>& parts, std::string_view target) {
  if (parts.size() < 2 || target.empty() || target.front() == '/') return false;
  std::vector<std::string> at(parts.begin(), parts.end() - 1);
  std::size_t pos = 0;
  while (pos <= target.size()) {
    std::size_t slash = target.find('/', pos);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view c = target.substr(pos, slash - pos);
    if (c == "..") {
      if (at.size() <= 1) return false;
      at.pop_back();
    } else if (!c.empty() && c != ".") {
      at.emplace_back(c);
    }
    pos = slash + 1;
  }
  return !at.empty() && at.front() == parts.front();
}

// Checks one header against the members seen so far; returns the member.
Member check_entry(archive_entry* e, std::map<std::string, MemberType>& seen, const std::string& archive_name) {
  const char* raw = archive_entry_pathname(e);
  std::string name = raw ? raw : "";
  auto refuse = [&](std::string_view why) {
    fail(ErrorKind::invalid, "archive {}: member '{}' refused: {}", shown(archive_name), shown(name), why);
  };
  auto parts = components(name);
  if (parts.empty()) {
    if (!name.empty() && name.front() == '/') refuse("absolute path");
    if (name.find("..") != std::string::npos) refuse("'..' in its path");
    refuse("empty name");
  }
  Member m;
  m.path = joined(parts, parts.size());
  m.size = archive_entry_size(e);
  m.mode = static_cast<mode_t>(archive_entry_perm(e));
  if (const char* hl = archive_entry_hardlink(e)) {
    m.type = MemberType::hardlink;
    auto target = components(hl);
    m.link = joined(target, target.size());
    auto it = seen.find(m.link);
    if (target.empty() || it == seen.end() || it->second != MemberType::file)
      refuse(fmt::format("hard link to '{}', not an earlier file of the archive", shown(hl)));
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFREG: m.type = MemberType::file; break;
      case AE_IFDIR: m.type = MemberType::directory; break;
      case AE_IFLNK: {
        m.type = MemberType::symlink;
        const char* t = archive_entry_symlink(e);
        m.link = t ? t : "";
        if (!link_stays_inside(parts, m.link))
          refuse(fmt::format("symbolic link to '{}' leaves its folder", shown(m.link)));
        break;
      }
      case AE_IFCHR: refuse("character device"); break;
      case AE_IFBLK: refuse("block device"); break;
      case AE_IFIFO: refuse("FIFO"); break;
      case AE_IFSOCK: refuse("socket"); break;
      default: refuse("unknown type");
    }
  }
  auto [it, fresh] = seen.emplace(m.path, m.type == MemberType::hardlink ? MemberType::file : m.type);
  if (!fresh) {
    // GNU tar stores a folder once; anything else twice is an overwrite.
    if (!(it->second == MemberType::directory && m.type == MemberType::directory)) refuse("a second member of that name");
  }
  // A member below another that is not a folder would be written through it.
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto p = seen.find(joined(parts, i));
    if (p != seen.end() && p->second != MemberType::directory) refuse("below a member that is not a folder");
  }
  return m;
}

bool selected(const Member& m, const std::optional<std::string>& only) {
  return !only || m.path == *only || m.path.starts_with(*only + "/");
}

// The folder `parts[0..count)` below `root`, made (0700) where missing,
// each component opened with O_NOFOLLOW relative to the previous one.
Fd folder_of(int root, const std::vector<std::string>& parts, std::size_t count, bool create, const std::string& what) {
  Fd cur(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!cur) fail_errno(ErrorKind::io, "dup", errno);
  for (std::size_t i = 0; i < count; ++i) {
    const char* c = parts[i].c_str();
    Fd next(::openat(cur.get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), c, 0700) != 0 && errno != EEXIST) fail_errno(ErrorKind::io, "mkdir " + shown(what), errno);
      next = Fd(::openat(cur.get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!next) fail_errno(ErrorKind::io, "open folder of " + shown(what), errno);
    cur = std::move(next);
  }
  return cur;
}

void write_all(int fd, const char* data, std::size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::io, "write " + shown(what), errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

constexpr mode_t kept_bits = 0777;

void extract_one(struct archive* a, archive_entry* e, const Member& m, int root) {
  auto parts = components(m.path);
  Fd parent = folder_of(root, parts, parts.size() - 1, true, m.path);
  const char* name = parts.back().c_str();
  switch (m.type) {
    case MemberType::directory: {
      if (::mkdirat(parent.get(), name, 0700) != 0 && errno != EEXIST) fail_errno(ErrorKind::io, "mkdir " + shown(m.path), errno);
      Fd d(::openat(parent.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!d) fail_errno(ErrorKind::io, "open " + shown(m.path), errno);
      if (::fchmod(d.get(), (m.mode & kept_bits) | S_IRWXU) != 0) fail_errno(ErrorKind::io, "chmod " + shown(m.path), errno);
      return;
    }
    case MemberType::symlink:
      if (::symlinkat(m.link.c_str(), parent.get(), name) != 0) fail_errno(ErrorKind::io, "symlink " + shown(m.path), errno);
      return;
    case MemberType::file:
    case MemberType::hardlink: {
      Fd out(::openat(parent.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) fail_errno(ErrorKind::io, "create " + shown(m.path), errno);
      mode_t mode = m.mode;
      if (m.type == MemberType::hardlink) {
        // A copy of the earlier member, read back from this tree.
        auto src_parts = components(m.link);
        Fd src_dir = folder_of(root, src_parts, src_parts.size() - 1, false, m.link);
        struct stat st {};
        Fd in = open_regular(src_dir.get(), src_parts.back(), st);
        if (!in) fail(ErrorKind::invalid, "member '{}': its link target '{}' was not unpacked", shown(m.path), shown(m.link));
        mode = st.st_mode;
        char buf[1 << 16];
        for (;;) {
          ssize_t n = ::read(in.get(), buf, sizeof buf);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) fail_errno(ErrorKind::io, "read " + shown(m.link), errno);
          if (n == 0) break;
          write_all(out.get(), buf, static_cast<std::size_t>(n), m.path);
        }
      } else {
        const void* block;
        size_t size;
        la_int64_t offset;
        la_int64_t done = 0;
        for (;;) {
          int r = archive_read_data_block(a, &block, &size, &offset);
          if (r == ARCHIVE_EOF) break;
          if (r < ARCHIVE_WARN)
            fail(ErrorKind::invalid, "member '{}': {}", shown(m.path), shown(what_went_wrong(a)));
          if (offset != done && ::lseek(out.get(), offset, SEEK_SET) < 0)
            fail_errno(ErrorKind::io, "seek " + shown(m.path), errno);
          write_all(out.get(), static_cast<const char*>(block), size, m.path);
          done = offset + static_cast<la_int64_t>(size);
        }
        if (::ftruncate(out.get(), m.size) != 0) fail_errno(ErrorKind::io, "truncate " + shown(m.path), errno);
      }
      if (::fchmod(out.get(), mode & kept_bits) != 0) fail_errno(ErrorKind::io, "chmod " + shown(m.path), errno);
      if (archive_entry_mtime_is_set(e)) {
        timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        ::futimens(out.get(), times);
      }
      return;
    }
  }
}

// ----------------------------------------------------------------- writing

struct Writing {
  struct archive* a;
  WriteReport& report;
  std::optional<uid_t> owner;  // of the Source being written
  bool inner_links_only = false;
};

void put_header(Writing& w, const std::string& member, const struct stat& st, const std::string& link = {}) {
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_set_nlink(e.get(), 1);
  archive_entry_set_pathname(e.get(), member.c_str());
  if (S_ISLNK(st.st_mode)) {
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_symlink(e.get(), link.c_str());
  }
  if (S_ISDIR(st.st_mode)) archive_entry_set_size(e.get(), 0);
  if (archive_write_header(w.a, e.get()) < ARCHIVE_WARN)
    fail(ErrorKind::io, "archive {}: {}", shown(member), shown(what_went_wrong(w.a)));
}

// Stores entry `name` of folder `parent` (lstat `lst`) as `member`;
// `descend` tells the caller to walk a folder's content.
void put_entry(Writing& w, int parent, const std::string& name, const struct stat& lst, const std::string& member,
               bool& descend) {
  descend = false;
  if (S_ISDIR(lst.st_mode)) {
    put_header(w, member, lst);
    descend = true;
    return;
  }
  if (S_ISLNK(lst.st_mode)) {
    std::string target(static_cast<std::size_t>(lst.st_size) + 256, '\0');
    ssize_t n = ::readlinkat(parent, name.c_str(), target.data(), target.size());
    if (n < 0) {
      if (errno == ENOENT) return;
      if (errno == EINVAL) {  // no longer a link: swapped for something else since it was seen
        w.report.skipped.push_back(member);
        return;
      }
      fail_errno(ErrorKind::io, "readlink " + shown(member), errno);
    }
    target.resize(static_cast<std::size_t>(n));
    if (w.inner_links_only && !link_stays_inside(components(member), target)) {
      w.report.skipped.push_back(member);
      return;
    }
    put_header(w, member, lst, target);
    return;
  }
  if (!S_ISREG(lst.st_mode) || (w.owner && lst.st_nlink > 1 && lst.st_uid != *w.owner)) {
    w.report.skipped.push_back(member);
    return;
  }
  struct stat st {};
  Fd in = open_regular(parent, name, st);
  if (!in) {
    w.report.skipped.push_back(member);  // swapped for something else since the walk saw it
    return;
  }
  put_header(w, member, st);
  // Exactly the size in the header: a file that grows is cut, one that shrinks padded.
  std::int64_t left = st.st_size;
  char buf[1 << 16];
  while (left > 0) {
    ssize_t n = ::read(in.get(), buf, static_cast<std::size_t>(std::min<std::int64_t>(left, sizeof buf)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(ErrorKind::io, "read " + shown(member), errno);
    if (n == 0) {
      std::memset(buf, 0, sizeof buf);
      n = static_cast<ssize_t>(std::min<std::int64_t>(left, sizeof buf));
    }
    if (archive_write_data(w.a, buf, static_cast<std::size_t>(n)) < 0)
      fail(ErrorKind::io, "archive {}: {}", shown(member), shown(what_went_wrong(w.a)));
    left -= n;
  }
}

void put_tree(Writing& w, int dir, const std::string& member_prefix, const std::string& rel_prefix,
              const std::set<std::string>& exclude) {
  walk_tree(dir, [&](const TreeEntry& e) {
    std::string rel = rel_prefix.empty() ? std::string(e.path) : rel_prefix + "/" + std::string(e.path);
    if (exclude.contains(rel)) return Descend::no;
    std::string member = member_prefix.empty() ? std::string(e.path) : member_prefix + "/" + std::string(e.path);
    bool descend = false;
    put_entry(w, e.parent, std::string(e.name), e.st, member, descend);
    return descend ? Descend::yes : Descend::no;
  });
}

}  // namespace

std::vector<Member> list_members(const fs::path& file) {
  Reader a = open_reader(file);
  std::string archive_name = file.filename().string();
  std::map<std::string, MemberType> seen;
  std::vector<Member> out;
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    out.push_back(check_entry(e, seen, archive_name));
    if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) break;
  }
  if (r != ARCHIVE_EOF)
    fail(ErrorKind::invalid, "corrupt archive {}: {}", shown(archive_name), shown(what_went_wrong(a.get())));
  return out;
}

std::string read_member(const fs::path& file, const std::string& path, std::size_t max_bytes) {
  Reader a = open_reader(file);
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    auto parts = components(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    if (parts.empty() || joined(parts, parts.size()) != path || archive_entry_filetype(e) != AE_IFREG ||
        archive_entry_hardlink(e)) {
      archive_read_data_skip(a.get());
      continue;
    }
    if (archive_entry_size(e) > static_cast<la_int64_t>(max_bytes))
      fail(ErrorKind::invalid, "archive {}: member {} larger than {} bytes", shown(file.filename().string()), shown(path),
           max_bytes);
    std::string out(static_cast<std::size_t>(archive_entry_size(e)), '\0');
    la_ssize_t n = archive_read_data(a.get(), out.data(), out.size());
    if (n < 0 || static_cast<std::size_t>(n) != out.size())
      fail(ErrorKind::invalid, "corrupt archive {}: {}", shown(file.filename().string()), shown(what_went_wrong(a.get())));
    return out;
  }
  fail(ErrorKind::invalid, "archive {}: no member {}", shown(file.filename().string()), shown(path));
}

void extract(const fs::path& file, const fs::path& into, const std::optional<std::string>& only) {
  list_members(file);  // nothing is created before every member passed
  Fd root = open_directory(into);
  Reader a = open_reader(file);
  std::map<std::string, MemberType> seen;
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    Member m = check_entry(e, seen, file.filename().string());
    if (selected(m, only)) {
      extract_one(a.get(), e, m, root.get());
    } else {
      archive_read_data_skip(a.get());
    }
  }
  if (r != ARCHIVE_EOF)
    fail(ErrorKind::invalid, "corrupt archive {}: {}", shown(file.filename().string()), shown(what_went_wrong(a.get())));
}

WriteReport write_tar_zst(const fs::path& out, const std::vector<Source>& sources) {
  WriteReport report;
  Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) fail_errno(ErrorKind::io, "create " + shown(out.string()), errno);
  Writer a(archive_write_new());
  if (!a) fail(ErrorKind::internal, "archive_write_new failed");
  if (archive_write_add_filter_zstd(a.get()) != ARCHIVE_OK || archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK || archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK)
    fail(ErrorKind::io, "archive {}: {}", shown(out.string()), shown(what_went_wrong(a.get())));
  Writing w{a.get(), report, std::nullopt, false};
  for (const auto& src : sources) {
    w.owner = src.owner;
    w.inner_links_only = src.inner_links_only;
    Fd dir = open_directory(src.dir);
    if (src.names.empty()) {
      struct stat st {};
      if (::fstat(dir.get(), &st) != 0) fail_errno(ErrorKind::io, "stat " + shown(src.dir.string()), errno);
      if (!src.prefix.empty()) put_header(w, src.prefix, st);
      put_tree(w, dir.get(), src.prefix, "", src.exclude);
      continue;
    }
    for (const auto& name : src.names) {
      if (src.exclude.contains(name)) continue;
      struct stat st {};
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        fail_errno(ErrorKind::io, "stat " + shown((src.dir / name).string()), errno);
      std::string member = src.prefix.empty() ? name : src.prefix + "/" + name;
      bool descend = false;
      put_entry(w, dir.get(), name, st, member, descend);
      if (!descend) continue;
      Fd child(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) fail_errno(ErrorKind::io, "open " + shown((src.dir / name).string()), errno);
      put_tree(w, child.get(), member, name, src.exclude);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    fail(ErrorKind::io, "archive {}: {}", shown(out.string()), shown(what_went_wrong(a.get())));
  if (::fsync(fd.get()) != 0) fail_errno(ErrorKind::io, "fsync " + shown(out.string()), errno);
  return report;
}

}  // namespace core::archive
