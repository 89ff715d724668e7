// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// cloe update (the seed's `--update`): the suite's oe-xoe package of a flat
// repository (oe-apt-repo) upgraded in every running vserver of the
// cluster that has xoe, node by node (by name), vserver by vserver (by
// name), stopping at the first failure. In each vserver, as its root: the
// installed version is read (dpkg-query); when it differs, the package is
// streamed in on stdin (written there by the vserver's own root: the
// referee follows none of the customer's paths), installed with apt-get
// (its dependencies must be there already: a vserver reaches no mirror),
// removed again, and the version read back. Idempotent: a second run finds
// every vserver up to date; a run that stopped is finished by the next one.
#include <filesystem>
#include <string>
#include <vector>

#include "cloe/inventory.hpp"

namespace cloe {

struct UpdateRequest {
  std::string cluster;
  std::filesystem::path repository;  // a flat repository holding oe-xoe
  bool dry_run = false;              // only read what is installed
};

struct UpdateEntry {
  std::string node;
  std::string vserver;
  std::string before;  // the version found; empty: none
  std::string after;   // the version now (dry run: the one it would get)
  // updated, would-update, up-to-date, skipped (does not run / has no
  // xoe), failed, not-reached (after a failure)
  std::string outcome;
  std::string detail;
};

struct UpdateResult {
  std::string version;  // the repository's oe-xoe
  std::vector<UpdateEntry> vservers;
  bool failed() const;
};

// Throws invalid (the repository has no oe-xoe), not_found (no such
// cluster). A vserver's failure is its entry's (failed), and what comes
// after it is not reached.
UpdateResult update_cluster(const Settings& settings, const UpdateRequest& request);

}  // namespace cloe
