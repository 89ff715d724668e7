// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// One function per xoe command, each in its own cmd_<verb>.cpp. Every JSON
// answer is rendered by xoe/wire.hpp (the contract, docs/xoe.md).

#include "core/cli.hpp"
#include "xoe/service.hpp"
#include "xoe/settings.hpp"
#include "xoe/wire.hpp"

namespace xoe::cli {

Settings settings(core::cli::Frame& frame);

// Prints the answer of `result` (--json).
template <typename T>
void print_answer(const T& result) {
  core::cli::Frame::out(wire::render(wire::answer(result)));
}

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
