// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace core {
namespace {

constexpr std::string_view tiers[] = {"core", "poe", "xoe", "cloe", "hoe", "goe"};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(std::string_view name) {
  std::lock_guard lock(registry_mutex());
  if (auto existing = spdlog::get(std::string(name))) return existing;
  auto fallback = spdlog::default_logger();
  auto created = std::make_shared<spdlog::logger>(std::string(name), fallback->sinks().begin(),
                                                  fallback->sinks().end());
  created->set_level(fallback->level());
  spdlog::register_logger(created);
  return created;
}

void setup_logging(std::string_view tool, Verbosity verbosity) {
  std::lock_guard lock(registry_mutex());
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::warn;
  switch (verbosity) {
    case Verbosity::quiet: level = spdlog::level::err; break;
    case Verbosity::normal: level = spdlog::level::warn; break;
    case Verbosity::verbose: level = spdlog::level::info; break;
    case Verbosity::debug: level = spdlog::level::debug; break;
  }
  sink->set_pattern(std::string(tool) + ": %^%l%$: [%n] %v");
  spdlog::drop_all();
  auto default_logger = std::make_shared<spdlog::logger>(std::string(tool), sink);
  default_logger->set_level(level);
  spdlog::set_default_logger(default_logger);
  for (auto name : tiers) {
    if (name == tool) continue;
    auto l = std::make_shared<spdlog::logger>(std::string(name), sink);
    l->set_level(level);
    spdlog::register_logger(l);
  }
}

}  // namespace core
