// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Commands inside a vserver, as its root, through `cloe __enter` (lxc.cpp)
// on its node: the one runner of update, service and whatever else runs
// there. Its output is the caller's: never logged (xoe's answers carry
// passwords).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloe/vserver.hpp"
#include "core/process.hpp"

namespace cloe {

// Exit codes of `cloe __enter` itself: 125 it could not enter, 127 the
// program is not in the vserver.
inline constexpr int enter_failed = 125;
inline constexpr int not_inside = 127;

// The last line of a program's output, without trailing blanks.
std::string last_line(std::string_view text);

// Runs argv inside `v`; the entry's own failures are errors (external: it
// could not enter; precondition: the program is not there, e.g. a template
// built without --repository has no xoe), the program's exit status and
// output are the caller's. timeout 0: none.
core::RunResult run_inside(const Settings& s, const Vserver& v, const std::vector<std::string>& argv,
                           const std::optional<std::string>& stdin_data = std::nullopt,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds{0});

}  // namespace cloe
