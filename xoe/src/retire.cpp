// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/retire.hpp"

#include <unistd.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "host.hpp"
#include "service_impl.hpp"
#include "xoe/backup.hpp"
#include "xoe/service.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

std::string sha256_of(const fs::path& file) {
  auto r = core::run({"sha256sum", "--", file.string()}, {.timeout = 2h});
  return r.out.substr(0, r.out.find(' '));
}

// Copies `from` to `to` through a hidden temporary file beside it, so `to` is whole or absent.
void copy_whole(const fs::path& from, const fs::path& to) {
  fs::path tmp = to.parent_path() / ("." + to.filename().string() + ".tmp");
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail(ErrorKind::io, "cannot copy {} into {}: {}", from.string(), to.parent_path().string(), ec.message());
  }
}

}  // namespace

Retired remove_with_archive(const Settings& s, const std::string& name, const fs::path& archive_dir) {
  core::validate_label(name, "service name");
  std::error_code ec;
  if (archive_dir.empty() || !fs::is_directory(archive_dir, ec))
    fail(ErrorKind::invalid, "--archive '{}': not a folder", core::escape_for_display(archive_dir.string()));
  if (::access(archive_dir.c_str(), W_OK) != 0)
    fail(ErrorKind::invalid, "--archive '{}': not writable", core::escape_for_display(archive_dir.string()));
  (void)detail::need_service(s, name);
  BackupResult b;
  try {
    b = backup_service(s, {name, std::nullopt});
  } catch (const core::Error& e) {
    if (e.kind() == ErrorKind::not_found || e.kind() == ErrorKind::conflict || e.kind() == ErrorKind::invalid) throw;
    fail(ErrorKind::external, "the final backup of {} failed, nothing removed: {}", name, e.what());
  }
  fs::path dir = fs::absolute(archive_dir).lexically_normal();
  Retired out{name, dir / b.archive.filename(), b.sha256, b.bytes};
  fs::path side = fs::path(out.archive.string() + ".sha256");
  copy_whole(b.archive, out.archive);
  try {
    copy_whole(fs::path(b.archive.string() + ".sha256"), side);
    copy_whole(fs::path(b.archive.string() + ".mac"), fs::path(out.archive.string() + ".mac"));
    if (sha256_of(out.archive) != b.sha256)
      fail(ErrorKind::io, "the copy {} differs from the backup {}", out.archive.string(), b.archive.string());
  } catch (...) {
    fs::remove(out.archive, ec);
    fs::remove(side, ec);
    fs::remove(fs::path(out.archive.string() + ".mac"), ec);
    throw;
  }
  core::logger("xoe")->info("final backup of {} kept as {}", name, out.archive.string());
  out.backups_kept = remove_service(s, name).backups_kept;
  return out;
}

}  // namespace xoe
