// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/tool.hpp"

#include "core/error.hpp"
#include "core/lock.hpp"
#include "core/validate.hpp"
#include "sqlite_file.hpp"

namespace xoe {

namespace {

// LOCAL@DOMAIN of letters, digits and . _ % + - (written into a service's
// config file: nothing that could end a line or start a section).
bool is_mail_address(const std::string& text) {
  auto at = text.find('@');
  if (at == 0 || at == std::string::npos || at + 1 == text.size() || text.find('@', at + 1) != std::string::npos)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              (i < at && (c == '_' || c == '%' || c == '+')) || i == at;
    if (!ok) return false;
  }
  return true;
}

// smtp:// or smtps:// (Tryton's +ssl and +tls spellings too) and a host,
// with no space or control character (the URL goes into a config file).
void check_smtp_url(const core::ConfigValue& v) {
  const auto& text = std::get<std::string>(v);
  if (text.empty()) return;
  bool ok = false;
  for (std::string_view scheme : {"smtp://", "smtps://", "smtp+tls://", "smtp+ssl://"})
    if (text.starts_with(scheme) && text.size() > scheme.size()) ok = true;
  for (unsigned char c : text) ok = ok && c > ' ' && c != 0x7f;
  if (!ok)
    core::fail(core::ErrorKind::invalid, "'{}': an SMTP URL (smtp://HOST:PORT or smtps://HOST:PORT)",
               core::escape_for_display(text));
}

}  // namespace

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"database.backend", core::ValueType::string, std::string{"postgresql"},
       "Default database backend of new services", core::check_one_of({"postgresql", "sqlite"})},
      {"database.host", core::ValueType::string, std::string{},
       "PostgreSQL server (host or socket folder); empty: a cluster xoe runs under its root"},
      {"database.port", core::ValueType::integer, std::int64_t{5432}, "PostgreSQL port (of database.host)",
       core::check_range(1, 65535)},
      {"database.cluster_port", core::ValueType::integer, std::int64_t{5433},
       "Port on 127.0.0.1 of the cluster xoe runs when database.host is empty", core::check_range(1, 65535)},
      {"database.user", core::ValueType::string, std::string{"postgres"}, "PostgreSQL role xoe connects as"},
      {"services.port_min", core::ValueType::integer, std::int64_t{8000}, "Lowest port given to a service",
       core::check_range(1024, 65535)},
      {"services.port_max", core::ValueType::integer, std::int64_t{8999}, "Highest port given to a service",
       core::check_range(1024, 65535)},
      {"services.listen", core::ValueType::string, std::string{"127.0.0.1"},
       "Address services listen on (a front proxy reaches them there)"},
      {"software.recipes", core::ValueType::string, std::string{},
       "Extra recipe folder searched first; then ROOT/etc/oe/recipes and the installed recipes"},
      {"software.deb_cache", core::ValueType::string, std::string{},
       "Cache of downloaded .deb files and apt lists; empty: ROOT/var/cache/oe/debs"},
      {"supervisor.kind", core::ValueType::string, std::string{"auto"},
       "runit, systemd, or auto (systemd when it is PID 1)", core::check_one_of({"auto", "runit", "systemd"})},
      {"profile.acs_software", core::ValueType::string, std::string{"tryton"},
       "Software of the acs (school) profile's services"},
      {"profile.acs_versions", core::ValueType::list, std::vector<std::string>{"5.0", "6.0", "7.0"},
       "The three versions of the acs profile (production, training and test of each)"},
      {"backup.keep_daily", core::ValueType::integer, std::int64_t{7}, "Daily backups kept",
       core::check_range(0, 3650)},
      {"backup.keep_weekly", core::ValueType::integer, std::int64_t{4}, "Weekly backups kept",
       core::check_range(0, 520)},
      {"backup.keep_monthly", core::ValueType::integer, std::int64_t{3}, "Monthly backups kept",
       core::check_range(0, 240)},
      {"backup.dir", core::ValueType::string, std::string{},
       "Folder of backups (one folder per service); empty: ROOT/var/lib/oe/xoe/backups"},
      {"nightly.schedule", core::ValueType::string, std::string{"30 2 * * *"},
       "When cron runs xoe nightly (the five time fields of a crontab line; written by xoe self-install)",
       [](const core::ConfigValue& v) {
         const auto& text = std::get<std::string>(v);
         std::size_t fields = 0;
         bool in_field = false, ok = true;
         for (char c : text) {
           if (c == ' ') {
             in_field = false;
           } else {
             if (!in_field) ++fields;
             in_field = true;
             ok = ok && ((c >= '0' && c <= '9') || c == '*' || c == ',' || c == '/' || c == '-');
           }
         }
         if (!ok || fields != 5)
           core::fail(core::ErrorKind::invalid, "'{}': five crontab time fields (digits, * , / -)",
                      core::escape_for_display(text));
       }},
      {"locks.wait", core::ValueType::integer, std::int64_t{core::FileLock::default_wait.count()},
       "Seconds a command waits for a lock another command holds before it exits 4 (0: not at all; --wait, "
       "--no-wait)",
       core::check_range(0, 86400)},
      {"mail.catcher", core::ValueType::string, std::string{},
       "SMTP URL (smtp://HOST:PORT) neutralised copies send mail to; empty: smtp://127.0.0.1:1, where nothing "
       "listens, so no mail of a copy leaves the host",
       check_smtp_url},
      {"mail.relay", core::ValueType::string, std::string{},
       "SMTP URL (smtp://HOST:PORT, smtps://...) production services send mail through; empty: smtp://localhost:25 "
       "(this host's own mail server; service create warns)",
       check_smtp_url},
      {"mail.from", core::ValueType::string, std::string{},
       "Sender address of the services' mail (Tryton's [email] from, Odoo's email_from); empty: "
       "noreply@HOSTNAME",
       [](const core::ConfigValue& v) {
         const auto& text = std::get<std::string>(v);
         if (!text.empty() && !is_mail_address(text))
           core::fail(core::ErrorKind::invalid, "'{}': a mail address (LOCAL@DOMAIN, letters, digits and . _ % + -)",
                      core::escape_for_display(text));
       }},
  };
  return schema;
}

// The verbs of the seed's xoe, as options.
const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--self-install"}, {"self-install"}},
      {{"--self-update"}, {"self-update"}},
      {{"--install"}, {"service", "create"}},
      {{"--start"}, {"service", "start"}},
      {{"--stop"}, {"service", "stop"}},
      {{"--restart"}, {"service", "restart"}},
      {{"--status"}, {"service", "status"}},
      {{"--backup"}, {"backup"}},
      {{"--restore"}, {"restore"}},
      {{"--update"}, {"service", "update"}},
      {{"--monitor"}, {"monitor"}},
      {{"--remove"}, {"service", "remove"}},
      {{"--list"}, {"service", "list"}},
  };
  return table;
}

std::optional<int> run_internal_child(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == sqlite_file::child_command) return sqlite_file::child_main();
  return std::nullopt;
}

}  // namespace xoe
