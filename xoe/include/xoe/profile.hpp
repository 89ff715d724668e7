// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Profiles: sets of services created together. `vds` is one customer's
// production, training and test services of one software version; `acs`
// (a school) is production, training and test of each of three versions.

#include <optional>
#include <string>
#include <vector>

#include "xoe/service.hpp"
#include "xoe/settings.hpp"

namespace xoe {

struct ProfileRequest {
  std::string profile;  // "vds" or "acs"
  std::string name;     // the customer; lower-cased, then a label ("ACME" -> "acme")
  std::string software;  // acs: empty for profile.acs_software
  std::string version;   // vds
  std::vector<std::string> versions;  // acs: empty for profile.acs_versions
  std::string backend;  // empty: database.backend
  std::vector<std::string> modules;
  friend bool operator==(const ProfileRequest&, const ProfileRequest&) = default;
};

struct ProfileService {
  ServiceInfo service;
  std::optional<std::string> admin_password;  // set when this run created it (shown once)
  bool existed = false;                       // created by an earlier run
  friend bool operator==(const ProfileService&, const ProfileService&) = default;
};

struct ProfileResult {
  std::string profile;
  std::string name;
  std::vector<ProfileService> services;
  friend bool operator==(const ProfileResult&, const ProfileResult&) = default;
};

// The services of a profile: vds -> NAME-production, NAME-training (role
// training), NAME-test (role test); acs -> the same three for each version,
// named NAME-V-ROLE with the version's dots as hyphens (school-7-0-test). Checks all of them first (plan_create:
// nothing is created when one would fail); a service that exists with the
// same software and version is kept (a profile is applied again after a
// failure or to add what is missing); one that exists with other settings
// is a conflict. Each creation is its own journaled service.create job.
// Throws invalid (unknown profile, bad name), and what create_service throws.
ProfileResult apply_profile(const Settings& settings, const ProfileRequest& request);

}  // namespace xoe
