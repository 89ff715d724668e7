// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One function per xoe command, each in its own cmd_<verb>.cpp. Every JSON
// answer is an object with "version": 1 (the contract, docs/xoe.md).

#include <nlohmann/json.hpp>

#include "core/cli.hpp"
#include "xoe/service.hpp"
#include "xoe/settings.hpp"

namespace xoe::cli {

inline constexpr int json_version = 1;

Settings settings(core::cli::Frame& frame);
nlohmann::json service_json(const ServiceInfo& s, bool detailed);

void add_software(core::cli::Frame& frame);
void add_service_create(core::cli::Frame& frame, CLI::App& service);
void add_service_list(core::cli::Frame& frame, CLI::App& service);
void add_service_show(core::cli::Frame& frame, CLI::App& service);
void add_service_control(core::cli::Frame& frame, CLI::App& service);
void add_service_remove(core::cli::Frame& frame, CLI::App& service);
void add_service_update(core::cli::Frame& frame, CLI::App& service);
void add_service_logs(core::cli::Frame& frame, CLI::App& service);
void add_service_config(core::cli::Frame& frame, CLI::App& service);
void add_supervisor(core::cli::Frame& frame);
void add_backup(core::cli::Frame& frame);
void add_restore(core::cli::Frame& frame);
void add_db(core::cli::Frame& frame);
void add_training(core::cli::Frame& frame);
void add_nightly(core::cli::Frame& frame);
void add_profile(core::cli::Frame& frame);
void add_monitor(core::cli::Frame& frame);
void add_students(core::cli::Frame& frame);
void add_self(core::cli::Frame& frame);

}  // namespace xoe::cli
