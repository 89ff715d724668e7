// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/validate.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <system_error>

namespace core {
namespace {

// Why a value was rejected. Reasons are static strings so that the is_X()
// forms never allocate; `context` says which part of the value is wrong.
struct Reason {
  std::string_view context;
  std::string_view text;
};
using Check = std::optional<Reason>;  // nullopt: the value is valid

[[noreturn]] void reject(std::string_view what, std::string_view shown, const Reason& reason) {
  throw Error(ErrorKind::invalid,
              fmt::format("{} '{}': {}{}", what, escape_for_display(shown), reason.context, reason.text));
}

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
constexpr bool is_control(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool has_control(std::string_view value) noexcept {
  return std::ranges::any_of(value, [](char c) { return is_control(c); });
}

enum class Case { lower_only, any };

enum class LabelProblem { none, empty, too_long, uppercase, bad_character, hyphen_at_end };

LabelProblem label_problem(std::string_view value, Case letter_case) noexcept {
  if (value.empty()) return LabelProblem::empty;
  if (value.size() > 63) return LabelProblem::too_long;
  for (char c : value) {
    if (is_lower(c) || is_digit(c) || c == '-') continue;
    if (is_upper(c)) {
      if (letter_case == Case::any) continue;
      return LabelProblem::uppercase;
    }
    return LabelProblem::bad_character;
  }
  if (value.front() == '-' || value.back() == '-') return LabelProblem::hyphen_at_end;
  return LabelProblem::none;
}

Check check_label(std::string_view value, Case letter_case) noexcept {
  switch (label_problem(value, letter_case)) {
    case LabelProblem::none: return std::nullopt;
    case LabelProblem::empty: return Reason{{}, "must not be empty"};
    case LabelProblem::too_long: return Reason{{}, "must be at most 63 characters"};
    case LabelProblem::uppercase: return Reason{{}, "must be lowercase"};
    case LabelProblem::bad_character: return Reason{{}, "may contain only lowercase letters a-z, digits and '-'"};
    case LabelProblem::hyphen_at_end: return Reason{{}, "must not start or end with '-'"};
  }
  return Reason{{}, "is not a valid name"};
}

Check check_fqdn(std::string_view value, Case letter_case) noexcept {
  if (value.empty()) return Reason{{}, "must not be empty"};
  if (value.size() > 253) return Reason{{}, "must be at most 253 characters"};
  if (value.back() == '.') return Reason{{}, "must not end with '.'"};
  if (value.find('.') == std::string_view::npos)
    return Reason{{}, "must have at least two labels, like example.com"};
  std::string_view last;
  std::string_view rest = value;
  for (;;) {
    const auto dot = rest.find('.');
    const auto label = rest.substr(0, dot);
    switch (label_problem(label, letter_case)) {
      case LabelProblem::none: break;
      case LabelProblem::empty: return Reason{{}, "must not contain an empty label"};
      case LabelProblem::too_long: return Reason{{}, "has a label longer than 63 characters"};
      case LabelProblem::uppercase: return Reason{{}, "must be lowercase"};
      case LabelProblem::bad_character:
        return Reason{{}, "may contain only letters a-z, digits, '-' and '.'"};
      case LabelProblem::hyphen_at_end: return Reason{{}, "has a label starting or ending with '-'"};
    }
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (std::ranges::all_of(last, is_digit)) return Reason{{}, "must not end with an all-numeric label"};
  return std::nullopt;
}

bool is_atext(char c) noexcept {
  static constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~-";
  return is_lower(c) || is_upper(c) || is_digit(c) || specials.find(c) != std::string_view::npos;
}

Check check_email(std::string_view value) noexcept {
  if (value.empty()) return Reason{{}, "must not be empty"};
  if (value.size() > 254) return Reason{{}, "must be at most 254 characters"};
  if (std::ranges::count(value, '@') != 1) return Reason{{}, "must contain exactly one '@'"};
  const auto at = value.find('@');
  const auto local = value.substr(0, at);
  const auto domain = value.substr(at + 1);
  if (local.empty()) return Reason{{}, "must have a name before '@'"};
  if (local.size() > 64) return Reason{{}, "the part before '@' must be at most 64 characters"};
  if (!std::ranges::all_of(local, [](char c) { return is_atext(c) || c == '.'; }))
    return Reason{{}, "the part before '@' contains a character not allowed in an e-mail address"};
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return Reason{{}, "the part before '@' must not start or end with '.' or contain '..'"};
  if (auto reason = check_fqdn(domain, Case::any)) return Reason{"domain after '@' ", reason->text};
  return std::nullopt;
}

struct DateCheck {
  Check reason;
  std::chrono::year_month_day date;
};

DateCheck check_iso_date(std::string_view value) noexcept {
  static constexpr Reason form{{}, "must be a date of the form YYYY-MM-DD"};
  if (value.size() != 10 || value[4] != '-' || value[7] != '-') return {form, {}};
  auto number = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int n = 0;
    for (char c : value.substr(pos, len)) {
      if (!is_digit(c)) return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d) return {form, {}};
  if (*y == 0) return {Reason{{}, "year must be 0001 or later"}, {}};
  const std::chrono::year_month_day date{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                                         std::chrono::day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return {Reason{{}, "is not a day of the calendar"}, {}};
  return {std::nullopt, date};
}

Check check_version(std::string_view value) noexcept {
  if (value.empty()) return Reason{{}, "must not be empty"};
  if (!std::ranges::all_of(value, [](char c) { return is_digit(c) || c == '.'; }))
    return Reason{{}, "may contain only digits and '.'"};
  std::size_t components = 0;
  std::string_view rest = value;
  for (;;) {
    const auto dot = rest.find('.');
    const auto part = rest.substr(0, dot);
    if (part.empty()) return Reason{{}, "must be numbers separated by single dots, like 6.0.29"};
    if (part.size() > 1 && part.front() == '0') return Reason{{}, "must not have a number with a leading zero"};
    if (part.size() > 9) return Reason{{}, "must not have a number longer than 9 digits"};
    ++components;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (components > 4) return Reason{{}, "must have at most 4 numbers"};
  return std::nullopt;
}

Check check_software_ref(std::string_view value) noexcept {
  const auto slash = value.find('/');
  if (slash == std::string_view::npos || value.find('/', slash + 1) != std::string_view::npos)
    return Reason{{}, "must have the form SOFTWARE/VERSION, like tryton/7.0"};
  if (auto reason = check_label(value.substr(0, slash), Case::lower_only))
    return Reason{"software name ", reason->text};
  if (auto reason = check_version(value.substr(slash + 1))) return Reason{"version ", reason->text};
  return std::nullopt;
}

Check check_safe_name(std::string_view value) noexcept {
  if (value.empty()) return Reason{{}, "must not be empty"};
  if (value.size() > 255) return Reason{{}, "must be at most 255 bytes"};
  if (value.find('/') != std::string_view::npos) return Reason{{}, "must not contain '/'"};
  if (has_control(value)) return Reason{{}, "must not contain control characters"};
  if (value == "." || value == "..") return Reason{{}, "must not be '.' or '..'"};
  if (value.front() == '-') return Reason{{}, "must not start with '-'"};
  return std::nullopt;
}

struct PortCheck {
  Check reason;
  std::uint16_t port = 0;
};

PortCheck check_port(std::string_view value) noexcept {
  static constexpr Reason range{{}, "must be a number from 1 to 65535"};
  if (value.empty() || !std::ranges::all_of(value, is_digit)) return {range, 0};
  if (value.size() > 1 && value.front() == '0') return {Reason{{}, "must not have a leading zero"}, 0};
  if (value.size() > 5) return {range, 0};
  unsigned long n = 0;
  for (char c : value) n = n * 10 + static_cast<unsigned long>(c - '0');
  if (n < 1 || n > 65535) return {range, 0};
  return {std::nullopt, static_cast<std::uint16_t>(n)};
}

Check check_assignment(std::string_view value) noexcept {
  const auto eq = value.find('=');
  if (eq == std::string_view::npos) return Reason{{}, "must have the form KEY=VALUE"};
  const auto key = value.substr(0, eq);
  const auto val = value.substr(eq + 1);
  if (key.empty()) return Reason{{}, "key must not be empty"};
  if (key.size() > 128) return Reason{{}, "key must be at most 128 characters"};
  if (!is_lower(key.front())) return Reason{{}, "key must start with a lowercase letter a-z"};
  if (!std::ranges::all_of(key, [](char c) { return is_lower(c) || is_digit(c) || c == '_' || c == '.' || c == '-'; }))
    return Reason{{}, "key may contain only a-z, 0-9, '_', '.' and '-'"};
  if (val.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos)
    return Reason{{}, "value must not contain NUL or line breaks"};
  return std::nullopt;
}

// What an assignment error shows: never the value, which may be a secret.
std::string_view assignment_shown(std::string_view value) noexcept {
  const auto eq = value.find('=');
  return eq == std::string_view::npos ? value.substr(0, 0) : value.substr(0, eq + 1);
}

// Lexical check of a relative path: no climbing above its start, and it
// must end below it. Returns nullopt when fine.
Check check_relative(std::string_view relative) noexcept {
  if (relative.empty()) return Reason{{}, "must not be empty"};
  if (has_control(relative)) return Reason{{}, "must not contain control characters"};
  if (relative.front() == '/') return Reason{{}, "must be a relative path"};
  long depth = 0;
  std::string_view rest = relative;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto part = rest.substr(0, slash);
    if (part == "..") {
      if (--depth < 0) return Reason{{}, "must not climb above the base directory with '..'"};
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (depth == 0) return Reason{{}, "must name something inside the base directory, not the directory itself"};
  return std::nullopt;
}

// True when `inner` has all of `outer`'s components and at least one more.
bool strictly_below(const std::filesystem::path& outer, const std::filesystem::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    // A trailing separator shows up as an empty last component.
    if (o->empty() && std::next(o) == outer.end()) break;
    if (i == inner.end() || *i != *o) return false;
  }
  for (; i != inner.end(); ++i)
    if (!i->empty()) return true;
  return false;
}

}  // namespace

std::string escape_for_display(std::string_view value, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(value.size(), max_length) + 3);
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    std::string piece;
    switch (c) {
      case '\\': piece = "\\\\"; break;
      case '\n': piece = "\\n"; break;
      case '\r': piece = "\\r"; break;
      case '\t': piece = "\\t"; break;
      case '\0': piece = "\\0"; break;
      default:
        if (byte >= 0x20 && byte < 0x7f)
          piece.assign(1, c);
        else
          piece = fmt::format("\\x{:02x}", byte);
    }
    if (out.size() + piece.size() > max_length) {
      out += "...";
      break;
    }
    out += piece;
  }
  return out;
}

bool is_label(std::string_view value) noexcept { return !check_label(value, Case::lower_only); }
void validate_label(std::string_view value, std::string_view what) {
  if (auto reason = check_label(value, Case::lower_only)) reject(what, value, *reason);
}

bool is_fqdn(std::string_view value) noexcept { return !check_fqdn(value, Case::lower_only); }
void validate_fqdn(std::string_view value, std::string_view what) {
  if (auto reason = check_fqdn(value, Case::lower_only)) reject(what, value, *reason);
}

bool is_email(std::string_view value) noexcept { return !check_email(value); }
void validate_email(std::string_view value, std::string_view what) {
  if (auto reason = check_email(value)) reject(what, value, *reason);
}

bool is_iso_date(std::string_view value) noexcept { return !check_iso_date(value).reason; }
void validate_iso_date(std::string_view value, std::string_view what) { parse_iso_date(value, what); }
std::chrono::year_month_day parse_iso_date(std::string_view value, std::string_view what) {
  const auto checked = check_iso_date(value);
  if (checked.reason) reject(what, value, *checked.reason);
  return checked.date;
}

bool is_version(std::string_view value) noexcept { return !check_version(value); }
void validate_version(std::string_view value, std::string_view what) {
  if (auto reason = check_version(value)) reject(what, value, *reason);
}

bool is_software_ref(std::string_view value) noexcept { return !check_software_ref(value); }
void validate_software_ref(std::string_view value, std::string_view what) {
  if (auto reason = check_software_ref(value)) reject(what, value, *reason);
}
SoftwareRef parse_software_ref(std::string_view value, std::string_view what) {
  validate_software_ref(value, what);
  const auto slash = value.find('/');
  return SoftwareRef{std::string(value.substr(0, slash)), std::string(value.substr(slash + 1))};
}

bool is_safe_name(std::string_view value) noexcept { return !check_safe_name(value); }
void validate_safe_name(std::string_view value, std::string_view what) {
  if (auto reason = check_safe_name(value)) reject(what, value, *reason);
}

bool is_port(std::string_view value) noexcept { return !check_port(value).reason; }
void validate_port(std::string_view value, std::string_view what) { parse_port(value, what); }
std::uint16_t parse_port(std::string_view value, std::string_view what) {
  const auto checked = check_port(value);
  if (checked.reason) reject(what, value, *checked.reason);
  return checked.port;
}

bool is_assignment(std::string_view value) noexcept { return !check_assignment(value); }
Assignment parse_assignment(std::string_view value, std::string_view what) {
  if (auto reason = check_assignment(value)) reject(what, assignment_shown(value), *reason);
  const auto eq = value.find('=');
  return Assignment{std::string(value.substr(0, eq)), std::string(value.substr(eq + 1))};
}

std::filesystem::path resolve_inside(const std::filesystem::path& base, std::string_view relative,
                                     std::string_view what) {
  if (auto reason = check_relative(relative)) reject(what, relative, *reason);

  std::error_code ec;
  const auto canonical_base = std::filesystem::canonical(base, ec);
  if (ec) {
    const auto kind = ec == std::errc::no_such_file_or_directory ? ErrorKind::not_found : ErrorKind::io;
    fail(kind, "base directory {} of {}: {}", escape_for_display(base.native(), 200), what, ec.message());
  }
  auto resolved = std::filesystem::weakly_canonical(canonical_base / std::filesystem::path(relative), ec);
  if (ec) {
    if (ec == std::errc::too_many_symbolic_link_levels)
      reject(what, relative, Reason{{}, "runs into a loop of symbolic links"});
    fail(ErrorKind::io, "{} '{}': cannot resolve: {}", what, escape_for_display(relative), ec.message());
  }
  if (!strictly_below(canonical_base, resolved)) {
    const bool is_base = resolved.lexically_relative(canonical_base) == ".";
    reject(what, relative,
           Reason{{}, is_base ? "resolves to the base directory itself"
                              : "leaves the base directory through a symbolic link"});
  }
  return resolved;
}

}  // namespace core
