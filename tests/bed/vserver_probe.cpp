// SPDX-License-Identifier: GPL-3.0-or-later
// vserver_probe: libcloe's vserver mechanics, driven directly.
//   vserver_probe up URI STORAGE TEMPLATE_ROOT NAME HOST_BASE DISK_MB [KEY=VALUE...]
//     keys: mem (MiB, 256), cpuset, shares, cap (% of a CPU), net=BRIDGE,IP,PREFIX,GATEWAY
//   vserver_probe stop URI NAME SECONDS     (exit 0 stopped cleanly, 1 still running)
//   vserver_probe down URI STORAGE NAME     (destroy when running, undefine, unmount, remove)
// One line on stderr and exit 1 on an error.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "domain.hpp"
#include "layers.hpp"
#include "lxc.hpp"

int main(int argc, char** argv) {
  try {
    std::string op = argc > 1 ? argv[1] : "";
    if (op == "up" && argc >= 8) {
      std::string uri = argv[2], name = argv[5];
      auto l = cloe::layers::of(argv[3], name);
      auto base = static_cast<std::uint32_t>(std::stoul(argv[6]));
      cloe::domain::Spec s;
      s.name = name;
      s.root = l.root.string();
      s.memory_kib = 256 * 1024;
      s.idmap = cloe::domain::IdMap{base, 65536};
      for (int i = 8; i < argc; ++i) {
        std::string kv = argv[i];
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "mem") s.memory_kib = std::stoull(v) * 1024;
        else if (k == "cpuset") s.cpuset = v;
        else if (k == "shares") s.cpu_shares = static_cast<unsigned>(std::stoul(v));
        else if (k == "cap") s.cpu_max_percent = static_cast<unsigned>(std::stoul(v));
        else if (k == "net") {
          std::vector<std::string> p;
          for (std::size_t a = 0, c; a <= v.size(); a = c + 1) {
            c = v.find(',', a);
            if (c == std::string::npos) c = v.size();
            p.push_back(v.substr(a, c - a));
          }
          if (p.size() != 4) throw std::invalid_argument("net=BRIDGE,IP,PREFIX,GATEWAY");
          s.interfaces.push_back({p[0], cloe::domain::mac_for(p[1]), p[1], std::stoi(p[2]), p[3], {}});
        } else {
          throw std::invalid_argument("unknown key " + k);
        }
      }
      cloe::domain::validate(s);
      cloe::layers::mount(l, argv[4], base, 65536, std::stoull(argv[7]) << 20);
      cloe::lxc::define_and_start(uri, cloe::domain::xml(s));
      return 0;
    }
    if (op == "stop" && argc == 5) return cloe::lxc::stop(argv[2], argv[3], std::chrono::seconds(std::stoi(argv[4]))) ? 0 : 1;
    if (op == "down" && argc == 5) {
      cloe::lxc::destroy(argv[2], argv[4]);
      cloe::lxc::undefine(argv[2], argv[4]);
      cloe::layers::remove(cloe::layers::of(argv[3], argv[4]));
      return 0;
    }
    std::fputs("vserver_probe: usage: up|stop|down ...\n", stderr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vserver_probe: %s\n", e.what());
    return 1;
  }
}
