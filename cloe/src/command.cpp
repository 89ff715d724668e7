// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "inventory_db.hpp"

namespace fs = std::filesystem;

namespace cloe {
namespace {

using core::ErrorKind;
using core::fail;

constexpr std::string_view job_kind = "cloe.command";
constexpr std::size_t max_output = std::size_t{1} << 20;  // per stream and vserver

bool is_label(std::string_view s) {
  return !s.empty() && s.size() <= 63 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos && s.front() != '-' &&
         s.back() != '-';
}

bool is_group(std::string_view s) {
  return !s.empty() && s.size() <= 63 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

nlohmann::json result_json(const CommandResult& r) {
  return {{"vserver", r.vserver},     {"node", r.node},       {"ran", r.ran}, {"exit", r.exit_code},
          {"timed_out", r.timed_out}, {"seconds", r.seconds}, {"out", r.out}, {"err", r.err}};
}

CommandResult result_of(const nlohmann::json& j) {
  CommandResult r;
  r.vserver = j.at("vserver").get<std::string>();
  r.node = j.at("node").get<std::string>();
  r.ran = j.at("ran").get<bool>();
  r.exit_code = j.at("exit").get<int>();
  r.timed_out = j.at("timed_out").get<bool>();
  r.seconds = j.at("seconds").get<double>();
  r.out = j.at("out").get<std::string>();
  r.err = j.at("err").get<std::string>();
  return r;
}

// Written whole or not at all (a temporary name, then rename).
void write_json(const fs::path& file, const nlohmann::json& j) {
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << '\n';
    out.flush();
    if (!out) fail(ErrorKind::io, "cannot write {}", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) fail(ErrorKind::io, "rename {}: {}", file.string(), ec.message());
}

std::optional<nlohmann::json> read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::io, "{}: not JSON: {}", file.string(), e.what());
  }
}

// The vservers of a job and where their results go.
struct Plan {
  std::string token;  // the job's key is "command:CLUSTER:TOKEN"
  fs::path dir;       // ROOT/var/lib/oe/cloe/commands/TOKEN
  std::string target;
  std::vector<std::string> argv;
  std::optional<std::string> user;
  std::vector<std::string> names;  // start order
};

fs::path result_file(const Plan& p, const std::string& name) { return p.dir / "results" / (name + ".json"); }

// Runs one vserver's command and records its result at once.
CommandResult run_one(const Settings& s, const Plan& plan, const Vserver* v, const std::string& name,
                      std::int64_t timeout) {
  CommandResult r;
  r.vserver = name;
  auto t0 = std::chrono::steady_clock::now();
  if (v == nullptr) {
    r.exit_code = -1;
    r.err = fmt::format("vserver {} is no longer in the inventory: nothing run", name);
  } else if (r.node = v->node; v->domain_state != "running") {
    r.exit_code = -1;
    r.err = fmt::format("vserver {} does not run (libvirt: {}): nothing run", name, v->domain_state);
  } else {
    try {
      auto argv = vserver_enter_argv(s, *v, command_argv(plan.user, plan.argv));
      auto out = core::run(argv, {.timeout = std::chrono::seconds(timeout), .check = false, .max_output = max_output});
      r.ran = true;
      r.exit_code = out.exit_code;
      r.timed_out = out.timed_out;
      r.out = std::move(out.out);
      r.err = std::move(out.err);
      if (r.timed_out) r.err += fmt::format("cloe: timed out after {} s\n", timeout);
    } catch (const core::Error& e) {
      r.exit_code = -1;
      r.err = e.what();
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_json(result_file(plan, name), result_json(r));
  core::logger("cloe")->info("command in {}: exit {} in {:.1f} s", name, r.exit_code, r.seconds);
  return r;
}

std::string new_token() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  return fmt::format("{}-{}", ms.count(), ::getpid());
}

}  // namespace

bool CommandReport::all_ok() const noexcept {
  return std::ranges::all_of(results, [](const CommandResult& r) { return r.ok(); });
}

std::vector<Vserver> command_targets(const std::vector<Vserver>& all, const std::string& target,
                                     const std::string& cluster) {
  enum class Kind { either, vserver, group } kind = Kind::either;
  std::string name = target;
  if (target.starts_with("vserver:")) {
    kind = Kind::vserver;
    name = target.substr(8);
  } else if (target.starts_with("group:")) {
    kind = Kind::group;
    name = target.substr(6);
  }
  bool vserver_ok = is_label(name), group_ok = is_group(name);
  if ((kind == Kind::vserver && !vserver_ok) || (kind == Kind::group && !group_ok) || (!vserver_ok && !group_ok))
    fail(ErrorKind::invalid,
         "target '{}': a vserver or a group (lower-case letters, digits, '-', '_'), or vserver:NAME, group:NAME",
         core::escape_for_display(target));
  std::vector<Vserver> one, members;
  for (const auto& v : all) {
    if (v.name == name) one.push_back(v);
    if (std::ranges::find(v.groups, name) != v.groups.end()) members.push_back(v);
  }
  if (kind == Kind::vserver) members.clear();
  if (kind == Kind::group) one.clear();
  if (!one.empty() && !members.empty()) {
    std::string names;
    for (const auto& v : members) names += (names.empty() ? "" : ", ") + v.name;
    fail(ErrorKind::conflict, "{} is both a vserver and a group ({}) of cluster {}: say vserver:{} or group:{}", name,
         names, cluster, name, name);
  }
  if (!one.empty()) return one;
  if (!members.empty()) return members;
  if (kind == Kind::vserver) fail(ErrorKind::not_found, "no vserver {} in cluster {}", name, cluster);
  if (kind == Kind::group) fail(ErrorKind::not_found, "no vserver of cluster {} is in group {}", cluster, name);
  fail(ErrorKind::not_found, "no vserver and no group {} in cluster {} (see cloe vserver list)", name, cluster);
}

void command_sort(std::vector<Vserver>& vservers, CommandOrder order) {
  if (order == CommandOrder::node)
    std::ranges::stable_sort(vservers, [](const Vserver& a, const Vserver& b) {
      return std::tie(a.node, a.name) < std::tie(b.node, b.name);
    });
  else
    std::ranges::stable_sort(vservers, [](const Vserver& a, const Vserver& b) { return a.name < b.name; });
}

void check_command_user(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 32 && ((name.front() >= 'a' && name.front() <= 'z') || name.front() == '_');
  std::string_view body = name;
  if (ok && body.back() == '$') body.remove_suffix(1);
  ok =
      ok && !body.empty() && body.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
  if (!ok)
    fail(ErrorKind::invalid,
         "--user '{}': a user name (a lower-case letter or '_', then lower-case letters, digits, '_', '-'; up to 32)",
         core::escape_for_display(name));
}

std::vector<std::string> command_argv(const std::optional<std::string>& user, const std::vector<std::string>& argv) {
  if (!user || *user == "root") return argv;
  std::vector<std::string> out = {"runuser", "-u", *user, "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

CommandReport command_run(const Settings& s, const CommandRequest& rq) {
  // The whole request first: nothing runs when a part is wrong.
  core::validate_label(rq.cluster, "cluster name");
  if (rq.user) check_command_user(*rq.user);
  if (rq.parallel < 1 || rq.parallel > 64) fail(ErrorKind::invalid, "--parallel {}: 1 to 64", rq.parallel);
  if (rq.timeout < 1 || rq.timeout > 86400) fail(ErrorKind::invalid, "--timeout {}: 1 to 86400 seconds", rq.timeout);
  if (!rq.resume && rq.argv.empty()) fail(ErrorKind::invalid, "no command: give it after --");
  for (const auto& a : rq.argv)
    if (a.find('\0') != std::string::npos) fail(ErrorKind::invalid, "the command holds a NUL byte");
  if (rq.resume && *rq.resume < 1) fail(ErrorKind::invalid, "--resume {}: a job id", *rq.resume);
  if (!inventory::open_existing(s)) fail(ErrorKind::not_found, "no cluster {} (see cloe cluster list)", rq.cluster);
  std::vector<Vserver> all = vserver_list(s, {rq.cluster, std::nullopt, std::nullopt});
  auto db = inventory::open(s);
  core::JobRunner jobs(db);
  fs::path base = s.state / "commands";

  Plan plan;
  std::optional<core::JobRecord> earlier;
  if (rq.resume) {
    for (auto& j : jobs.list())
      if (j.id == *rq.resume && j.kind == job_kind) earlier = std::move(j);
    std::string prefix = "command:" + rq.cluster + ":";
    if (!earlier || !earlier->key.starts_with(prefix))
      fail(ErrorKind::not_found,
           "no command job {} in cluster {} (its id: the table footer, the JSON, its first log line with -v)",
           *rq.resume, rq.cluster);
    plan.token = earlier->key.substr(prefix.size());
    plan.dir = base / plan.token;
    auto j = read_json(plan.dir / "request.json");
    if (!j)
      fail(ErrorKind::not_found, "command job {}: its request {} is gone", *rq.resume,
           (plan.dir / "request.json").string());
    plan.target = j->at("target").get<std::string>();
    plan.argv = j->at("argv").get<std::vector<std::string>>();
    if (!j->at("user").is_null()) plan.user = j->at("user").get<std::string>();
    plan.names = j->at("vservers").get<std::vector<std::string>>();
    if (rq.target != plan.target)
      fail(ErrorKind::conflict, "command job {} ran on {}, not {}", *rq.resume, plan.target,
           core::escape_for_display(rq.target));
    if (!rq.argv.empty() && rq.argv != plan.argv)
      fail(ErrorKind::conflict, "command job {} ran another command ({})", *rq.resume, core::format_command(plan.argv));
    if (rq.user && rq.user != plan.user)
      fail(ErrorKind::conflict, "command job {} ran as {}", *rq.resume, plan.user.value_or("root"));
  } else {
    std::vector<Vserver> targets = command_targets(all, rq.target, rq.cluster);
    command_sort(targets, rq.order);
    plan.token = new_token();
    plan.dir = base / plan.token;
    plan.target = rq.target;
    plan.argv = rq.argv;
    plan.user = rq.user;
    for (const auto& v : targets) plan.names.push_back(v.name);
  }
  auto find = [&](const std::string& name) -> const Vserver* {
    auto it = std::ranges::find(all, name, &Vserver::name);
    return it == all.end() ? nullptr : &*it;
  };
  // Each vserver's node and its settings are checked before anything runs.
  for (const auto& n : plan.names)
    if (const Vserver* v = find(n)) vserver_enter_argv(s, *v, {"true"});

  auto lock = core::FileLock::acquire(s.locks, "cloe.command." + plan.token);
  std::error_code ec;
  fs::create_directories(plan.dir / "results", ec);
  if (ec) fail(ErrorKind::io, "create {}: {}", plan.dir.string(), ec.message());
  fs::permissions(base, fs::perms::owner_all, ec);
  if (!rq.resume)
    write_json(plan.dir / "request.json", {{"cluster", rq.cluster},
                                           {"target", plan.target},
                                           {"argv", plan.argv},
                                           {"user", plan.user ? nlohmann::json(*plan.user) : nlohmann::json(nullptr)},
                                           {"vservers", plan.names}});

  // What earlier runs of the job recorded.
  const std::size_t n = plan.names.size();
  std::vector<std::optional<CommandResult>> results(n);
  std::vector<bool> earlier_result(n, false);
  for (std::size_t i = 0; i < n; ++i)
    if (auto j = read_json(result_file(plan, plan.names[i]))) {
      results[i] = result_of(*j);
      results[i]->resumed = true;
      earlier_result[i] = true;
    }

  std::string key = "command:" + rq.cluster + ":" + plan.token;
  CommandReport report;
  report.target = plan.target;
  report.argv = plan.argv;
  if (earlier && earlier->status == core::JobStatus::done) {
    report.job = earlier->id;
  } else {
    // Step i waits for vserver i; before that it lets vservers i .. i+N-1
    // start, so at most N run at once and a run killed before step i has
    // started none after i + N - 1 (with N = 1: none after i - 1).
    std::mutex m;
    std::condition_variable cv;
    std::vector<bool> launched(n, false);
    std::vector<std::jthread> workers;
    auto launch_up_to = [&](std::size_t end) {
      for (std::size_t k = 0; k < std::min(end, n); ++k) {
        if (launched[k]) continue;
        launched[k] = true;
        if (results[k]) continue;
        workers.emplace_back([&, k] {
          CommandResult r;
          try {
            r = run_one(s, plan, find(plan.names[k]), plan.names[k], rq.timeout);
          } catch (const std::exception& e) {  // its result could not be written: reported, not recorded
            r.vserver = plan.names[k];
            r.exit_code = -1;
            r.err = e.what();
          }
          std::lock_guard g(m);
          results[k] = std::move(r);
          cv.notify_all();
        });
      }
    };
    core::Job job{std::string(job_kind), key, {}};
    job.steps.push_back({"begin",
                         [&] {
                           if (auto j = jobs.find(job_kind, key))
                             core::logger("cloe")->info("command job {} on {} vservers (resume with --resume {})",
                                                        j->id, n, j->id);
                         },
                         {}});
    for (std::size_t i = 0; i < n; ++i)
      job.steps.push_back({plan.names[i],
                           [&, i] {
                             launch_up_to(i + static_cast<std::size_t>(rq.parallel));
                             std::unique_lock g(m);
                             cv.wait(g, [&] { return results[i].has_value(); });
                           },
                           {}});
    core::JobResult jr;
    try {
      jr = jobs.run(job, core::JobPolicy::resume);
    } catch (...) {
      for (auto& w : workers) w.join();
      throw;
    }
    for (auto& w : workers) w.join();
    report.job = jr.id;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!results[i]) fail(ErrorKind::internal, "command job {}: no result for {}", report.job, plan.names[i]);
    results[i]->resumed = earlier_result[i];
    report.results.push_back(*results[i]);
  }
  return report;
}

}  // namespace cloe
