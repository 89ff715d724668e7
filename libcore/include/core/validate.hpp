// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The one place for input checks that every tier uses. Each check comes in
// two forms: is_X(value) answers yes or no and never throws; validate_X(value,
// what) throws core::Error(ErrorKind::invalid, "WHAT 'VALUE': REASON") or
// returns normally (parse_X also returns the parsed value). VALUE is shown
// with escape_for_display(), so a message is always one printable line.
// `what` names the input for the user, e.g. "customer name" or "--port".

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace core {

// `value` as one printable ASCII line: printable ASCII stays, a backslash
// becomes "\\", \n \r \t \0 stay readable, every other byte (control
// characters and all non-ASCII bytes, so no terminal escape or bidi trick
// survives) becomes \xHH. Longer results are cut to `max_length` characters
// (never inside an escape) followed by "...".
std::string escape_for_display(std::string_view value, std::size_t max_length = 60);

// A DNS label after RFC 1123: 1 to 63 characters of a-z, 0-9 and '-', not
// starting or ending with '-'. Uppercase is rejected rather than folded: a
// label names customers, services, databases and files, so it has one
// spelling only ("Acme" and "acme" must not become two things).
bool is_label(std::string_view value) noexcept;
void validate_label(std::string_view value, std::string_view what);

// A fully qualified domain name: at least two labels (each as is_label,
// lowercase only) joined by '.', 253 characters at most, the last label not
// all digits (so an IPv4 address is not taken for a name). A trailing dot
// (root) is rejected: names are stored in one form, without it.
bool is_fqdn(std::string_view value) noexcept;
void validate_fqdn(std::string_view value, std::string_view what);

// A pragmatic e-mail address LOCAL@DOMAIN, 254 characters at most. LOCAL:
// 1 to 64 characters of A-Z a-z 0-9 and !#$%&'*+/=?^_`{|}~.- (RFC 5322
// atext; quoted local parts are not accepted), no leading, trailing or
// double dot. DOMAIN: an fqdn as is_fqdn but compared case-insensitively,
// since people type "Example.COM". No spaces, control characters, or any
// character outside those sets.
bool is_email(std::string_view value) noexcept;
void validate_email(std::string_view value, std::string_view what);

// A calendar date YYYY-MM-DD (exactly 10 characters, year 0001-9999) that
// exists, leap years included.
bool is_iso_date(std::string_view value) noexcept;
void validate_iso_date(std::string_view value, std::string_view what);
std::chrono::year_month_day parse_iso_date(std::string_view value, std::string_view what);

// A version such as "7.0", "6.0.29" or "16": 1 to 4 components of decimal
// digits joined by '.', each without leading zero (except "0" itself) and
// at most 9 digits long.
bool is_version(std::string_view value) noexcept;
void validate_version(std::string_view value, std::string_view what);

// "SOFTWARE/VERSION", e.g. "tryton/7.0": SOFTWARE a label, VERSION as
// is_version.
struct SoftwareRef {
  std::string software;
  std::string version;
  friend bool operator==(const SoftwareRef&, const SoftwareRef&) = default;
};
bool is_software_ref(std::string_view value) noexcept;
void validate_software_ref(std::string_view value, std::string_view what);
SoftwareRef parse_software_ref(std::string_view value, std::string_view what);

// A file name (one path component): 1 to 255 bytes, no '/', no control
// character (NUL and newline included), not "." or "..", and not starting
// with '-' (it would read as an option when passed to another program).
bool is_safe_name(std::string_view value) noexcept;
void validate_safe_name(std::string_view value, std::string_view what);

// A TCP/UDP port number 1-65535 in plain decimal: digits only, no sign,
// space or leading zero.
bool is_port(std::string_view value) noexcept;
void validate_port(std::string_view value, std::string_view what);
std::uint16_t parse_port(std::string_view value, std::string_view what);

// "KEY=VALUE", split at the first '='. KEY matches [a-z][a-z0-9_.-]* and is
// at most 128 characters; VALUE may be empty and may hold anything but NUL,
// CR and LF.
struct Assignment {
  std::string key;
  std::string value;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};
bool is_assignment(std::string_view value) noexcept;
Assignment parse_assignment(std::string_view value, std::string_view what);

// `relative` resolved under `base`, for a path taken from input that must
// stay inside a directory. Rejects (ErrorKind::invalid) an empty or absolute
// path, control characters (NUL and newline included), ".." that climbs
// above base, a path that resolves to base itself (a caller removing the
// result must not remove base), and a path that leaves base through a
// symbolic link. The result is weakly_canonical(canonical(base)/relative):
// absolute, symlinks resolved as far as the path exists; the rest need not
// exist. Throws ErrorKind::not_found when base does not exist and
// ErrorKind::io when resolving fails otherwise. The check holds at the time
// of the call only: whoever can change symlinks under base later can still
// redirect an open of the result.
std::filesystem::path resolve_inside(const std::filesystem::path& base, std::string_view relative,
                                     std::string_view what);

}  // namespace core
