// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What every xoe operation needs to know about its host: the root's folders
// and the configuration values, typed. Built once by the executable.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/lock.hpp"
#include "core/paths.hpp"

namespace xoe {

struct Settings {
  std::filesystem::path root;                      // the suite's root ("/" in production)
  std::filesystem::path state;                     // ROOT/var/lib/oe/xoe
  std::filesystem::path logs;                      // ROOT/var/log/oe/xoe
  std::filesystem::path run;                       // ROOT/run/oe/xoe
  core::LockDir locks;  // ROOT/run/oe/locks, waited for locks.wait seconds (--wait, --no-wait)
  std::vector<std::filesystem::path> recipe_dirs;  // searched in order
  std::filesystem::path deb_cache;                 // downloaded .deb files and apt lists
  std::filesystem::path apt_etc = "/etc/apt";      // where the mirror is read from

  std::string default_backend;  // "postgresql" or "sqlite"
  // xoe's own connection, as the superuser db_user: database.host and
  // database.port, or, when database.host is empty (own_cluster), the socket
  // folder and port of the cluster xoe runs itself (pg.hpp).
  std::string db_host;
  std::int64_t db_port = 5432;
  std::string db_user;
  bool own_cluster = false;
  std::filesystem::path cluster_data;  // own_cluster: ROOT/var/lib/postgresql/oe-xoe
  // The host the services' servers connect to (over TCP, with their own
  // roles): database.host, or 127.0.0.1 for the own cluster and for a socket folder.
  std::string db_service_host;
  std::int64_t port_min = 8000;
  std::int64_t port_max = 8999;
  std::string listen;  // address services listen on
  std::string supervisor = "auto";  // supervisor.kind: runit, systemd or auto (supervisor.hpp)
  std::string mail_catcher;  // smtp://HOST:PORT neutralised copies send mail to
  std::string mail_relay;    // mail.relay: what production services send through; empty: none configured
  std::string mail_from;     // the services' sender: mail.from, or noreply@HOSTNAME
  std::filesystem::path backups;  // backups of service NAME go to backups/NAME/
  std::string nightly_schedule = "30 2 * * *";  // cron's time fields for xoe nightly
  std::int64_t keep_daily = 7;
  std::int64_t keep_weekly = 4;
  std::int64_t keep_monthly = 3;
  std::string acs_software = "tryton";                               // profile acs
  std::vector<std::string> acs_versions = {"5.0", "6.0", "7.0"};

  std::filesystem::path database() const { return state / "xoe.db"; }
  std::filesystem::path software_dir() const { return state / "software"; }
  std::filesystem::path services_dir() const { return state / "services"; }
  std::filesystem::path templates_dir() const { return state / "templates"; }
  std::filesystem::path scan_dir() const { return state / "sv"; }
  std::filesystem::path work_dir() const { return state / "work"; }  // restores and copies in progress
};

Settings make_settings(const core::Paths& paths, const core::Config& config);

}  // namespace xoe
