// SPDX-License-Identifier: GPL-3.0-or-later
#include "xoe/logs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <deque>
#include <thread>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "service_impl.hpp"

namespace fs = std::filesystem;

namespace xoe {

using core::ErrorKind;
using core::fail;

namespace {

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// "YYYY-MM-DD?HH:MM:SS.F+" with ? one of '_' (svlogd -tt) or 'T' (-ttt).
bool human_stamp(std::string_view s) {
  if (s.size() < 21 || s[4] != '-' || s[7] != '-' || (s[10] != '_' && s[10] != 'T') || s[13] != ':' ||
      s[16] != ':' || s[19] != '.')
    return false;
  return digits(s.substr(0, 4)) && digits(s.substr(5, 2)) && digits(s.substr(8, 2)) && digits(s.substr(11, 2)) &&
         digits(s.substr(14, 2)) && digits(s.substr(17, 2)) && digits(s.substr(20));
}

// Reads the whole file (a log file: svlogd keeps each under its size limit).
std::string slurp(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      core::fail_errno(ErrorKind::io, "read log", errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// Splits complete lines off `data` into `out`; the incomplete rest stays in `data`.
void take_lines(std::string& data, std::vector<std::string>& out) {
  std::size_t start = 0;
  for (auto nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
    out.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  data.erase(0, start);
}

std::vector<std::string> lines_of(const fs::path& file) {
  core::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  std::vector<std::string> out;
  if (fd.get() < 0) return out;
  std::string data = slurp(fd.get());
  if (!data.empty() && data.back() != '\n') data += '\n';
  take_lines(data, out);
  return out;
}

// The rotated files, newest first: svlogd's (runit; their names are TAI64N
// stamps) and logrotate's `current.N` (systemd units; docs/xoe.md, Logs). A
// service moved between supervisors may have both: by modification time.
std::vector<fs::path> rotated(const fs::path& dir) {
  std::vector<std::pair<fs::file_time_type, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    bool svlogd = f.size() == 27 && f[0] == '@' && hex(f.substr(1, 24)) && (f.ends_with(".s") || f.ends_with(".u"));
    bool logrotate = f.size() > 8 && f.starts_with("current.") &&
                     f.find_first_not_of("0123456789", 8) == std::string::npos;
    if (!svlogd && !logrotate) continue;
    std::error_code ec2;
    found.emplace_back(e.last_write_time(ec2), e.path());
  }
  // Newest first; between equal times, svlogd's later stamp or logrotate's lower number.
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    std::string x = a.second.filename().string(), y = b.second.filename().string();
    if (x[0] == '@' && y[0] == '@') return x > y;
    if (x[0] != '@' && y[0] != '@') return std::atol(x.c_str() + 8) < std::atol(y.c_str() + 8);
    return x[0] != '@';
  });
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

void keep_last(std::vector<std::string>& lines, std::size_t count) {
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
}

fs::path log_dir(const Settings& s, const std::string& name) {
  (void)detail::need_service(s, name);
  return s.logs / name;
}

}  // namespace

LogLine parse_log_line(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos) return {std::nullopt, std::string(line)};
  std::string_view stamp = line.substr(0, space);
  std::string text(line.substr(space + 1));
  if (human_stamp(stamp)) {
    std::string t(stamp);
    t[10] = 'T';
    return {t + "Z", text};
  }
  if (stamp.size() == 25 && stamp[0] == '@' && hex(stamp.substr(1))) {
    // TAI64N: 2^62 + TAI seconds, then nanoseconds. svlogd takes TAI as UTC + 10 s (daemontools' convention).
    std::uint64_t label = std::stoull(std::string(stamp.substr(1, 16)), nullptr, 16);
    std::uint64_t nanos = std::stoull(std::string(stamp.substr(17, 8)), nullptr, 16);
    constexpr std::uint64_t epoch = (std::uint64_t{1} << 62) + 10;
    if (label < epoch || nanos >= 1000000000) return {std::nullopt, std::string(line)};
    std::time_t secs = static_cast<std::time_t>(label - epoch);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return {fmt::format("{}.{:06}Z", buf, nanos / 1000), text};
  }
  return {std::nullopt, std::string(line)};
}

std::vector<std::string> last_log_lines(const fs::path& dir, std::size_t count) {
  std::vector<std::string> out = lines_of(dir / "current");
  for (const auto& f : rotated(dir)) {
    if (out.size() >= count) break;
    auto older = lines_of(f);
    out.insert(out.begin(), older.begin(), older.end());
  }
  keep_last(out, count);
  return out;
}

ServiceLog read_service_log(const Settings& s, const std::string& name, std::size_t count) {
  fs::path dir = log_dir(s, name);
  return {name, dir / "current", last_log_lines(dir, count)};
}

void follow_service_log(const Settings& s, const std::string& name, std::size_t count,
                        const std::function<void(const std::vector<std::string>&)>& print,
                        const std::function<bool()>& keep_going, std::chrono::milliseconds poll) {
  fs::path dir = log_dir(s, name), current = dir / "current";
  core::Fd fd;
  ino_t ino = 0;
  std::string partial;
  auto open_current = [&] {
    fd = core::Fd(::open(current.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    ino = fd.get() >= 0 && ::fstat(fd.get(), &st) == 0 ? st.st_ino : 0;
    partial.clear();
  };
  // The last lines: the rotated files, then what `current` holds when it is opened.
  open_current();
  std::vector<std::string> first;
  if (fd.get() >= 0) {
    partial = slurp(fd.get());
    take_lines(partial, first);
  }
  for (const auto& f : rotated(dir)) {
    if (first.size() >= count) break;
    auto older = lines_of(f);
    first.insert(first.begin(), older.begin(), older.end());
  }
  keep_last(first, count);
  if (!first.empty()) print(first);
  while (keep_going()) {
    std::this_thread::sleep_for(poll);
    std::vector<std::string> batch;
    if (fd.get() >= 0) {
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0 && st.st_size < ::lseek(fd.get(), 0, SEEK_CUR)) {
        ::lseek(fd.get(), 0, SEEK_SET);  // truncated
        partial.clear();
      }
      partial += slurp(fd.get());
      take_lines(partial, batch);
    }
    struct stat now {};
    if (::stat(current.c_str(), &now) == 0 && (fd.get() < 0 || now.st_ino != ino)) {
      // Rotated (or created): what svlogd wrote to the renamed file before the rename, then the new `current`.
      if (fd.get() >= 0) {
        partial += slurp(fd.get());
        take_lines(partial, batch);
        if (!partial.empty()) batch.push_back(partial);
      }
      open_current();
      if (fd.get() >= 0) {
        partial = slurp(fd.get());
        take_lines(partial, batch);
      }
    }
    if (!batch.empty()) print(batch);
  }
}

}  // namespace xoe
