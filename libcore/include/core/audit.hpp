// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The audit log: one JSON line per mutating command in ROOT/var/log/oe/audit.jsonl
// with the time, the user, the tool, the command line and its result.

#include <string>
#include <string_view>
#include <vector>

#include "core/paths.hpp"

namespace core {

struct AuditRecord {
  std::string tool;
  std::vector<std::string> command;  // argv after the tool's name; secrets never in argv
  int exit_code = 0;
  std::string error;                 // one-line message when exit_code != 0
};

// Appends one line (O_APPEND, file 0640). Never throws: an audit failure is
// logged, not allowed to turn a done operation into an error.
void audit(const Paths& paths, const AuditRecord& record) noexcept;

}  // namespace core
