// SPDX-License-Identifier: GPL-3.0-or-later
// goe user add|remove|list|passwd: goe's own users. Passwords come from
// standard input (one line) or, on a terminal, from a prompt without echo;
// never from the command line.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "core/output.hpp"
#include "goe/panel.hpp"

namespace goe::cli {

namespace {

std::string read_password(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO)) {
    std::string line;
    if (!std::getline(std::cin, line)) core::fail(core::ErrorKind::invalid, "no password on standard input");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  auto ask = [](const std::string& text) {
    std::cerr << text << std::flush;
    termios old{};
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    std::string line;
    bool got = static_cast<bool>(std::getline(std::cin, line));
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << '\n';
    if (!got) core::fail(core::ErrorKind::invalid, "no password given");
    return line;
  };
  std::string first = ask(prompt);
  if (ask("again: ") != first) core::fail(core::ErrorKind::invalid, "the two passwords differ");
  return first;
}

}  // namespace

void add_user(core::cli::Frame& frame) {
  CLI::App* user = frame.group(frame.app(), "user", "goe's own users: add, remove, list, passwd");

  auto name = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("viewer");
  CLI::App* add = frame.command(*user, "add", "Add a user (password on stdin or at a prompt)", core::cli::Effect::mutates,
                                [&frame, name, role] {
                                  std::string password = read_password("password for " + *name + ": ");
                                  goe::user_add(frame.paths(), *name, *role, password);
                                  core::cli::Frame::out("goe: user " + *name + " added (" + *role + ")\n");
                                  return core::exit_code::ok;
                                });
  add->add_option("name", *name, "User name")->required();
  add->add_option("--role", *role, "viewer, operator or admin (default viewer)");

  auto rname = std::make_shared<std::string>();
  CLI::App* remove = frame.command(*user, "remove", "Remove a user", core::cli::Effect::mutates, [&frame, rname] {
    goe::user_remove(frame.paths(), *rname);
    core::cli::Frame::out("goe: user " + *rname + " removed\n");
    return core::exit_code::ok;
  });
  remove->add_option("name", *rname, "User name")->required();

  auto pname = std::make_shared<std::string>();
  CLI::App* passwd = frame.command(*user, "passwd", "Set a user's password (stdin or a prompt)",
                                   core::cli::Effect::mutates, [&frame, pname] {
                                     std::string password = read_password("new password for " + *pname + ": ");
                                     goe::user_passwd(frame.paths(), *pname, password);
                                     core::cli::Frame::out("goe: password of " + *pname + " changed\n");
                                     return core::exit_code::ok;
                                   });
  passwd->add_option("name", *pname, "User name")->required();

  frame.command(*user, "list", "The users and their roles", core::cli::Effect::reads, [&frame] {
    auto rows = goe::user_list(frame.paths());
    if (frame.globals().json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& r : rows) list.push_back({{"name", r.name}, {"role", r.role}, {"created", r.created}});
      core::cli::Frame::out(nlohmann::json{{"users", list}}.dump(2) + "\n");
    } else {
      core::Table t{{"NAME", "ROLE", "CREATED"}, {}};
      for (const auto& r : rows) t.rows.push_back({r.name, r.role, r.created});
      core::cli::Frame::out(core::render_table(t, core::stdout_colour()));
    }
    return core::exit_code::ok;
  });
}

}  // namespace goe::cli
