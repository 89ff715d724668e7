// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// cloe doctor: is this host able to run the suite? Each check says what it
// found and, when something is missing, how to fix it. Read-only.

#include <string>
#include <vector>

namespace cloe {

enum class CheckStatus { ok, warn, fail };

struct Check {
  std::string name;
  CheckStatus status = CheckStatus::ok;
  std::string detail;  // what was found
  std::string fix;     // what to do when status != ok
};

struct DoctorRequest {
  std::string libvirt_uri;  // the node's libvirt, e.g. lxc:///system
  std::string bridge;       // the bridge vservers use
};

struct DoctorReport {
  std::vector<Check> checks;
  bool ok() const;  // no check failed (warnings allowed)
};

// Runs every check; never throws for a missing part (that is a failed check).
DoctorReport doctor(const DoctorRequest& request);

const char* status_name(CheckStatus status) noexcept;

}  // namespace cloe
