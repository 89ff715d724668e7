// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/profile.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "registry.hpp"
#include "service_impl.hpp"

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

struct Member {
  const char* suffix;
  const char* role;
};

const std::vector<Member> roles_of_a_set = {{"production", "production"}, {"training", "training"}, {"test", "test"}};

// One set of production, training and test services: its name prefix and version.
struct Set {
  std::string prefix;
  std::string version;
};

std::string version_label(const std::string& v) {
  std::string out = v;
  std::replace(out.begin(), out.end(), '.', '-');
  return out;
}

}  // namespace

std::optional<std::string> detail::profile_set_of(const std::string& service, std::string_view suffix) {
  std::string tail = "-" + std::string(suffix);
  if (service.size() <= tail.size() || !service.ends_with(tail)) return std::nullopt;
  return service.substr(0, service.size() - tail.size());
}

ProfileResult apply_profile(const Settings& s, const ProfileRequest& rq_in) {
  ProfileRequest rq = rq_in;
  std::string name = rq.name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  core::validate_label(name, "--name");
  std::vector<Set> sets;
  if (rq.profile == "vds") {
    if (rq.software.empty() || rq.version.empty())
      fail(ErrorKind::invalid, "profile vds needs --software and --version");
    if (!rq.versions.empty()) fail(ErrorKind::invalid, "--versions is for profile acs; vds takes --version");
    sets.push_back({name, rq.version});
  } else if (rq.profile == "acs") {
    if (!rq.version.empty()) fail(ErrorKind::invalid, "profile acs takes --versions (three), not --version");
    if (rq.software.empty()) rq.software = s.acs_software;
    std::vector<std::string> versions = rq.versions.empty() ? s.acs_versions : rq.versions;
    if (versions.size() != 3) fail(ErrorKind::invalid, "profile acs needs three versions, not {}", versions.size());
    for (const auto& v : versions) {
      core::validate_version(v, "--versions");
      for (const auto& set : sets)
        if (set.version == v) fail(ErrorKind::invalid, "--versions: {} twice", v);
      sets.push_back({name + "-" + version_label(v), v});
    }
  } else {
    fail(ErrorKind::invalid, "profile '{}': the profiles are vds and acs", core::escape_for_display(rq.profile));
  }
  // The longest member name must still be a label (63 characters).
  std::size_t extra = 0;
  for (const auto& set : sets)
    extra = std::max(extra, set.prefix.size() - name.size() + std::string_view("-production").size());
  if (name.size() + extra > 63)
    fail(ErrorKind::invalid, "--name '{}': at most {} characters", core::escape_for_display(name), 63 - extra);

  // Check every member first: nothing is created when one of them would fail.
  // Each new member gets its port now, so that a set's three are created side by side.
  std::set<std::int64_t> chosen;
  if (auto db = registry::open_existing(s))
    for (const auto& r : registry::all_services(*db)) chosen.insert(r.port);
  std::vector<std::pair<CreateRequest, bool>> todo;
  for (const auto& set : sets) {
    for (const auto& m : roles_of_a_set) {
      CreateRequest cr{set.prefix + "-" + m.suffix, rq.software, set.version, m.role, rq.backend, rq.modules,
                       std::nullopt};
      std::optional<registry::ServiceRow> row;
      if (auto db = registry::open_existing(s)) row = registry::find_service(*db, cr.name);
      if (row && row->state != "creating") {
        if (row->software != rq.software || row->version != set.version || row->role != m.role)
          fail(ErrorKind::conflict, "service {} exists with other settings ({}/{}, {})", cr.name, row->software,
               row->version, row->role);
        todo.emplace_back(cr, true);
        continue;
      }
      // an unfinished creation keeps its port
      cr.port = row ? static_cast<std::uint16_t>(row->port) : detail::first_free_port(s, chosen);
      chosen.insert(*cr.port);
      (void)plan_create(s, cr);
      todo.emplace_back(cr, false);
    }
  }
  // A set's three members side by side (template copies, admin runs, server
  // starts and probes overlap), one set after the other. A member that fails
  // rolls back alone; the others stay, and the first failure is reported
  // (apply again to finish).
  ProfileResult out{rq.profile, name, std::vector<ProfileService>(todo.size())};
  for (std::size_t first = 0; first < todo.size(); first += roles_of_a_set.size()) {
    std::vector<std::function<void()>> tasks;
    for (std::size_t i = first; i < std::min(todo.size(), first + roles_of_a_set.size()); ++i) {
      tasks.push_back([&s, &todo, &out, i] {
        const auto& [cr, existed] = todo[i];
        ProfileService& ps = out.services[i];
        ps.existed = existed;
        if (existed) {
          ps.service = show_service(s, cr.name);
          return;
        }
        Created c = create_service(s, cr);
        ps.service = c.service;
        ps.admin_password = c.admin_password;
      });
    }
    detail::run_concurrently(tasks);
  }
  core::logger("xoe")->info("profile {} applied for {}", rq.profile, name);
  return out;
}

}  // namespace xoe
