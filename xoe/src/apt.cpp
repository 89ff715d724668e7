// SPDX-License-Identifier: GPL-3.0-or-later
#include "apt.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "host.hpp"

namespace fs = std::filesystem;

namespace xoe::apt {

using core::ErrorKind;
using core::fail;

namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A plain release suite: lower-case letters only ("bookworm"), not
// "bookworm-updates" nor "bookworm-security".
bool plain_suite(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

bool usable(const std::string& uri) {
  return uri.find("security") == std::string::npos &&
         (uri.starts_with("http://") || uri.starts_with("https://") || uri.starts_with("file:/"));
}

std::optional<Mirror> from_deb822(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::string types, uris, suites, signed_by;
  auto flush = [&]() -> std::optional<Mirror> {
    std::optional<Mirror> m;
    auto t = words(types), u = words(uris), su = words(suites);
    bool deb = std::find(t.begin(), t.end(), "deb") != t.end();
    bool plain = std::any_of(su.begin(), su.end(), plain_suite);
    if (deb && plain && !u.empty() && usable(u[0])) m = Mirror{u[0], signed_by};
    types.clear(), uris.clear(), suites.clear(), signed_by.clear();
    return m;
  };
  auto value = [](const std::string& l) {
    auto v = l.substr(l.find(':') + 1);
    auto b = v.find_first_not_of(" \t");
    return b == std::string::npos ? std::string{} : v.substr(b);
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("#")) continue;
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (auto m = flush()) return m;
      continue;
    }
    if (line.starts_with("Types:")) types = value(line);
    else if (line.starts_with("URIs:")) uris = value(line);
    else if (line.starts_with("Suites:")) suites = value(line);
    else if (line.starts_with("Signed-By:")) signed_by = value(line);
  }
  return flush();
}

std::optional<Mirror> from_list(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto w = words(line);
    if (w.size() < 3 || w[0] != "deb") continue;
    std::size_t i = 1;
    std::string signed_by;
    if (w[1].starts_with("[")) {
      for (; i < w.size(); ++i) {
        std::string opt = w[i];
        std::erase(opt, '[');
        std::erase(opt, ']');
        if (opt.starts_with("signed-by=")) signed_by = opt.substr(10);
        if (w[i].ends_with("]")) break;
      }
      ++i;
    }
    if (i + 1 >= w.size()) continue;
    if (usable(w[i]) && plain_suite(w[i + 1])) return Mirror{w[i], signed_by};
  }
  return std::nullopt;
}

std::vector<std::string> apt_options(const fs::path& sources, const fs::path& lists, const fs::path& cache) {
  return {"-o", "Dir::Etc::SourceList=" + sources.string(),
          "-o", "Dir::Etc::SourceParts=/dev/null",
          "-o", "Dir::State::Lists=" + lists.string(),
          "-o", "Dir::Cache=" + cache.string(),
          "-o", "Dir::State::Status=/dev/null",
          "-o", "APT::Get::List-Cleanup=0",
          "-o", "Debug::NoLocking=1",
          "-o", "APT::Sandbox::User=root",
          "-qq"};
}

}  // namespace

std::optional<Mirror> mirror_from_files(const std::vector<fs::path>& files) {
  for (const auto& f : files) {
    std::optional<Mirror> m = f.extension() == ".sources" ? from_deb822(f) : from_list(f);
    if (m) return m;
  }
  return std::nullopt;
}

std::optional<Mirror> mirror_from(const fs::path& etc_apt) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_regular_file(etc_apt / "sources.list", ec)) files.push_back(etc_apt / "sources.list");
  std::vector<fs::path> parts;
  for (const auto& e : fs::directory_iterator(etc_apt / "sources.list.d", ec))
    if (e.path().extension() == ".list" || e.path().extension() == ".sources") parts.push_back(e.path());
  std::sort(parts.begin(), parts.end());
  files.insert(files.end(), parts.begin(), parts.end());
  return mirror_from_files(files);
}

std::vector<fs::path> download(const fs::path& cache, const fs::path& etc_apt, const std::string& suite,
                               const std::vector<std::string>& packages, std::chrono::milliseconds lock_wait) {
  auto log = core::logger("xoe");
  auto mirror = mirror_from(etc_apt);
  if (!mirror) fail(ErrorKind::precondition, "no Debian mirror found in {}", etc_apt.string());
  fs::path lists = cache / "lists" / suite, aptcache = cache / "apt" / suite, debs = cache / "debs";
  for (const auto& d : {lists / "partial", aptcache / "archives" / "partial", debs, cache / "locks"})
    host::make_dir(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  // One fetch per suite at a time: apt's own locks are off (private folders).
  auto lock = core::FileLock::acquire(core::LockDir{cache / "locks", lock_wait}, "apt." + suite);
  fs::path sources = cache / "lists" / (suite + ".list");
  std::string signed_by = mirror->signed_by.empty() ? "/usr/share/keyrings/debian-archive-keyring.gpg" : mirror->signed_by;
  host::write_file(sources, fmt::format("deb [signed-by={}] {} {} main\n", signed_by, mirror->uri, suite),
                   fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  auto opts = apt_options(sources, lists, aptcache);

  std::vector<std::string> argv = {"apt-get"};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.push_back("update");
  auto up = core::run(argv, {.timeout = std::chrono::minutes(10), .check = false});
  bool have_lists = false;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(lists, ec))
    if (e.path().filename().string().find("_Packages") != std::string::npos) have_lists = true;
  if (up.exit_code != 0) {
    if (!have_lists) fail(ErrorKind::external, "apt-get update of {} failed: {}", suite, up.err);
    log->warn("apt-get update of {} failed; using the lists fetched before", suite);
  }

  // The file names apt would download (they carry the version).
  argv = {"apt-get"};
  argv.insert(argv.end(), opts.begin(), opts.end());
  argv.push_back("--print-uris");
  argv.push_back("download");
  argv.insert(argv.end(), packages.begin(), packages.end());
  auto uris = core::run(argv, {.timeout = std::chrono::minutes(2)});
  std::map<std::string, std::string> file_of;  // package -> file name
  std::istringstream in(uris.out);
  for (std::string line; std::getline(in, line);) {
    auto w = words(line);
    if (w.size() < 2) continue;
    const std::string& name = w[1];
    auto us = name.find('_');
    if (us == std::string::npos || !name.ends_with(".deb") || name.find('/') != std::string::npos) continue;
    file_of[name.substr(0, us)] = name;
  }
  std::vector<std::string> missing;
  for (const auto& p : packages) {
    auto it = file_of.find(p);
    if (it == file_of.end()) fail(ErrorKind::external, "package {} not found in Debian {}", p, suite);
    if (!fs::is_regular_file(debs / it->second, ec)) missing.push_back(p);
  }
  if (!missing.empty()) {
    fs::path partial = debs / ".partial";
    host::remove_tree(partial);
    host::make_dir(partial, fs::perms::owner_all);
    log->info("downloading {} package(s) of {}", missing.size(), suite);
    argv = {"apt-get"};
    argv.insert(argv.end(), opts.begin(), opts.end());
    argv.push_back("download");
    argv.insert(argv.end(), missing.begin(), missing.end());
    core::run(argv, {.timeout = std::chrono::minutes(20), .cwd = partial});
    for (const auto& p : missing) {
      fs::path got = partial / file_of[p];
      if (!fs::is_regular_file(got, ec)) fail(ErrorKind::external, "apt-get download did not give {}", file_of[p]);
      fs::rename(got, debs / file_of[p], ec);
      if (ec) fail(ErrorKind::io, "rename {}: {}", got.string(), ec.message());
    }
    host::remove_tree(partial);
  }
  std::vector<fs::path> out;
  for (const auto& p : packages) out.push_back(debs / file_of[p]);
  return out;
}

std::string unpack(const fs::path& deb, const fs::path& dest) {
  core::run({"dpkg-deb", "-x", deb.string(), dest.string()}, {.timeout = std::chrono::minutes(5)});
  auto r = core::run({"dpkg-deb", "-f", deb.string(), "Package", "Version"});
  std::string pkg, ver;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Package: ")) pkg = line.substr(9);
    if (line.starts_with("Version: ")) ver = line.substr(9);
  }
  return pkg + " " + ver;
}

}  // namespace xoe::apt
