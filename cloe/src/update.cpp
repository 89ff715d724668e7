// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/update.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cloe/vserver.hpp"
#include "inside.hpp"
#include "repo.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace cloe {

using core::ErrorKind;
using core::fail;

bool UpdateResult::failed() const {
  return std::any_of(vservers.begin(), vservers.end(), [](const auto& e) { return e.outcome == "failed"; });
}

namespace {

struct Package {
  std::string version;
  fs::path file;
};

bool is_version(const std::string& v) {
  return !v.empty() && v.size() < 128 && std::isdigit(static_cast<unsigned char>(v.front())) &&
         v.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-:") == std::string::npos;
}

// The newest oe-xoe of the repository's Packages file.
Package newest_xoe(const fs::path& dir) {
  std::vector<Package> found;
  for (const auto& st : read_packages(dir)) {
    if (st.package != "oe-xoe" || st.version.empty() || st.filename.empty()) continue;
    if (!is_version(st.version)) fail(ErrorKind::invalid, "{}: oe-xoe version {:?} is not a version", dir.string(), st.version);
    fs::path f = fs::path(st.filename).lexically_normal();
    if (f.is_absolute() || f.empty() || *f.begin() == "..")
      fail(ErrorKind::invalid, "{}: oe-xoe's Filename {:?} leaves the repository", dir.string(), st.filename);
    found.push_back({st.version, dir / f});
  }
  if (found.empty()) fail(ErrorKind::invalid, "{}: the repository has no oe-xoe package", dir.string());
  Package best = found.front();
  for (const auto& p : found)
    if (core::run({"dpkg", "--compare-versions", p.version, "gt", best.version}, {.timeout = 10s, .check = false})
            .exit_code == 0)
      best = p;
  std::error_code ec;
  if (!fs::is_regular_file(best.file, ec)) fail(ErrorKind::invalid, "{}: no file {}", dir.string(), best.file.string());
  return best;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in && !in.eof()) fail(ErrorKind::io, "cannot read {}", file.string());
  return out.str();
}

// argv inside the vserver, as its root (inside.hpp).
core::RunResult inside(const Settings& s, const Vserver& v, const std::vector<std::string>& argv,
                       std::optional<std::string> stdin_data = std::nullopt) {
  return run_inside(s, v, argv, stdin_data, std::chrono::minutes(30));
}

std::string installed(const Settings& s, const Vserver& v) {
  auto r = inside(s, v, {"dpkg-query", "-W", "-f=${db:Status-Abbrev} ${Version}", "oe-xoe"});
  if (r.exit_code != 0 || !r.out.starts_with("ii ")) return "";
  std::string version = last_line(r.out.substr(3));
  version.erase(0, version.find_first_not_of(' '));
  return version;
}

void update_one(const Settings& s, const Vserver& v, const Package& p, const std::string& deb, UpdateEntry& e) {
  const std::string dir = "/var/cache/oe-update";
  const std::string file = dir + "/" + p.file.filename().string();
  auto must = [&](const std::vector<std::string>& argv, const char* what, std::optional<std::string> in = {}) {
    auto r = inside(s, v, argv, std::move(in));
    if (r.exit_code != 0)
      fail(ErrorKind::external, "vserver {}: {} failed (exit {}): {}", v.name, what, r.exit_code, last_line(r.err));
  };
  must({"mkdir", "-p", "-m", "0700", "--", dir}, "mkdir");
  // Written by the vserver's own root, from stdin.
  must({"dd", "of=" + file, "bs=1M", "status=none"}, "writing the package", deb);
  auto r = inside(s, v,
                  {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends",
                   "--allow-downgrades", "-o", "Dpkg::Options::=--force-confold", file});
  inside(s, v, {"rm", "-rf", "--", dir});
  if (r.exit_code != 0)
    fail(ErrorKind::external, "vserver {}: apt-get install of oe-xoe {} failed (exit {}): {}", v.name, p.version,
         r.exit_code, last_line(r.err));
  e.after = installed(s, v);
  if (e.after != p.version)
    fail(ErrorKind::external, "vserver {}: oe-xoe is {} after the install, not {}", v.name,
         e.after.empty() ? "absent" : e.after, p.version);
}

}  // namespace

UpdateResult update_cluster(const Settings& s, const UpdateRequest& rq) {
  Package p = newest_xoe(rq.repository);
  UpdateResult out;
  out.version = p.version;
  VserverListRequest lr;
  lr.cluster = rq.cluster;
  std::vector<Vserver> all = vserver_list(s, lr);  // not_found for an unknown cluster
  std::sort(all.begin(), all.end(), [](const Vserver& a, const Vserver& b) {
    return std::tie(a.node, a.name) < std::tie(b.node, b.name);
  });
  std::string deb;
  bool stopped = false;
  for (const auto& v : all) {
    UpdateEntry e{v.node, v.name, "", "", "", ""};
    if (stopped) {
      e.outcome = "not-reached";
      out.vservers.push_back(e);
      continue;
    }
    if (v.domain_state != "running") {
      e.outcome = "skipped";
      e.detail = "does not run (libvirt: " + v.domain_state + "): updated by a cloe update once it runs";
      out.vservers.push_back(e);
      continue;
    }
    try {
      e.before = installed(s, v);
      if (e.before.empty()) {
        e.outcome = "skipped";
        e.detail = "has no oe-xoe";
      } else if (e.before == p.version) {
        e.after = e.before;
        e.outcome = "up-to-date";
      } else if (rq.dry_run) {
        e.after = p.version;
        e.outcome = "would-update";
      } else {
        if (deb.empty()) deb = slurp(p.file);
        update_one(s, v, p, deb, e);
        e.outcome = "updated";
        core::logger("cloe")->info("vserver {}: oe-xoe {} -> {}", v.name, e.before, e.after);
      }
    } catch (const core::Error& err) {
      e.outcome = "failed";
      e.detail = err.what();
      stopped = true;
    }
    out.vservers.push_back(e);
  }
  return out;
}

}  // namespace cloe
