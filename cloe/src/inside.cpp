// SPDX-License-Identifier: GPL-3.0-or-later
#include "inside.hpp"

#include "cloe/vserver.hpp"
#include "core/error.hpp"

namespace cloe {

using core::ErrorKind;
using core::fail;

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

core::RunResult run_inside(const Settings& s, const Vserver& v, const std::vector<std::string>& argv,
                           const std::optional<std::string>& stdin_data, std::chrono::milliseconds timeout) {
  core::RunOptions o;
  o.check = false;
  o.stdin_data = stdin_data;
  if (timeout.count() > 0) o.timeout = timeout;
  auto r = core::run(vserver_enter_argv(s, v, argv), o);
  if (r.exit_code == enter_failed && r.err.find("cloe __enter:") != std::string::npos)
    fail(ErrorKind::external, "vserver {}: {}", v.name, last_line(r.err));
  if (r.exit_code == not_inside && r.err.find("cloe __enter: cannot run") != std::string::npos)
    fail(ErrorKind::precondition, "vserver {} has no {} (its template {} was built without --repository)", v.name,
         argv.empty() ? "" : argv.front(), v.template_name);
  return r;
}

}  // namespace cloe
