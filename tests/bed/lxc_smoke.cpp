// SPDX-License-Identifier: GPL-3.0-or-later
// lxc_smoke URI: proves a libvirt LXC daemon really starts domains. Defines a
// trivial 'exe' domain (init /bin/sleep, no filesystem: it shares the host's
// root), starts it, checks it runs, then destroys and undefines it.
// Exit 0 on success; 1 with a one-line error otherwise.

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

namespace {

struct ConnectClose {
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
struct DomainFree {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using Connection = std::unique_ptr<std::remove_pointer_t<virConnectPtr>, ConnectClose>;
using Domain = std::unique_ptr<std::remove_pointer_t<virDomainPtr>, DomainFree>;

// libvirt prints every error on stderr by default; we report our own line.
void silent_error(void* /*user_data*/, virErrorPtr /*error*/) {}

struct Failure {
  std::string step;
  std::string message;
};

[[noreturn]] void fail(const std::string& step) {
  throw Failure{step, virGetLastErrorMessage()};
}

// Removes the domain if anything fails between its definition and the end.
class DomainGuard {
 public:
  explicit DomainGuard(virDomainPtr dom) : dom_(dom) {}
  DomainGuard(const DomainGuard&) = delete;
  DomainGuard& operator=(const DomainGuard&) = delete;
  ~DomainGuard() {
    if (dom_ == nullptr) return;
    int state = VIR_DOMAIN_NOSTATE;
    if (virDomainGetState(dom_, &state, nullptr, 0) == 0 && state != VIR_DOMAIN_SHUTOFF)
      virDomainDestroy(dom_);
    virDomainUndefine(dom_);
  }
  void release() { dom_ = nullptr; }

 private:
  virDomainPtr dom_;
};

int domain_state(virDomainPtr dom) {
  int state = VIR_DOMAIN_NOSTATE;
  int reason = 0;
  if (virDomainGetState(dom, &state, &reason, 0) < 0) fail("virDomainGetState");
  return state;
}

const char* state_name(int state) {
  switch (state) {
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "blocked";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "shutting down";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    default: return "unknown";
  }
}

std::string domain_xml(const std::string& name) {
  return "<domain type='lxc'>\n"
         "  <name>" + name + "</name>\n"
         "  <memory unit='MiB'>64</memory>\n"
         "  <vcpu>1</vcpu>\n"
         "  <os>\n"
         "    <type>exe</type>\n"
         "    <init>/bin/sleep</init>\n"
         "    <initarg>300</initarg>\n"
         "  </os>\n"
         "  <devices>\n"
         "    <console type='pty'/>\n"
         "  </devices>\n"
         "</domain>\n";
}

void run(const char* uri) {
  Connection conn{virConnectOpen(uri)};
  if (!conn) fail(std::string("virConnectOpen ") + uri);
  std::printf("connected to %s\n", uri);

  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const std::string name = "oe-smoke-" + std::to_string(getpid()) + "-" + std::to_string(stamp % 1000000);
  const std::string xml = domain_xml(name);

  Domain dom{virDomainDefineXML(conn.get(), xml.c_str())};
  if (!dom) fail("virDomainDefineXML");
  DomainGuard guard{dom.get()};
  std::printf("defined %s\n", name.c_str());

  if (virDomainCreate(dom.get()) < 0) fail("virDomainCreate");
  int state = VIR_DOMAIN_NOSTATE;
  for (int i = 0; i < 100; ++i) {
    state = domain_state(dom.get());
    if (state == VIR_DOMAIN_RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (state != VIR_DOMAIN_RUNNING)
    throw Failure{"virDomainGetState", std::string("domain is ") + state_name(state) + ", not running"};
  std::printf("started %s: running, id %d\n", name.c_str(), static_cast<int>(virDomainGetID(dom.get())));

  if (virDomainDestroy(dom.get()) < 0) fail("virDomainDestroy");
  state = domain_state(dom.get());
  if (state != VIR_DOMAIN_SHUTOFF)
    throw Failure{"virDomainDestroy", std::string("domain is ") + state_name(state) + " after destroy"};
  std::printf("destroyed %s\n", name.c_str());

  if (virDomainUndefine(dom.get()) < 0) fail("virDomainUndefine");
  guard.release();
  std::printf("undefined %s\n", name.c_str());

  Domain gone{virDomainLookupByName(conn.get(), name.c_str())};
  if (gone) throw Failure{"virDomainLookupByName", "domain still defined after undefine"};
  std::printf("ok\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: lxc_smoke URI\n");
    return 1;
  }
  if (virInitialize() < 0) {
    std::fprintf(stderr, "lxc_smoke: error: virInitialize failed\n");
    return 1;
  }
  virSetErrorFunc(nullptr, silent_error);
  try {
    run(argv[1]);
  } catch (const Failure& f) {
    std::fflush(stdout);
    std::fprintf(stderr, "lxc_smoke: error: %s: %s\n", f.step.c_str(), f.message.c_str());
    return 1;
  }
  return 0;
}
