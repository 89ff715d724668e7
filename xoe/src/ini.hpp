// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Minimal edits of the servers' INI config files (trytond.conf, odoo.conf)
// that keep everything else of the file as it is: comments, order, the
// sections a neutralisation appended. Keys are matched as Python's
// ConfigParser does (trimmed, case-insensitive, `key = value` or
// `key: value`; indented lines continue the value above). Lines before the
// first section header belong to the section "" (never used by the servers).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace xoe::ini {

// (section, key) -> value, keys lower-cased; for a key given twice, the last.
using Values = std::map<std::pair<std::string, std::string>, std::string>;

Values parse(std::string_view text);

std::optional<std::string> get(std::string_view text, std::string_view section, std::string_view key);

// `text` with `key = value` in `section`: the key's line (and its
// continuation lines) replaced, or the line added at the end of the section
// (before its trailing blank lines), or the section appended at the end.
// `value` must be one line.
std::string set(std::string_view text, std::string_view section, std::string_view key, std::string_view value);

// `text` without `key` in `section` (unchanged when it is not there).
std::string unset(std::string_view text, std::string_view section, std::string_view key);

// Carries a change of the generated part of a config into a file that may
// hold more: every key whose value differs between `old_base` and `new_base`
// (the recipe's config rendered before and after) is set in `text` to its
// new value, and a key only `old_base` has is removed. Nothing else changes.
std::string rebase(std::string_view text, std::string_view old_base, std::string_view new_base);

}  // namespace xoe::ini
