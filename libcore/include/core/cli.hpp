// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the five executables share: the global options (--help, --version,
// --json, -v/-q, --root, --set; --wait/--no-wait for a tool whose schema has
// `locks.wait`), the seed's syntax, logging set-up, the
// audit of mutating commands, the mapping of errors to exit codes, and the
// `config show` command. Each tool's main() builds a Frame, registers its
// commands (one file each), and is the one place that catches core::Error.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/legacy.hpp"
#include "core/paths.hpp"

namespace core::cli {

struct Globals {
  bool json = false;
  int verbose = 0;
  bool quiet = false;
  std::optional<std::string> root;
  std::vector<std::string> set;
  // --wait SECONDS / --no-wait: a last `--set locks.wait=...` (only for a
  // tool whose configuration has locks.wait).
  std::optional<std::int64_t> wait;
  bool no_wait = false;
};

// Does the command change state? Mutating commands prepare the root for
// writing and are recorded in the audit log.
enum class Effect { reads, mutates };

class Frame {
 public:
  Frame(std::string tool, std::string description, Schema schema, legacy::Table legacy,
        legacy::AtCluster at_cluster = legacy::AtCluster::no);

  CLI::App& app() noexcept { return *app_; }
  const std::string& tool() const noexcept { return tool_; }

  // Adds a subcommand of `parent` whose action is `run` (returns the exit code).
  CLI::App* command(CLI::App& parent, const std::string& name, const std::string& description,
                    Effect effect, std::function<int()> run);
  // Adds a group of subcommands (e.g. "config") that needs one of them.
  CLI::App* group(CLI::App& parent, const std::string& name, const std::string& description);

  // Parses and runs the chosen command; returns its exit code. Usage errors
  // throw core::Error(invalid); --help and --version print and return 0.
  int run(int argc, char** argv);

  // Prints "tool: message" on stderr, audits a failed mutating command, and
  // returns the exit code of the error's kind.
  int report(const Error& error);

  const Globals& globals() const noexcept { return globals_; }
  // Resolved once, on first use, after parsing.
  const Paths& paths();
  const Config& config();

  // What a command prints on stdout (the result; logs go to stderr).
  static void out(const std::string& text);

 private:
  std::string tool_;
  Schema schema_;
  legacy::Table legacy_;
  legacy::AtCluster at_cluster_;
  std::unique_ptr<CLI::App> app_;
  Globals globals_;
  std::optional<Paths> paths_;
  std::optional<Config> config_;
  std::function<int()> selected_;
  Effect selected_effect_ = Effect::reads;
  std::vector<std::string> args_;
};

// Registers `config show` (every value with its origin; --json).
void add_config_commands(Frame& frame);

// The suite's version string.
const char* version() noexcept;

}  // namespace core::cli
