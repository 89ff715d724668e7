// SPDX-License-Identifier: GPL-3.0-or-later
#include "ini.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace xoe::ini {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// One line of the file, classified.
struct Line {
  std::string text;     // without its newline
  std::string section;  // the section it is in (a header: its own name)
  enum class Kind { blank, comment, header, key, continuation, other } kind = Kind::other;
  std::string key;    // Kind::key: lower-cased
  std::string value;  // Kind::key: trimmed
};

std::vector<Line> split(std::string_view text) {
  std::vector<Line> lines;
  std::string section;
  std::size_t i = 0;
  while (i < text.size()) {
    auto j = text.find('\n', i);
    std::string_view raw = text.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    i = j == std::string_view::npos ? text.size() : j + 1;
    Line l;
    l.text = std::string(raw);
    std::string_view t = trim(raw);
    if (t.empty()) {
      l.kind = Line::Kind::blank;
    } else if (t.front() == '#' || t.front() == ';') {
      l.kind = Line::Kind::comment;
    } else if (t.front() == '[' && t.back() == ']') {
      section = std::string(trim(t.substr(1, t.size() - 2)));
      l.kind = Line::Kind::header;
    } else if (std::isspace(static_cast<unsigned char>(raw.front())) && !lines.empty() &&
               (lines.back().kind == Line::Kind::key || lines.back().kind == Line::Kind::continuation)) {
      l.kind = Line::Kind::continuation;
    } else if (auto sep = t.find_first_of("=:"); sep != std::string_view::npos) {
      l.kind = Line::Kind::key;
      l.key = lower(trim(t.substr(0, sep)));
      l.value = std::string(trim(t.substr(sep + 1)));
    }
    l.section = section;
    lines.push_back(std::move(l));
  }
  return lines;
}

std::string join(const std::vector<Line>& lines, bool final_newline) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += lines[i].text;
    if (i + 1 < lines.size() || final_newline) out += '\n';
  }
  return out;
}

bool ends_with_newline(std::string_view text) { return text.empty() || text.back() == '\n'; }

// Removes the lines of `key` in `section` (with their continuations); returns the index of the first removed
// line, or npos when there was none.
std::size_t erase_key(std::vector<Line>& lines, std::string_view section, const std::string& key) {
  std::size_t at = std::string::npos;
  for (std::size_t i = 0; i < lines.size();) {
    if (lines[i].kind == Line::Kind::key && lines[i].section == section && lines[i].key == key) {
      std::size_t end = i + 1;
      while (end < lines.size() && lines[end].kind == Line::Kind::continuation) ++end;
      lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.begin() + static_cast<std::ptrdiff_t>(end));
      if (at == std::string::npos) at = i;
    } else {
      ++i;
    }
  }
  return at;
}

}  // namespace

Values parse(std::string_view text) {
  Values out;
  auto lines = split(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].kind != Line::Kind::key) continue;
    std::string value = lines[i].value;
    for (std::size_t j = i + 1; j < lines.size() && lines[j].kind == Line::Kind::continuation; ++j)
      value += "\n" + std::string(trim(lines[j].text));
    out[{lines[i].section, lines[i].key}] = value;
  }
  return out;
}

std::optional<std::string> get(std::string_view text, std::string_view section, std::string_view key) {
  auto values = parse(text);
  auto it = values.find({std::string(section), lower(key)});
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::string set(std::string_view text, std::string_view section, std::string_view key, std::string_view value) {
  auto lines = split(text);
  std::string k = lower(key);
  Line line;
  line.text = std::string(key) + " =";
  if (!value.empty()) line.text += " ";
  for (char c : value) line.text += c == '\n' ? std::string("\n    ") : std::string(1, c);  // continuation lines
  line.section = std::string(section);
  line.kind = Line::Kind::key;
  line.key = k;
  line.value = std::string(value);
  if (auto at = erase_key(lines, section, k); at != std::string::npos) {
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), line);
    return join(lines, ends_with_newline(text));
  }
  // The end of the section: after its last line that is not blank.
  std::size_t last = std::string::npos;
  bool found = section.empty();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].section != section) continue;
    found = true;
    if (lines[i].kind != Line::Kind::blank) last = i;
  }
  if (found && (last != std::string::npos || section.empty())) {
    std::size_t at = last == std::string::npos ? 0 : last + 1;
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), line);
    return join(lines, ends_with_newline(text));
  }
  std::string out(text);
  if (!ends_with_newline(out)) out += '\n';
  if (!out.empty() && !out.ends_with("\n\n")) out += '\n';
  return out + "[" + std::string(section) + "]\n" + line.text + "\n";
}

std::string unset(std::string_view text, std::string_view section, std::string_view key) {
  auto lines = split(text);
  if (erase_key(lines, section, lower(key)) == std::string::npos) return std::string(text);
  return join(lines, ends_with_newline(text));
}

std::string rebase(std::string_view text, std::string_view old_base, std::string_view new_base) {
  auto before = parse(old_base), after = parse(new_base);
  std::string out(text);
  for (const auto& [where, value] : after) {
    auto it = before.find(where);
    if (it == before.end() || it->second != value) out = set(out, where.first, where.second, value);
  }
  for (const auto& [where, value] : before)
    if (!after.contains(where)) out = unset(out, where.first, where.second);
  return out;
}

}  // namespace xoe::ini
