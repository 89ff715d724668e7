// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/profile.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "registry.hpp"

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

struct Member {
  const char* suffix;
  const char* role;
};

const std::vector<Member>& members(const std::string& profile) {
  static const std::vector<Member> vds = {{"production", "production"}, {"training", "training"}, {"test", "test"}};
  if (profile == "vds") return vds;
  fail(ErrorKind::invalid, "profile '{}': the profiles are vds", core::escape_for_display(profile));
}

}  // namespace

ProfileResult apply_profile(const Settings& s, const ProfileRequest& rq) {
  const auto& list = members(rq.profile);
  std::string name = rq.name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  core::validate_label(name, "--name");
  // The longest member name must still be a label (63 characters).
  if (name.size() + std::string_view("-production").size() > 63)
    fail(ErrorKind::invalid, "--name '{}': at most 52 characters", core::escape_for_display(name));

  // Check every member first: nothing is created when one of them would fail.
  std::vector<std::pair<CreateRequest, bool>> todo;
  for (const auto& m : list) {
    CreateRequest cr{name + "-" + m.suffix, rq.software, rq.version, m.role, rq.backend, rq.modules, std::nullopt};
    std::optional<registry::ServiceRow> row;
    if (auto db = registry::open_existing(s)) row = registry::find_service(*db, cr.name);
    if (row && row->state != "creating") {
      if (row->software != rq.software || row->version != rq.version || row->role != m.role)
        fail(ErrorKind::conflict, "service {} exists with other settings ({}/{}, {})", cr.name, row->software,
             row->version, row->role);
      todo.emplace_back(cr, true);
      continue;
    }
    (void)plan_create(s, cr);
    todo.emplace_back(cr, false);
  }
  ProfileResult out{rq.profile, name, {}};
  for (const auto& [cr, existed] : todo) {
    ProfileService ps;
    ps.existed = existed;
    if (existed) {
      ps.service = show_service(s, cr.name);
    } else {
      Created c = create_service(s, cr);
      ps.service = c.service;
      ps.admin_password = c.admin_password;
    }
    out.services.push_back(ps);
  }
  core::logger("xoe")->info("profile {} applied for {}", rq.profile, name);
  return out;
}

}  // namespace xoe
