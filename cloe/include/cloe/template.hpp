// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Vserver templates: a Debian root tree built with debootstrap, runit as its
// init, kept read-only below cloe's state folder and given to vservers as
// the lower layer of their overlay (../shared/CLOE.md, A vserver).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/paths.hpp"

namespace cloe {

struct TemplateBuildRequest {
  std::string name;                   // an RFC 1123 label
  std::string suite = "bookworm";     // a Debian suite: letters only
  std::vector<std::string> packages;  // installed after the base (Debian package names)
  std::optional<std::string> mirror;  // default: the first Debian mirror of this host's apt sources
  bool force = false;                 // build again even when the inputs are the same
  // A flat apt repository of the suite's packages (packaging/oe-apt-repo):
  // its oe-xoe is installed inside, with its dependencies from the mirror.
  // Without it the template has no xoe.
  std::optional<std::filesystem::path> repository;
  // Software versions ("tryton/7.0") whose code xoe fetches into the
  // template, with the host packages their recipes name (`xoe software
  // deps`): a vserver of it creates services without reaching a mirror.
  // Needs a repository.
  std::vector<std::string> software;
  // The referee's cache of downloaded .deb files and apt lists for that
  // fetch (template.deb_cache): copied in for it, what it downloaded copied
  // back, nothing left in the tree. Default: ROOT/var/cache/oe/debs.
  std::optional<std::filesystem::path> deb_cache;
};

struct TemplateInfo {
  std::string name;
  std::string suite;
  std::vector<std::string> packages;  // the base set, then the request's, sorted, without duplicates
  std::string mirror;
  std::string inputs;    // hex digest of suite, packages and mirror: the same inputs give the same key
  std::string checksum;  // hex BLAKE2b-256 over every entry of the tree (path, type, mode, owner, content)
  std::uint64_t bytes = 0;
  std::filesystem::path root;  // the tree
  std::string built_at;        // ISO 8601, UTC
  std::string xoe;             // the version of oe-xoe inside; empty: none
  std::vector<std::string> software;  // the software versions fetched inside ("tryton/7.0")
  bool operator==(const TemplateInfo&) const = default;
};

struct TemplateBuildResult {
  TemplateInfo info;
  bool built = false;  // false: a template of these inputs was there already
  double seconds = 0;
};

// The packages every template has: runit as PID 1, and what xoe's services
// and cloe's commands need inside.
const std::vector<std::string>& template_base_packages();

// The first `deb` URI of the Debian archive in this host's apt sources
// (sources.list and sources.list.d, one-line and deb822 forms). Throws
// precondition when there is none.
std::string host_debian_mirror(const std::filesystem::path& etc_apt = "/etc/apt");

// Builds the template (debootstrap minbase, the packages, runit set up as
// a vserver's init: no getty, no sysv emulation, a ctrlaltdel that stops at
// once), in NAME.partial, renamed when complete, with its template.json.
// Idempotent: the same inputs and a tree whose checksum still holds change
// nothing. With a repository, the tree before oe-xoe (the base, the
// packages and oe-xoe's dependencies) is kept beside it as NAME.stage and
// reused while its inputs hold, so that a new oe-xoe is a copy and one
// package away. Throws invalid (a bad name, suite or package name; a
// repository without oe-xoe), precondition (no debootstrap, no mirror),
// external (debootstrap or apt failed: the
// partial tree is removed), conflict (another build holds the lock).
TemplateBuildResult build_template(const core::Paths& paths, const TemplateBuildRequest& request);

std::vector<TemplateInfo> list_templates(const core::Paths& paths);
// Throws not_found.
TemplateInfo find_template(const core::Paths& paths, const std::string& name);
// Recomputes the tree's checksum. Throws not_found.
std::string template_checksum(const std::filesystem::path& root);
// Throws not_found.
void remove_template(const core::Paths& paths, const std::string& name);

}  // namespace cloe
