// SPDX-License-Identifier: GPL-3.0-or-later
#include "lxc.hpp"

#include <grp.h>
#include <libvirt/libvirt-lxc.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace cloe::lxc {

using core::ErrorKind;
using core::fail;
using namespace std::chrono_literals;

namespace {

void quiet(void*, virErrorPtr) {}

struct ConnClose {
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
struct DomFree {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using Conn = std::unique_ptr<std::remove_pointer_t<virConnectPtr>, ConnClose>;
using Dom = std::unique_ptr<std::remove_pointer_t<virDomainPtr>, DomFree>;

std::string last_error() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "unknown libvirt error";
}

Conn connect(const std::string& uri) {
  virSetErrorFunc(nullptr, quiet);
  Conn c(virConnectOpen(uri.c_str()));
  if (!c) fail(ErrorKind::external, "libvirt {}: {}", uri, last_error());
  return c;
}

Dom lookup(virConnectPtr c, const std::string& name) {
  Dom d(virDomainLookupByName(c, name.c_str()));
  return d;
}

State state_of(virDomainPtr d) {
  int st = 0, reason = 0;
  if (virDomainGetState(d, &st, &reason, 0) != 0) return State::other;
  if (st == VIR_DOMAIN_RUNNING) return State::running;
  if (st == VIR_DOMAIN_SHUTOFF) return State::shut_off;
  return State::other;
}

}  // namespace

State state(const std::string& uri, const std::string& name) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  return d ? state_of(d.get()) : State::absent;
}

void define_and_start(const std::string& uri, const std::string& domain_xml) {
  auto c = connect(uri);
  Dom d(virDomainDefineXML(c.get(), domain_xml.c_str()));
  if (!d) fail(ErrorKind::external, "define the vserver: {}", last_error());
  if (state_of(d.get()) == State::running) fail(ErrorKind::conflict, "vserver {} runs already", virDomainGetName(d.get()));
  if (virDomainCreate(d.get()) != 0) fail(ErrorKind::external, "start vserver {}: {}", virDomainGetName(d.get()), last_error());
}

void define(const std::string& uri, const std::string& domain_xml) {
  auto c = connect(uri);
  Dom d(virDomainDefineXML(c.get(), domain_xml.c_str()));
  if (!d) fail(ErrorKind::external, "define the vserver: {}", last_error());
}

std::optional<std::string> uuid(const std::string& uri, const std::string& name) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  if (!d) return std::nullopt;
  char buf[VIR_UUID_STRING_BUFLEN] = {};
  if (virDomainGetUUIDString(d.get(), buf) != 0) fail(ErrorKind::external, "uuid of vserver {}: {}", name, last_error());
  return std::string(buf);
}

void start(const std::string& uri, const std::string& name) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  if (!d) fail(ErrorKind::external, "vserver {} has no libvirt domain", name);
  if (state_of(d.get()) == State::running) return;
  if (virDomainCreate(d.get()) != 0) fail(ErrorKind::external, "start vserver {}: {}", name, last_error());
}

void set_live(const std::string& uri, const std::string& name, std::optional<unsigned> cpu_shares,
              std::optional<unsigned> cpu_max_percent, std::optional<unsigned long long> memory_kib) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  if (!d || state_of(d.get()) != State::running) return;
  std::vector<virTypedParameter> params;
  auto add_ull = [&](const char* field, unsigned long long v) {
    virTypedParameter p{};
    std::snprintf(p.field, sizeof p.field, "%s", field);
    p.type = VIR_TYPED_PARAM_ULLONG;
    p.value.ul = v;
    params.push_back(p);
  };
  auto add_ll = [&](const char* field, long long v) {
    virTypedParameter p{};
    std::snprintf(p.field, sizeof p.field, "%s", field);
    p.type = VIR_TYPED_PARAM_LLONG;
    p.value.l = v;
    params.push_back(p);
  };
  if (cpu_shares) add_ull(VIR_DOMAIN_SCHEDULER_CPU_SHARES, *cpu_shares);
  if (cpu_max_percent) {
    // The period of a cap is 100 ms (domain.hpp); no cap is an unlimited quota.
    add_ull(VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, 100000);
    add_ll(VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, *cpu_max_percent == 0 ? -1 : static_cast<long long>(*cpu_max_percent) * 1000);
  }
  if (!params.empty() &&
      virDomainSetSchedulerParametersFlags(d.get(), params.data(), static_cast<int>(params.size()),
                                           VIR_DOMAIN_AFFECT_LIVE) != 0)
    fail(ErrorKind::external, "set the CPU quotas of vserver {}: {}", name, last_error());
  if (memory_kib) {
    virTypedParameter p{};
    std::snprintf(p.field, sizeof p.field, "%s", VIR_DOMAIN_MEMORY_HARD_LIMIT);
    p.type = VIR_TYPED_PARAM_ULLONG;
    p.value.ul = *memory_kib;
    if (virDomainSetMemoryParameters(d.get(), &p, 1, VIR_DOMAIN_AFFECT_LIVE) != 0)
      fail(ErrorKind::external, "set the memory limit of vserver {}: {}", name, last_error());
  }
}

bool stop(const std::string& uri, const std::string& name, std::chrono::seconds timeout) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  if (!d || state_of(d.get()) != State::running) return true;
  if (virDomainSendProcessSignal(d.get(), 1, VIR_DOMAIN_PROCESS_SIGNAL_INT, 0) != 0)
    fail(ErrorKind::external, "signal vserver {}: {}", name, last_error());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (state_of(d.get()) != State::running) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void destroy(const std::string& uri, const std::string& name) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  // Running or paused (a vserver a killed backup left frozen): both are active.
  if (!d || virDomainIsActive(d.get()) != 1) return;
  if (virDomainDestroy(d.get()) != 0) fail(ErrorKind::external, "destroy vserver {}: {}", name, last_error());
}

void undefine(const std::string& uri, const std::string& name) {
  auto c = connect(uri);
  auto d = lookup(c.get(), name);
  if (!d) return;
  if (state_of(d.get()) == State::running) fail(ErrorKind::conflict, "vserver {} runs: stop it first", name);
  if (virDomainUndefine(d.get()) != 0) fail(ErrorKind::external, "undefine vserver {}: {}", name, last_error());
}

int enter_main(int argc, char** argv) {
  // cloe __enter URI NAME ARGV...
  if (argc < 5) {
    std::fputs("cloe __enter: usage: cloe __enter URI NAME COMMAND [ARG...]\n", stderr);
    return 2;
  }
  virSetErrorFunc(nullptr, quiet);
  Conn c(virConnectOpen(argv[2]));
  if (!c) {
    std::fprintf(stderr, "cloe __enter: libvirt %s: %s\n", argv[2], last_error().c_str());
    return 125;
  }
  Dom d(virDomainLookupByName(c.get(), argv[3]));
  if (!d || state_of(d.get()) != State::running) {
    std::fprintf(stderr, "cloe __enter: vserver %s does not run\n", argv[3]);
    return 125;
  }
  int* fds = nullptr;
  int n = virDomainLxcOpenNamespace(d.get(), &fds, 0);
  if (n < 0) {
    std::fprintf(stderr, "cloe __enter: namespaces of %s: %s\n", argv[3], last_error().c_str());
    return 125;
  }
  // Its cgroups first (from the host's view), then its namespaces.
  if (virDomainLxcEnterCGroup(d.get(), 0) != 0 ||
      virDomainLxcEnterNamespace(d.get(), static_cast<unsigned>(n), fds, nullptr, nullptr, 0) != 0) {
    std::fprintf(stderr, "cloe __enter: enter %s: %s\n", argv[3], last_error().c_str());
    return 125;
  }
  std::free(fds);
  d.reset();
  c.reset();
  // Root of the vserver: uid 0 of its user namespace (the host's first id of its range).
  if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
    std::perror("cloe __enter: become the vserver's root");
    return 125;
  }
  // The PID namespace holds for children only.
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("cloe __enter: fork");
    return 125;
  }
  if (pid == 0) {
    if (::chdir("/") != 0) ::_exit(125);
    static char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    static char lang[] = "LC_ALL=C";
    static char home[] = "HOME=/root";
    char* env[] = {path, lang, home, nullptr};
    ::execvpe(argv[4], argv + 4, env);
    std::fprintf(stderr, "cloe __enter: cannot run %s in the vserver: %s\n", argv[4], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 125;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace cloe::lxc
