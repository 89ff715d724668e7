// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/cli.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "core/audit.hpp"
#include "core/log.hpp"
#include "core/output.hpp"

namespace core::cli {
namespace {

// The first word of `args` that names no subcommand where one is needed.
std::optional<std::string> unknown_command(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* level = &app;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--root" || word == "--set" || word == "--wait") {
      ++i;  // skip the value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    const CLI::App* sub = nullptr;
    for (const CLI::App* candidate : level->get_subcommands([](const CLI::App*) { return true; }))
      if (candidate->get_name() == word) sub = candidate;
    if (!sub) return level->get_require_subcommand_min() > 0 ? std::optional(word) : std::nullopt;
    level = sub;
  }
  return std::nullopt;
}

// CLI11's messages, reduced to one line that names the offending word.
std::string one_line(const CLI::ParseError& e, const CLI::App& app, const std::vector<std::string>& args,
                     const std::string& tool) {
  std::string msg = e.what();
  if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  if (msg.rfind("A subcommand is required", 0) == 0) {
    if (auto word = unknown_command(app, args)) return "unknown command '" + *word + "' (see " + tool + " --help)";
    return "no command given (see " + tool + " --help)";
  }
  for (const std::string extras : {"The following arguments were not expected: ",
                                   "The following argument was not expected: "}) {
    if (msg.rfind(extras, 0) != 0) continue;
    std::string word = msg.substr(extras.size());
    if (auto sp = word.find(' '); sp != std::string::npos) word.resize(sp);
    if (!word.empty() && word[0] == '-') return "unknown option '" + word + "'";
    return "unexpected argument '" + word + "'";
  }
  return msg;
}

// `--command-tree`: one line per command, "PATH<TAB>SUBCOMMANDS<TAB>OPTIONS"
// (PATH the words from the tool, empty for the tool itself; an option that
// takes a value ends with '='). The bash completion is made from it at build
// time (scripts/oe-completion), so it follows the commands.
void print_tree(const CLI::App& app, const std::string& path) {
  std::string subs;
  std::string opts;
  std::vector<const CLI::App*> children = app.get_subcommands([](const CLI::App*) { return true; });
  for (const CLI::App* sub : children) subs += (subs.empty() ? "" : " ") + sub->get_name();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_positional()) continue;
    std::string suffix = opt->get_expected_min() > 0 ? "=" : "";  // a flag expects 0 values
    for (const std::string& name : opt->get_lnames()) opts += (opts.empty() ? "--" : " --") + name + suffix;
    for (const std::string& name : opt->get_snames()) opts += (opts.empty() ? "-" : " -") + name + suffix;
  }
  std::cout << path << '\t' << subs << '\t' << opts << '\n';
  for (const CLI::App* sub : children) print_tree(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name());
}

}  // namespace

const char* version() noexcept { return OE_VERSION; }

Frame::Frame(std::string tool, std::string description, Schema schema, legacy::Table legacy,
             legacy::AtCluster at_cluster)
    : tool_(std::move(tool)),
      schema_(std::move(schema)),
      legacy_(std::move(legacy)),
      at_cluster_(at_cluster),
      app_(std::make_unique<CLI::App>(std::move(description), tool_)) {
  // The modes of what the tools write are theirs, not the caller's: a
  // umask of 077 (goe's own, once, with libxoe in process) made folders of
  // a service that its own user could not enter; an admin's or cron's would
  // do the same. Secrets are written with explicit modes.
  ::umask(022);
  auto& app = *app_;
  app.set_version_flag("--version", std::string(tool_) + " " + OE_VERSION);
  app.fallthrough();  // global options may follow the subcommand
  app.add_flag("--json", globals_.json, "Machine-readable output (JSON) for commands that show or list");
  app.add_flag("-v,--verbose", globals_.verbose, "More log output on stderr (-vv: debug)");
  app.add_flag("-q,--quiet", globals_.quiet, "Errors only on stderr");
  app.add_option("--root", globals_.root, "Root folder for all files (default /, or $OE_ROOT)");
  app.add_option("--set", globals_.set, "Override a configuration value: KEY=VALUE (repeatable)");
  // Commands that lock wait a while for a held lock, announcing it; these
  // bound the wait of this run (the setting locks.wait, given on the command line).
  if (std::ranges::any_of(schema_, [](const ConfigKey& key) { return key.name == "locks.wait"; })) {
    auto* wait = app.add_option("--wait", globals_.wait,
                                "Wait at most SECONDS for a lock another command holds, then exit 4 (locks.wait)")
                     ->type_name("SECONDS")
                     ->check(CLI::Range(std::int64_t{0}, std::int64_t{86400}));
    app.add_flag("--no-wait", globals_.no_wait, "Exit 4 at once when a lock is held (--wait 0)")->excludes(wait);
  }
  app.footer("Exit codes: 0 ok, 1 failed, 2 usage or bad input, 3 not found, 4 conflict or locked,\n"
             "5 external system failed, 6 host not ready. See docs/exit-codes.md.");
}

CLI::App* Frame::command(CLI::App& parent, const std::string& name, const std::string& description,
                         Effect effect, std::function<int()> run) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->require_subcommand(0);
  sub->callback([this, effect, run = std::move(run)] {
    selected_ = run;
    selected_effect_ = effect;
  });
  return sub;
}

CLI::App* Frame::group(CLI::App& parent, const std::string& name, const std::string& description) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->require_subcommand(1);
  return sub;
}

int Frame::run(int argc, char** argv) {
  std::vector<std::string> raw(argv + 1, argv + argc);
  if (raw.size() == 1 && raw[0] == "--command-tree") {  // hidden: for the completion (print_tree)
    print_tree(*app_, "");
    std::cout.flush();
    return 0;
  }
  args_ = legacy::translate(legacy_, raw, at_cluster_);
  app_->require_subcommand(1);
  std::vector<std::string> reversed(args_.rbegin(), args_.rend());  // CLI11 wants them reversed
  try {
    app_->parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app_->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app_->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app_->exit(e);
  } catch (const CLI::ParseError& e) {
    throw Error(ErrorKind::invalid, one_line(e, *app_, args_, tool_));
  }
  Verbosity verbosity = globals_.quiet          ? Verbosity::quiet
                        : globals_.verbose >= 2 ? Verbosity::debug
                        : globals_.verbose == 1 ? Verbosity::verbose
                                                : Verbosity::normal;
  setup_logging(tool_, verbosity);
  if (globals_.no_wait) globals_.set.push_back("locks.wait=0");
  if (globals_.wait) globals_.set.push_back("locks.wait=" + std::to_string(*globals_.wait));
  if (!selected_) throw Error(ErrorKind::invalid, "no command given (see " + tool_ + " --help)");
  config();  // a broken configuration file stops every command before it acts
  if (selected_effect_ == Effect::mutates) paths().prepare_for_writing();
  int code = selected_();
  if (selected_effect_ == Effect::mutates) audit(paths(), {tool_, args_, code, {}});
  return code;
}

int Frame::report(const Error& error) {
  std::fflush(stdout);
  std::cerr << tool_ << ": " << error.what() << std::endl;
  int code = exit_code_for(error.kind());
  if (selected_ && selected_effect_ == Effect::mutates && paths_) audit(*paths_, {tool_, args_, code, error.what()});
  return code;
}

const Paths& Frame::paths() {
  if (!paths_) paths_ = Paths::resolve(globals_.root);
  return *paths_;
}

const Config& Frame::config() {
  if (!config_) config_ = Config::load(tool_, schema_, paths().config_file(tool_), globals_.set, environment());
  return *config_;
}

void Frame::out(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void add_config_commands(Frame& frame) {
  CLI::App* config = frame.group(frame.app(), "config", "Show the configuration");
  frame.command(*config, "show", "Print every configuration value with its origin", Effect::reads, [&frame] {
    const Config& cfg = frame.config();
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : cfg.entries()) {
        nlohmann::json value;
        if (e.key->secret)
          value = "***";
        else
          std::visit([&](const auto& v) { value = v; }, e.value);
        list.push_back({{"key", e.key->name}, {"value", value}, {"origin", e.origin},
                        {"description", e.key->description}});
      }
      Frame::out(nlohmann::json{{"version", 1}, {"tool", frame.tool()},
                                {"file", frame.paths().config_file(frame.tool()).string()},
                                {"config", list}}.dump(2) + "\n");
    } else {
      Table table{{"KEY", "VALUE", "ORIGIN"}, {}};
      for (const auto& e : cfg.entries()) table.rows.push_back({e.key->name, Config::display(e), e.origin});
      Frame::out(render_table(table, stdout_colour()));
    }
    return 0;
  });
}

}  // namespace core::cli
