// SPDX-License-Identifier: GPL-3.0-or-later
#include "node_side.hpp"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/validate.hpp"
#include "layers.hpp"
#include "lxc.hpp"

namespace fs = std::filesystem;

namespace cloe::node_side {
namespace {

using core::ErrorKind;
using core::fail;

struct Args {
  std::vector<std::string> a;
  std::size_t i = 0;
  std::string next(std::string_view what) {
    if (i >= a.size()) fail(ErrorKind::invalid, "cloe __node: {} missing", what);
    return a[i++];
  }
  void done() const {
    if (i != a.size()) fail(ErrorKind::invalid, "cloe __node: {} argument(s) too many", a.size() - i);
  }
};

fs::path abs_path(Args& args, std::string_view what) {
  std::string p = args.next(what);
  fs::path path(p);
  bool dots = false;
  for (const auto& part : path)
    if (part == "..") dots = true;
  if (!path.is_absolute() || dots || p.find('\n') != std::string::npos)
    fail(ErrorKind::invalid, "cloe __node: {} '{}' is not an absolute path without '..'", what,
         core::escape_for_display(p));
  return path;
}

std::string label(Args& args, std::string_view what) {
  std::string v = args.next(what);
  core::validate_label(v, what);
  return v;
}

std::optional<std::uint64_t> number(Args& args, std::string_view what, bool dash_ok = false) {
  std::string v = args.next(what);
  if (dash_ok && v == "-") return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc{} || end != v.data() + v.size())
    fail(ErrorKind::invalid, "cloe __node: {} '{}' is not a whole number", what, core::escape_for_display(v));
  return n;
}

std::string uri(Args& args) {
  std::string u = args.next("libvirt URI");
  if (u.rfind("lxc://", 0) != 0 || u.find_first_of(" \n") != std::string::npos)
    fail(ErrorKind::invalid, "cloe __node: libvirt URI '{}' is not an lxc:// URI", core::escape_for_display(u));
  return u;
}

layers::Layers layers_of(Args& args) {
  fs::path storage = abs_path(args, "storage path");
  std::string name = label(args, "vserver name");
  return layers::of(storage, name);
}

const char* state_word(lxc::State s) {
  switch (s) {
    case lxc::State::absent: return "absent";
    case lxc::State::shut_off: return "shut_off";
    case lxc::State::running: return "running";
    case lxc::State::other: return "other";
  }
  return "other";
}

void run_op(const std::string& op, Args& args) {
  if (op == "ping") {
    args.done();
    std::printf("%s\n", std::string(ping_answer).c_str());
  } else if (op == "layers-mount") {
    auto l = layers_of(args);
    fs::path tpl = abs_path(args, "template root");
    auto base = *number(args, "host id base");
    auto count = *number(args, "id count");
    auto disk = *number(args, "disk bytes");
    args.done();
    if (base > 0xffffffffULL || count == 0 || count > 0xffffffffULL - base)
      fail(ErrorKind::invalid, "cloe __node: id range {}+{} out of bounds", base, count);
    layers::mount(l, tpl, static_cast<std::uint32_t>(base), static_cast<std::uint32_t>(count), disk);
  } else if (op == "layers-unmount") {
    auto l = layers_of(args);
    args.done();
    layers::unmount(l);
  } else if (op == "layers-remove") {
    auto l = layers_of(args);
    args.done();
    layers::remove(l);
  } else if (op == "layers-mounted") {
    auto l = layers_of(args);
    args.done();
    std::fputs(layers::is_mount_point(l.layer) ? "yes\n" : "no\n", stdout);
  } else if (op == "layers-grow") {
    auto l = layers_of(args);
    auto bytes = *number(args, "disk bytes");
    args.done();
    layers::grow(l, static_cast<std::int64_t>(bytes));
  } else if (op == "lxc-state") {
    auto u = uri(args);
    auto name = label(args, "vserver name");
    args.done();
    std::printf("%s\n", state_word(lxc::state(u, name)));
  } else if (op == "lxc-define") {
    auto u = uri(args);
    args.done();
    std::string xml((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (xml.empty()) fail(ErrorKind::invalid, "cloe __node lxc-define: no domain XML on stdin");
    lxc::define(u, xml);
  } else if (op == "lxc-uuid") {
    auto u = uri(args);
    auto name = label(args, "vserver name");
    args.done();
    if (auto id = lxc::uuid(u, name)) std::printf("%s\n", id->c_str());
  } else if (op == "lxc-start" || op == "lxc-destroy" || op == "lxc-undefine") {
    auto u = uri(args);
    auto name = label(args, "vserver name");
    args.done();
    if (op == "lxc-start")
      lxc::start(u, name);
    else if (op == "lxc-destroy")
      lxc::destroy(u, name);
    else
      lxc::undefine(u, name);
  } else if (op == "lxc-stop") {
    auto u = uri(args);
    auto name = label(args, "vserver name");
    auto seconds = *number(args, "timeout");
    args.done();
    if (seconds < 1 || seconds > 3600) fail(ErrorKind::invalid, "cloe __node lxc-stop: timeout {}: 1 to 3600", seconds);
    bool stopped = lxc::stop(u, name, std::chrono::seconds(seconds));
    std::fputs(stopped ? "stopped\n" : "running\n", stdout);
  } else if (op == "lxc-set-live") {
    auto u = uri(args);
    auto name = label(args, "vserver name");
    auto shares = number(args, "CPU shares", true);
    auto cpu_max = number(args, "CPU cap", true);
    auto memory = number(args, "memory KiB", true);
    args.done();
    lxc::set_live(u, name, shares ? std::optional<unsigned>(static_cast<unsigned>(*shares)) : std::nullopt,
                  cpu_max ? std::optional<unsigned>(static_cast<unsigned>(*cpu_max)) : std::nullopt,
                  memory ? std::optional<unsigned long long>(*memory) : std::nullopt);
  } else {
    fail(ErrorKind::invalid, "cloe __node: unknown operation '{}'", core::escape_for_display(op));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // cloe __node OP ARG...: warnings and errors on stderr, nothing else.
  core::setup_logging("cloe", core::Verbosity::normal);
  try {
    if (argc < 3) fail(ErrorKind::invalid, "cloe __node: usage: cloe __node OP ARG...");
    Args args;
    for (int k = 3; k < argc; ++k) args.a.emplace_back(argv[k]);
    run_op(argv[2], args);
    std::fflush(stdout);
    return 0;
  } catch (const core::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return core::exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cloe __node: %s\n", e.what());
    return core::exit_code::failed;
  }
}

}  // namespace cloe::node_side
