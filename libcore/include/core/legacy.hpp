// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The seed's argument style, kept working: `hoe --subscription -declare`,
// `cloe @cluster --new -vserver`, `cloe @cluster --command GROUP root "CMD"`.
// Each tool owns a table of rules; translate() rewrites such a command line
// into the modern subcommands before parsing, so old cron lines and scripts
// keep running.

#include <string>
#include <vector>

namespace core::legacy {

struct Rule {
  std::vector<std::string> legacy;  // e.g. {"--subscription", "-check", "-expired"}; matched ignoring case
  std::vector<std::string> modern;  // e.g. {"subscription", "check-expired"}
};

using Table = std::vector<Rule>;

enum class AtCluster { no, yes };

// Rewrites `args` (argv without the program name). Leading global options
// (--json, -v, -q, --root DIR, --set KEY=VALUE) are kept in place; with
// AtCluster::yes a first word "@NAME" becomes "--cluster NAME"; then the
// longest rule whose legacy words start the rest is replaced by its modern
// words, and the remaining arguments follow unchanged. A command line that
// matches no rule is returned unchanged (beside the @NAME rewrite).
std::vector<std::string> translate(const Table& table, std::vector<std::string> args,
                                   AtCluster at_cluster = AtCluster::no);

}  // namespace core::legacy
