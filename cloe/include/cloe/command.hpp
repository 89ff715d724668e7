// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Group commands: one command run inside every vserver of a group (or in
// one vserver), up to N at once, as a journaled job (docs/cloe.md, Group
// commands).
//
// The target is a vserver or a group of the cluster; a name that is both is
// a conflict naming both, settled by writing `vserver:NAME` or `group:NAME`.
// The argv runs inside each vserver through vserver_enter_argv (its root, its
// cgroups), as --user U through `runuser -u U --` (util-linux of the
// template). A vserver that does not run gets a failed result and nothing
// runs in it. The job (kind cloe.command) has one step per vserver in start
// order; each result is written to ROOT/var/lib/oe/cloe/commands/JOB/ the
// moment it is known, so a run killed half-way and resumed with --resume JOB
// runs only the vservers without a result and reports all of them.
// Errors are core::Error, all before anything runs:
//   invalid     a bad target, user name, --parallel, --timeout, an empty command
//   not_found   an unknown cluster, a target that is no vserver and no group, an unknown job
//   conflict    a target that is both a vserver and a group; a job another run holds
//   precondition  a vserver on a node reached over SSH (as vserver start)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"
#include "cloe/vserver.hpp"

namespace cloe {

enum class CommandOrder { name, node };

struct CommandRequest {
  std::string cluster;
  std::string target;               // a vserver, a group, "vserver:NAME" or "group:NAME"
  std::vector<std::string> argv;    // the command inside (argv[0] looked up in its PATH)
  std::optional<std::string> user;  // run as this user inside (default: its root)
  int parallel = 1;                 // 1..64 at once
  CommandOrder order = CommandOrder::name;
  std::int64_t timeout = 600;          // seconds per vserver, 1..86400
  std::optional<std::int64_t> resume;  // a job id: only the vservers without a result run
};

struct CommandResult {
  std::string vserver;
  std::string node;
  bool ran = false;   // false: not started (it does not run, or could not be entered)
  int exit_code = 0;  // 0 ok; the command's status; 125 not entered; -1 not run
  bool timed_out = false;
  double seconds = 0;
  std::string out;       // stdout, whole
  std::string err;       // stderr, or why it did not run
  bool resumed = false;  // recorded by an earlier run of the same job
  [[nodiscard]] bool ok() const noexcept { return ran && exit_code == 0 && !timed_out; }
};

struct CommandReport {
  std::int64_t job = 0;
  std::string target;
  std::vector<std::string> argv;
  std::vector<CommandResult> results;  // in start order
  [[nodiscard]] bool all_ok() const noexcept;
};

// Pure logic (tests/unit/cloe/test_command.cpp).
// The vservers TARGET names among `all` (each with its groups): one vserver,
// or the members of a group, by name. Throws as described above.
std::vector<Vserver> command_targets(const std::vector<Vserver>& all, const std::string& target,
                                     const std::string& cluster);
// The start order: by name, or by node then name.
void command_sort(std::vector<Vserver>& vservers, CommandOrder order);
// invalid unless NAME is a user name (Debian's rule: a lower-case letter or
// '_', then lower-case letters, digits, '_' or '-', up to 32, an optional
// final '$').
void check_command_user(const std::string& name);
// The argv run for `argv` as `user` inside (runuser for a user but root).
std::vector<std::string> command_argv(const std::optional<std::string>& user, const std::vector<std::string>& argv);

// Checks the whole request, then runs it (or resumes job `resume`).
CommandReport command_run(const Settings& settings, const CommandRequest& request);

}  // namespace cloe
