// SPDX-License-Identifier: GPL-3.0-or-later
#include "systemd.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "host.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace xoe::systemd {

using core::ErrorKind;
using core::fail;

namespace {

constexpr std::string_view header = "# Written by xoe";

// A value systemd takes to the end of its line, with specifiers expanded.
std::string plain(std::string_view value, std::string_view what) {
  std::string out;
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      fail(ErrorKind::invalid, "{} '{}' has a control character: systemd cannot take it", what, value);
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

std::string path_value(const fs::path& p, std::string_view what) {
  if (!p.is_absolute()) fail(ErrorKind::invalid, "{} {}: not an absolute path", what, p.string());
  std::string s = p.lexically_normal().string();
  if (s != p.string() || s.find_first_of(" \t") != std::string::npos)
    fail(ErrorKind::invalid, "{} '{}': systemd takes only a plain absolute path without blanks", what, p.string());
  return plain(s, what);
}

core::RunResult systemctl(const std::vector<std::string>& args, bool check = true) {
  std::vector<std::string> argv = {"systemctl", "--no-ask-password"};
  argv.insert(argv.end(), args.begin(), args.end());
  return core::run(argv, {.timeout = 90s, .check = check});
}

}  // namespace

std::string root_tag(const fs::path& root) {
  return root == "/" ? "xoe" : "xoe_" + host::short_hash(root.string());
}

namespace {

// Writes a file of xoe's (mode 0644, its folder made 0755 if needed);
// refuses one of that name that xoe did not write. False when it held
// `text` already.
bool write_owned(const fs::path& file, const std::string& text) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::string now = host::read_file(file);
    if (now.rfind(std::string(header), 0) != 0)
      fail(ErrorKind::conflict, "{} exists and was not written by xoe", file.string());
    if (now == text) return false;
  }
  auto r = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
  host::make_dir(file.parent_path(),
                 r | fs::perms::owner_write | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  host::write_file(file, text, r | fs::perms::owner_write);
  return true;
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

std::string unit_name(const fs::path& root, const std::string& name) {
  return root_tag(root) + (root == "/" ? "-" : "_") + name + ".service";
}

std::string unit_pattern(const fs::path& root) { return unit_name(root, "*"); }

std::string runit_boot_unit(const fs::path& root) { return "runsvdir-" + root_tag(root) + ".service"; }

std::string runit_boot_text(const fs::path& root, const fs::path& xoe) {
  std::string exec;
  for (const std::string& a : {path_value(xoe, "xoe"), std::string("--root"), path_value(root, "root"),
                               std::string("--set"), std::string("supervisor.kind=runit"), std::string("supervisor"),
                               std::string("start")})
    exec += (exec.empty() ? "" : " ") + quote(a, Field::exec);
  std::string out = std::string(header) + " for the runit services of the root " + plain(root.string(), "root") +
                    ". Do not edit: xoe rewrites it.\n";
  out += "[Unit]\n";
  out += "Description=xoe's runsvdir for the runit services of " + plain(root.string(), "root") + "\n";
  out += "After=network.target\n";
  out += "\n[Service]\n";
  out += "Type=oneshot\n";
  // runsvdir and its services stay in this unit's cgroup.
  out += "RemainAfterExit=yes\n";
  out += "ExecStart=" + exec + "\n";
  out += "\n[Install]\n";
  out += "WantedBy=multi-user.target\n";
  return out;
}

fs::path logrotate_file(const fs::path& root) { return "/etc/logrotate.d/" + root_tag(root); }

std::string logrotate_text(const fs::path& root, const fs::path& logs, const std::vector<std::string>& names) {
  std::string out = std::string(header) + " for the root " + root.string() +
                    ": the logs of its services that run as systemd units (svlogd rotates those under runit). "
                    "Do not edit: xoe rewrites it.\n";
  for (const auto& name : names) out += "\"" + path_value(logs / name / "current", "log") + "\"\n";
  out += "{\n"
         "    size 1M\n"
         "    rotate 10\n"
         "    copytruncate\n"
         "    missingok\n"
         "    notifempty\n"
         "    nocompress\n"
         "}\n";
  return out;
}

std::string quote(std::string_view word, Field field) {
  std::string out = "\"";
  for (char c : word) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '%': out += "%%"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '$':
        out += field == Field::exec ? "$$" : "$";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\x{:02x}", u);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string unit_text(const fs::path& root, const ServiceProgram& p) {
  if (p.argv.empty() || !fs::path(p.argv[0]).is_absolute())
    fail(ErrorKind::invalid, "service {}: the server's command '{}' is not an absolute path", p.name,
         p.argv.empty() ? std::string() : p.argv[0]);
  std::string env = quote("PATH=/usr/bin:/bin", Field::environment) + " " +
                    quote("LC_ALL=C.UTF-8", Field::environment) + " " + quote("LANG=C.UTF-8", Field::environment);
  for (const auto& [k, v] : p.env) env += " " + quote(k + "=" + v, Field::environment);
  std::string exec;
  for (const auto& a : p.argv) exec += (exec.empty() ? "" : " ") + quote(a, Field::exec);
  std::string out;
  out += std::string(header) + " for service " + p.name + " of the root " + plain(root.string(), "root") +
         ". Do not edit: xoe rewrites it.\n";
  out += "[Unit]\n";
  out += "Description=xoe service " + p.name + "\n";
  out += "After=network.target\n";
  // Like runsv, restart it however often it fails (a second apart).
  out += "StartLimitIntervalSec=0\n";
  out += "\n[Service]\n";
  out += "Type=exec\n";
  out += "User=" + plain(p.user, "user") + "\n";
  out += "Group=" + plain(p.user, "user") + "\n";
  out += "SupplementaryGroups=" + plain(p.group, "group") + "\n";
  out += "WorkingDirectory=" + path_value(p.dir, "service folder") + "\n";
  out += "Environment=" + env + "\n";
  out += "ExecStart=" + exec + "\n";
  out += "Restart=on-failure\n";
  out += "RestartSec=1\n";
  out += "TimeoutStopSec=30\n";
  if (!p.stop_signal.empty()) {
    out += "KillSignal=SIG" + plain(p.stop_signal, "stop signal") + "\n";
    out += "KillMode=mixed\n";
  }
  out += "StandardOutput=append:" + path_value(p.logs / "current", "log") + "\n";
  out += "StandardError=inherit\n";
  out += "\n[Install]\n";
  out += "WantedBy=multi-user.target\n";
  return out;
}

ProcessState parse_show(std::string_view show, std::uint64_t now_usec) {
  std::map<std::string, std::string, std::less<>> v;
  std::istringstream in{std::string(show)};
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) v[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto get = [&v](std::string_view k) {
    auto it = v.find(k);
    return it == v.end() ? std::string() : it->second;
  };
  auto since = [&](std::string_view k) -> std::int64_t {
    std::uint64_t t = std::strtoull(get(k).c_str(), nullptr, 10);
    return t == 0 || t > now_usec ? 0 : static_cast<std::int64_t>((now_usec - t) / 1000000u);
  };
  ProcessState st{"unsupervised", std::nullopt, 0};
  if (get("LoadState") != "loaded") return st;
  long pid = std::atol(get("MainPID").c_str());
  std::string active = get("ActiveState"), sub = get("SubState");
  if (active == "active" || active == "reloading" || (active == "activating" && sub != "auto-restart" && pid > 0)) {
    st.state = "run";
    st.seconds = since(active == "activating" ? "StateChangeTimestampMonotonic" : "ActiveEnterTimestampMonotonic");
  } else if (active == "deactivating") {
    st.state = "finish";
    st.seconds = since("StateChangeTimestampMonotonic");
  } else {
    st.state = "down";
    st.seconds = since("StateChangeTimestampMonotonic");
  }
  if (pid > 0 && st.state != "down") st.pid = static_cast<pid_t>(pid);
  return st;
}

fs::path unit_file(const Settings& s, const std::string& name) { return unit_dir / unit_name(s.root, name); }

fs::path wants_link(const Settings& s, const std::string& name) {
  return unit_dir / "multi-user.target.wants" / unit_name(s.root, name);
}

void daemon_reload() { systemctl({"daemon-reload"}); }

void write_unit(const Settings& s, const ServiceProgram& program) {
  ServiceProgram p = program;
  if (!p.argv.empty() && p.argv[0].find('/') == std::string::npos) {
    // The runit run file finds it on its PATH; systemd wants the path.
    auto found = core::which(p.argv[0], "/usr/bin:/bin");
    if (!found) fail(ErrorKind::precondition, "service {}: {} not found in /usr/bin:/bin", p.name, p.argv[0]);
    p.argv[0] = found->string();
  }
  write_owned(unit_file(s, p.name), unit_text(s.root, p));
  write_logrotate(s);
  daemon_reload();
}

void write_logrotate(const Settings& s) {
  fs::path file = logrotate_file(s.root);
  // The service names: what the pattern's '*' stands for in each unit.
  const std::string pattern = unit_pattern(s.root);
  const std::size_t head = pattern.find('*'), tail = pattern.size() - head - 1;
  std::vector<std::string> names;
  for (const auto& u : units(s)) names.push_back(u.substr(head, u.size() - head - tail));
  if (!names.empty()) {
    write_owned(file, logrotate_text(s.root, s.logs, names));
  } else if (std::error_code ec; fs::exists(file, ec) && host::read_file(file).rfind(std::string(header), 0) == 0) {
    fs::remove(file, ec);
  }
}

void write_runit_boot(const Settings& s, const fs::path& xoe) {
  const std::string unit = runit_boot_unit(s.root);
  bool changed = write_owned(unit_dir / unit, runit_boot_text(s.root, xoe));
  std::error_code ec;
  if (!changed && fs::is_symlink(fs::symlink_status(unit_dir / "multi-user.target.wants" / unit, ec))) return;
  if (changed) daemon_reload();
  systemctl({"enable", unit});
}

void remove_runit_boot(const Settings& s) {
  fs::path file = unit_dir / runit_boot_unit(s.root);
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  // Disabled, not stopped: stopping it would kill runsvdir's cgroup, the
  // services that are left with it.
  systemctl({"disable", file.filename().string()}, false);
  fs::remove(file, ec);
  daemon_reload();
}

void start(const Settings& s, const std::string& name) {
  std::string unit = unit_name(s.root, name);
  std::error_code ec;
  if (!fs::exists(unit_file(s, name), ec))
    fail(ErrorKind::precondition, "service {} has no unit {}: was it created under runit (supervisor.kind)?", name,
         unit);
  systemctl({"enable", "--now", unit});
}

void stop(const Settings& s, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(unit_file(s, name), ec)) return;
  systemctl({"disable", "--now", unit_name(s.root, name)});
}

ProcessState status(const Settings& s, const std::string& name) {
  auto r = systemctl({"show", "-p",
                      "LoadState,ActiveState,SubState,MainPID,ActiveEnterTimestampMonotonic,"
                      "StateChangeTimestampMonotonic",
                      unit_name(s.root, name)},
                     false);
  if (r.exit_code != 0) fail(ErrorKind::external, "systemctl show {} failed: {}", unit_name(s.root, name), r.err);
  return parse_show(r.out, monotonic_usec());
}

void remove(const Settings& s, const std::string& name) {
  fs::path file = unit_file(s, name);
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  if (!systemd_booted()) {
    // A root moved to a host without systemd: nothing runs the unit, there
    // is nobody to tell; its file and its link go.
    fs::remove(wants_link(s, name), ec);
    fs::remove(file);
    write_logrotate(s);
    return;
  }
  std::string unit = unit_name(s.root, name);
  systemctl({"disable", "--now", unit});
  fs::remove(file);
  write_logrotate(s);
  daemon_reload();
  systemctl({"reset-failed", unit}, false);  // forget a failed state: nothing is left of the unit
}

std::vector<std::string> units(const Settings& s) {
  std::vector<std::string> out;
  std::string pattern = unit_pattern(s.root);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(unit_dir, ec)) {
    std::string f = e.path().filename().string();
    if (::fnmatch(pattern.c_str(), f.c_str(), 0) == 0 && e.is_regular_file(ec)) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void start_enabled(const Settings& s) {
  std::vector<std::string> enabled;
  for (const auto& u : units(s))
    if (systemctl({"is-enabled", "--quiet", u}, false).exit_code == 0) enabled.push_back(u);
  if (enabled.empty()) return;
  std::vector<std::string> args = {"start"};
  args.insert(args.end(), enabled.begin(), enabled.end());
  systemctl(args);
  core::logger("xoe")->info("started {} enabled units", enabled.size());
}

void stop_all(const Settings& s) {
  auto all = units(s);
  if (all.empty()) return;
  std::vector<std::string> args = {"stop"};
  args.insert(args.end(), all.begin(), all.end());
  systemctl(args);
}

}  // namespace xoe::systemd
