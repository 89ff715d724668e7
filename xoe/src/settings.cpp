// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/settings.hpp"

#include <unistd.h>

#include <string>

#include "xoe/recipe.hpp"

namespace xoe {

Settings make_settings(const core::Paths& paths, const core::Config& config) {
  Settings s;
  s.root = paths.root();
  s.state = paths.data("xoe");
  s.logs = paths.log() / "xoe";
  s.run = paths.run() / "xoe";
  s.locks = {paths.locks(), std::chrono::seconds(config.get_int("locks.wait"))};
  s.recipe_dirs = recipe_dirs(paths.etc(), config.get_string("software.recipes"));
  const auto& cache = config.get_string("software.deb_cache");
  s.deb_cache = cache.empty() ? paths.root() / "var/cache/oe/debs" : std::filesystem::path(cache);
  s.default_backend = config.get_string("database.backend");
  s.db_host = config.get_string("database.host");
  s.db_port = config.get_int("database.port");
  s.db_user = config.get_string("database.user");
  s.db_service_host = s.db_host;
  if (s.db_host.empty()) {
    s.own_cluster = true;
    s.cluster_data = paths.root() / "var/lib/postgresql/oe-xoe";
    // Its socket in its data folder (postgres's, 0700): root alone reaches
    // it, and no folder under /run must be made again after a reboot.
    s.db_host = s.cluster_data.string();
    s.db_port = config.get_int("database.cluster_port");
    s.db_service_host = "127.0.0.1";
  } else if (s.db_host.front() == '/') {
    s.db_service_host = "127.0.0.1";
  }
  s.port_min = config.get_int("services.port_min");
  s.port_max = config.get_int("services.port_max");
  s.listen = config.get_string("services.listen");
  s.supervisor = config.get_string("supervisor.kind");
  s.mail_catcher = config.get_string("mail.catcher");
  // No catcher configured: a port nothing listens on, so no mail of a copy leaves the host.
  if (s.mail_catcher.empty()) s.mail_catcher = "smtp://127.0.0.1:1";
  s.mail_relay = config.get_string("mail.relay");
  s.mail_from = config.get_string("mail.from");
  if (s.mail_from.empty()) {
    // A host name is letters, digits, '-' and '.': a valid domain of the address.
    char host[256] = {};
    std::string name = ::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? host : "localhost";
    s.mail_from = "noreply@" + name;
  }
  s.nightly_schedule = config.get_string("nightly.schedule");
  s.keep_daily = config.get_int("backup.keep_daily");
  s.keep_weekly = config.get_int("backup.keep_weekly");
  s.keep_monthly = config.get_int("backup.keep_monthly");
  s.acs_software = config.get_string("profile.acs_software");
  s.acs_versions = config.get_list("profile.acs_versions");
  const auto& backups = config.get_string("backup.dir");
  s.backups = backups.empty() ? s.state / "backups" : std::filesystem::path(backups);
  return s;
}

}  // namespace xoe
