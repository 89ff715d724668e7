// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The systemd side of the supervisor (supervisor.hpp): one unit per service,
// its file written by xoe into systemd's own folder /etc/systemd/system
// (systemd reads no other; a unit file under ROOT linked from there would be
// removed by `systemctl disable`), named after the service and, for a root
// other than /, a hash of the root, so that two roots never clash:
//   root /      xoe-NAME.service
//   root ROOT   xoe_HASH_NAME.service   (HASH: 16 hex digits of ROOT's path)
// Service names are labels (a-z, 0-9, '-'), so the two forms never meet.
// The pure parts (names, the unit's text, the state from `systemctl show`)
// are separate for the unit tests; docs/xoe.md, Supervisor.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "xoe/settings.hpp"
#include "xoe/supervisor.hpp"

namespace xoe::systemd {

// Where xoe writes the unit files.
inline const std::filesystem::path unit_dir = "/etc/systemd/system";

// The unit of service `name` under `root`. Pure.
std::string unit_name(const std::filesystem::path& root, const std::string& name);
// A glob (systemctl's and fnmatch's) matching the units of `root`, and only those. Pure.
std::string unit_pattern(const std::filesystem::path& root);

// One word of a unit file's ExecStart= (`exec`: '$' doubled, since systemd
// expands variables there) or Environment= line, quoted the way systemd
// unquotes it: in double quotes, with '\\', '"' and control characters
// escaped C-style and '%' doubled (specifiers). Pure.
enum class Field { exec, environment };
std::string quote(std::string_view word, Field field);

// The unit file of `program` under `root`: User=, Group= and
// SupplementaryGroups=, the environment of the runit `run` file, ExecStart=
// with the argv (no shell), Restart=on-failure a second after a failure,
// stdout and stderr appended to LOGS/current, WantedBy=multi-user.target.
// Throws invalid for an argv[0] that is not an absolute path or a path or
// name systemd cannot take (a newline). Pure.
std::string unit_text(const std::filesystem::path& root, const ServiceProgram& program);

// The state of a unit from the output of `systemctl show -p LoadState,
// ActiveState,SubState,MainPID,ActiveEnterTimestampMonotonic,
// StateChangeTimestampMonotonic` at CLOCK_MONOTONIC `now_usec`:
//   not loaded (no unit file)           unsupervised
//   active, reloading                   run (pid: MainPID), seconds since ActiveEnter
//   activating with a main process      run
//   deactivating                        finish
//   inactive, failed, activating in auto-restart (waiting to restart) and the rest   down
// Pure.
ProcessState parse_show(std::string_view show, std::uint64_t now_usec);

// The unit file of service `name` of this root, and the link that
// `systemctl enable` makes for it (WantedBy=multi-user.target).
std::filesystem::path unit_file(const Settings& settings, const std::string& name);
std::filesystem::path wants_link(const Settings& settings, const std::string& name);

// What names this root's files outside it: "xoe" for /, else "xoe_" and
// the hash of its path. Pure.
std::string root_tag(const std::filesystem::path& root);

// The logrotate rule of the root's units, /etc/logrotate.d/xoe (root /) or
// xoe_HASH: their logs (`logs`/NAME/current for each of `names`) rotated
// when over 1 MB at logrotate's daily run, 10 kept as current.1 to
// current.10, by copy and truncation (systemd holds the file open with
// O_APPEND). runit's logs are svlogd's to rotate and are not in it. Pure.
std::filesystem::path logrotate_file(const std::filesystem::path& root);
std::string logrotate_text(const std::filesystem::path& root, const std::filesystem::path& logs,
                           const std::vector<std::string>& names);
// Writes the rule for the root's unit files, or removes it when there is none.
void write_logrotate(const Settings& settings);

// Where systemd is PID 1, the root's runit entries come back at boot
// through a oneshot unit that runs `XOE --root ROOT --set
// supervisor.kind=runit supervisor start` (which starts runsvdir, whose
// processes stay in the unit's cgroup: RemainAfterExit=yes):
//   root /      runsvdir-xoe.service
//   root ROOT   runsvdir-xoe_HASH.service
// (not named like the services' units, so supervisor start and the unit
// lists never take it for one). Pure.
std::string runit_boot_unit(const std::filesystem::path& root);
std::string runit_boot_text(const std::filesystem::path& root, const std::filesystem::path& xoe);
// Writes and enables the boot unit (nothing when it is there and enabled);
// `xoe` is the running xoe's path.
void write_runit_boot(const Settings& settings, const std::filesystem::path& xoe);
// Disables and removes it (nothing when it is not there).
void remove_runit_boot(const Settings& settings);

// The systemctl calls (through core::run, argv only). remove() also works
// where systemd is not PID 1 (the files are removed, nothing is told).
void daemon_reload();
void write_unit(const Settings& settings, const ServiceProgram& program);
void start(const Settings& settings, const std::string& name);
void stop(const Settings& settings, const std::string& name);
ProcessState status(const Settings& settings, const std::string& name);
void remove(const Settings& settings, const std::string& name);
// The unit files of this root (names), from unit_dir.
std::vector<std::string> units(const Settings& settings);
// Starts the enabled units of this root; stops all its units.
void start_enabled(const Settings& settings);
void stop_all(const Settings& settings);

}  // namespace xoe::systemd
