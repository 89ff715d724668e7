// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "domain.hpp"

using cloe::domain::Spec;

namespace {

Spec sample() {
  Spec s;
  s.name = "acme-1";
  s.root = "/srv/oe/vservers/acme-1/root";
  s.memory_kib = 512 * 1024;
  s.memory_hard_limit_kib = 512 * 1024;
  s.cpuset = "0";
  s.cpu_shares = 512;
  s.cpu_max_percent = 25;
  s.idmap = cloe::domain::IdMap{100000, 65536};
  s.interfaces.push_back({"oebr0", "52:54:00:00:0a:05", "10.0.10.5", 24, "10.0.10.1", "vs-acme-1"});
  return s;
}

core::ErrorKind kind_of(const Spec& s) {
  try {
    cloe::domain::validate(s);
  } catch (const core::Error& e) {
    return e.kind();
  }
  return core::ErrorKind::internal;  // no error
}

}  // namespace

TEST(CloeDomain, XmlHoldsEveryPart) {
  std::string x = cloe::domain::xml(sample());
  for (const char* part :
       {"<domain type='lxc'>", "<name>acme-1</name>", "<memory unit='KiB'>524288</memory>",
        "<hard_limit unit='KiB'>524288</hard_limit>", "<vcpu placement='static' cpuset='0'>1</vcpu>",
        "<shares>512</shares>", "<period>100000</period>", "<quota>25000</quota>", "<type>exe</type>",
        "<init>/sbin/init</init>", "<uid start='0' target='100000' count='65536'/>",
        "<gid start='0' target='100000' count='65536'/>", "<source dir='/srv/oe/vservers/acme-1/root'/>",
        "<target dir='/'/>", "<source bridge='oebr0'/>", "<mac address='52:54:00:00:0a:05'/>",
        "<ip address='10.0.10.5' family='ipv4' prefix='24'/>", "gateway='10.0.10.1'", "<target dev='vs-acme-1'/>",
        "<console type='pty'/>", "<privnet/>"})
    EXPECT_NE(x.find(part), std::string::npos) << part << "\n" << x;
}

TEST(CloeDomain, WithoutOptionsNoTuneNoIdmap) {
  Spec s;
  s.name = "plain";
  s.root = "/r";
  std::string x = cloe::domain::xml(s);
  EXPECT_EQ(x.find("<cputune>"), std::string::npos);
  EXPECT_EQ(x.find("<idmap>"), std::string::npos);
  EXPECT_EQ(x.find("<memtune>"), std::string::npos);
  EXPECT_NE(x.find("<vcpu placement='static'>1</vcpu>"), std::string::npos);
}

TEST(CloeDomain, RootIsEscapedNotPasted) {
  Spec s = sample();
  s.root = "/srv/a'b&<c>\"d";
  std::string x = cloe::domain::xml(s);
  EXPECT_NE(x.find("<source dir='/srv/a&apos;b&amp;&lt;c&gt;&quot;d'/>"), std::string::npos) << x;
}

TEST(CloeDomain, BadValuesAreRefusedAsInvalid) {
  auto bad = [](auto change) {
    Spec s = sample();
    change(s);
    return kind_of(s);
  };
  using core::ErrorKind;
  EXPECT_EQ(kind_of(sample()), ErrorKind::internal);  // the sample itself is fine
  EXPECT_EQ(bad([](Spec& s) { s.name = "Acme"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.name = "a;b"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.name = "-a"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.name = std::string(64, 'a'); }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.root = "relative"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.root = "/a/../etc"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.root = "/a\nb"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.init = "sbin/init"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.memory_kib = 1024; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.cpuset = "0;1"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.cpu_shares = 1; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.cpu_max_percent = 101; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.cpu_max_percent = 0; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.idmap->host_base = 0; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.idmap->host_base = 0xFFFFFFF0; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.interfaces[0].mac = "52:54:00:00:0a"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.interfaces[0].address = "10.0.10.256"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.interfaces[0].bridge = "br0'/><x"; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.interfaces[0].prefix = 33; }), ErrorKind::invalid);
  EXPECT_EQ(bad([](Spec& s) { s.interfaces[0].gateway = "gw"; }), ErrorKind::invalid);
}

TEST(CloeDomain, MacFollowsTheAddress) {
  EXPECT_EQ(cloe::domain::mac_for("10.0.10.5"), "52:54:00:00:0a:05");
  EXPECT_EQ(cloe::domain::mac_for("192.168.200.254"), "52:54:00:a8:c8:fe");
  EXPECT_THROW(cloe::domain::mac_for("nope"), core::Error);
}
