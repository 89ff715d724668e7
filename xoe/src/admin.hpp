// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Private helpers of the administrative commands on one existing service
// (service_config.cpp, database.cpp, retire.cpp): the service's template
// values, starting it, re-rendering its files after a change of port or
// database name, its stored settings, and the memo that lets a killed job be
// finished by the next run of the same request.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/jobs.hpp"
#include "registry.hpp"
#include "service_impl.hpp"
#include "xoe/recipe.hpp"
#include "xoe/service_config.hpp"
#include "xoe/settings.hpp"

namespace xoe::detail {

// A service as its files are rendered: the registry row, its recipe and layout.
struct Service {
  registry::ServiceRow row;
  Recipe recipe;
  Layout l;
};
Service load_service(const Settings& s, const std::string& name);

// The template values of `svc`, with the port and database of `row` (which may differ from svc.row: a change).
TemplateVars service_vars(const Settings& s, const Service& svc, const registry::ServiceRow& row);

// Rewrites the config file and, when the port or database is in it, the
// supervisor's run file of `svc` from the values of `from` to those of `to`
// (ini::rebase: what else the file holds stays). Idempotent.
void rebase_files(const Settings& s, const Service& svc, const registry::ServiceRow& from,
                  const registry::ServiceRow& to);

// Writes the config file again from the current one with the stored settings of the service applied.
void write_settings_into_config(const Settings& s, const Service& svc);

// The stored settings of a service (service_settings), sorted by key.
struct StoredSetting {
  std::string key, value, updated;
};
std::vector<StoredSetting> stored_settings(core::sqlite::Database& db, const std::string& name);

// The config text of service `name` with its stored settings applied (restore and copy re-render the config).
std::string with_stored_settings(const Settings& s, const std::string& name, const std::string& software,
                                 const std::string& config);

bool is_running(const Settings& s, const Service& svc);
// Starts the service through the supervisor and waits for its probe.
void start_and_probe(const Settings& s, const Service& svc);

// The jobs service.config, db.drop, db.create and db.rename keep their
// request and what they found before they began (was the service running,
// the old values) in the memo services/NAME/admin-job.json while unfinished.
// unfinished_memo returns the memo of an unfinished job of `kind` on `name`
// started with the same `request` (the caller resumes it), nullopt when
// there is none. Throws conflict when it has another request, or when an
// unfinished job of another kind (restore and copy included) works on the service.
std::optional<nlohmann::json> unfinished_memo(const Settings& s, core::JobRunner& jobs, const std::string& kind,
                                              const std::string& name, const nlohmann::json& request);
void write_memo(const Settings& s, const std::string& name, const nlohmann::json& memo);
void remove_memo(const Settings& s, const std::string& name);

}  // namespace xoe::detail
