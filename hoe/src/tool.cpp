// SPDX-License-Identifier: GPL-3.0-or-later
#include "hoe/tool.hpp"

namespace hoe {

const core::Schema& config_schema() {
  static const core::Schema schema = {
      {"mail.relay", core::ValueType::string, std::string{},
       "SMTP URL of the relay (smtp://host:port); empty: mails go to the outbox folder"},
      {"mail.from", core::ValueType::string, std::string{"hosting@localhost"}, "Sender of the mails to customers"},
      {"expiry.warn_days", core::ValueType::integer, std::int64_t{30},
       "Days between the expiry warning and the removal", core::check_range(0, 365)},
  };
  return schema;
}

// Every hoe example of the seed, and the modern command it means.
const core::legacy::Table& legacy_table() {
  static const core::legacy::Table table = {
      {{"--subscription", "-declare"}, {"subscription", "declare"}},
      {{"--subscription", "-configure"}, {"subscription", "configure"}},
      {{"--subscription", "-install"}, {"subscription", "install"}},
      {{"--subscription", "-close"}, {"subscription", "close"}},
      {{"--subscription", "-check", "-expired"}, {"subscription", "check-expired"}},
      {{"--subscription", "-set", "-expired"}, {"subscription", "check-expired"}},
      {{"--config", "-edit", "-global"}, {"config", "edit", "global"}},
      {{"--config", "-edit", "-subscriptions"}, {"config", "edit", "subscriptions"}},
      {{"--config", "-edit", "-iptables"}, {"config", "edit", "firewall"}},
      {{"--config", "-edit", "-firewall"}, {"config", "edit", "firewall"}},
      {{"--update"}, {"update"}},
      {{"--mail", "-start-date"}, {"mail", "start-date"}},
      {{"--log"}, {"log"}},
  };
  return table;
}

}  // namespace hoe
