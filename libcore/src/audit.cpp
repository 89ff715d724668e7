// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/audit.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/chrono.h>

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace core {

void audit(const Paths& paths, const AuditRecord& record) noexcept {
  try {
    uid_t uid = ::getuid();
    std::string user = std::to_string(uid);
    if (const passwd* pw = ::getpwuid(uid)) user = pw->pw_name;
    std::time_t now = std::time(nullptr);
    nlohmann::json line = {
        {"time", fmt::format("{:%FT%TZ}", fmt::gmtime(now))},
        {"user", user},
        {"uid", uid},
        {"pid", ::getpid()},
        {"tool", record.tool},
        {"command", record.command},
        {"exit", record.exit_code},
    };
    if (!record.error.empty()) line["error"] = record.error;
    // The person behind sudo, when there is one.
    if (const char* sudo_user = std::getenv("SUDO_USER")) line["sudo_user"] = sudo_user;
    std::string text = line.dump() + "\n";
    auto file = paths.log() / "audit.jsonl";
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
      logger("core")->warn("cannot write the audit log {}", file.string());
      return;
    }
    ssize_t written = ::write(fd, text.data(), text.size());
    ::close(fd);
    if (written != static_cast<ssize_t>(text.size()))
      logger("core")->warn("short write to the audit log {}", file.string());
  } catch (...) {
    // The audit log must never turn a finished operation into a failure.
  }
}

}  // namespace core
