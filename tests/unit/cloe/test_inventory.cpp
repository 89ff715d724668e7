// SPDX-License-Identifier: GPL-3.0-or-later
// cloe's inventory: migrations, the schema's constraints, clusters and nodes
// through the library (a local node: direct execution, probed for real).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../core/tempdir.hpp"
#include "cloe/inventory.hpp"
#include "core/jobs.hpp"
#include "core/sqlite.hpp"
#include "inventory_db.hpp"

namespace {

using core::ErrorKind;

struct Root {
  test::TempDir dir;
  cloe::Settings s;
  Root() {
    s.root = dir.path();
    s.data = dir.path() / "var/lib/oe";
    s.state = s.data / "cloe";
    s.run = dir.path() / "run/oe/cloe";
    s.locks = {dir.path() / "run/oe/locks", std::chrono::milliseconds(0)};
    std::filesystem::create_directories(s.locks.path);
    s.default_cluster = "local";
  }
  std::string bytes() const {
    std::ifstream in(s.database(), std::ios::binary);
    std::stringstream b;
    b << in.rdbuf();
    return b.str();
  }
};

template <typename F>
ErrorKind kind_of(F&& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorKind::internal;
}

cloe::NodeAddRequest local_node(const Root& r, std::string name, std::string address) {
  cloe::NodeAddRequest rq;
  rq.cluster = "prod";
  rq.name = std::move(name);
  rq.address = std::move(address);
  rq.transport = cloe::Transport::local;
  rq.storage = "ssd=" + r.dir.path().string();
  return rq;
}

TEST(CloeInventory, MigrationsCreateEveryTableOnceAndRecordTheirVersion) {
  Root r;
  { auto db = cloe::inventory::open(r.s); }
  auto db = cloe::inventory::open(r.s);  // a second open applies nothing
  EXPECT_EQ(core::sqlite::schema_version(db, "cloe"), static_cast<std::int64_t>(cloe::inventory::migrations().size()));
  EXPECT_GE(core::sqlite::schema_version(db, "core.jobs"), 1);
  for (const char* table : {"clusters", "nodes", "node_storage", "templates", "template_copies", "vservers",
                            "vserver_groups", "backups", "job", "job_step"}) {
    auto q = db.query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", table);
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_int64(0), 1) << table;
  }
  EXPECT_EQ(std::filesystem::status(r.s.database()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(CloeInventory, NewerSchemaIsRefused) {
  Root r;
  { auto db = cloe::inventory::open(r.s); db.execute("UPDATE schema_version SET version = 99 WHERE tier = 'cloe'"); }
  EXPECT_EQ(kind_of([&] { cloe::inventory::open(r.s); }), ErrorKind::conflict);
  EXPECT_EQ(kind_of([&] { cloe::cluster_list(r.s); }), ErrorKind::conflict);
}

TEST(CloeInventory, ConstraintsRefuseWhatTheLibraryWouldRefuse) {
  Root r;
  auto db = cloe::inventory::open(r.s);
  auto conflict = [&](const char* sql) {
    EXPECT_EQ(kind_of([&] { db.exec(sql); }), ErrorKind::conflict) << sql;
  };
  db.exec("INSERT INTO clusters VALUES ('prod', '10.1.0.0/24', '10.1.0.1', '10.1.0.128', '10.1.0.254', 'now')");
  conflict("INSERT INTO clusters VALUES ('Prod', '10.1.0.0/24', '10.1.0.1', '10.1.0.128', '10.1.0.254', 'now')");
  conflict("INSERT INTO clusters VALUES ('-x', '10.1.0.0/24', '10.1.0.1', '10.1.0.128', '10.1.0.254', 'now')");
  // A node of an unknown cluster; an SSH node without a pinned key; zero CPUs.
  conflict("INSERT INTO nodes (cluster, name, address, transport, cpus, memory, created) "
           "VALUES ('nope', 'n1', '10.1.0.11', 'local', 1, 1, 'now')");
  conflict("INSERT INTO nodes (cluster, name, address, transport, cpus, memory, created) "
           "VALUES ('prod', 'n1', '10.1.0.11', 'ssh', 1, 1, 'now')");
  conflict("INSERT INTO nodes (cluster, name, address, transport, cpus, memory, created) "
           "VALUES ('prod', 'n1', '10.1.0.11', 'local', 0, 1, 'now')");
  db.exec("INSERT INTO nodes (cluster, name, address, transport, cpus, memory, created) "
          "VALUES ('prod', 'n1', '10.1.0.11', 'local', 2, 1024, 'now')");
  // One local node per cluster; one address per cluster.
  conflict("INSERT INTO nodes (cluster, name, address, transport, cpus, memory, created) "
           "VALUES ('prod', 'n2', '10.1.0.12', 'local', 2, 1024, 'now')");
  conflict("INSERT INTO nodes (cluster, name, address, transport, host_key, fingerprint, cpus, memory, created) "
           "VALUES ('prod', 'n2', '10.1.0.11', 'ssh', 'ssh-ed25519 AAAA', 'SHA256:x', 2, 1024, 'now')");
  conflict("INSERT INTO node_storage VALUES ('prod', 'n1', 'ssd', 'relative/path', 10)");
  db.exec("INSERT INTO node_storage VALUES ('prod', 'n1', 'ssd', '/srv/ssd', 1000)");
  db.exec("INSERT INTO templates VALUES ('bookworm', 'bookworm', '', 'abc', 1, 'now')");
  // A vserver on a class the node does not have; then one that is right.
  conflict("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
           "created) VALUES ('v1', 'prod', 'n1', '10.1.0.130', '52:54:00:00:00:01', 'bookworm', 'sata', 1, 1, 65536, "
           "'stopped', 'now')");
  db.exec("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
          "created) VALUES ('v1', 'prod', 'n1', '10.1.0.130', '52:54:00:00:00:01', 'bookworm', 'ssd', 1, 1, 65536, "
          "'stopped', 'now')");
  // The same IP twice in a cluster, an id range that overlaps, a bad state.
  conflict("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
           "created) VALUES ('v2', 'prod', 'n1', '10.1.0.130', '52:54:00:00:00:02', 'bookworm', 'ssd', 1, 1, 131072, "
           "'stopped', 'now')");
  conflict("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
           "created) VALUES ('v2', 'prod', 'n1', '10.1.0.131', '52:54:00:00:00:02', 'bookworm', 'ssd', 1, 1, 65536, "
           "'stopped', 'now')");
  conflict("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
           "created) VALUES ('v2', 'prod', 'n1', '10.1.0.131', '52:54:00:00:00:02', 'bookworm', 'ssd', 1, 1, 131072, "
           "'lost', 'now')");
  // A node that holds a vserver cannot be deleted, even bypassing the library.
  conflict("DELETE FROM nodes WHERE name = 'n1'");
  db.exec("DELETE FROM vservers");
  db.exec("DELETE FROM nodes WHERE name = 'n1'");
  auto q = db.query("SELECT count(*) FROM node_storage");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int64(0), 0);  // gone with its node
}

TEST(CloeInventory, SizesParseAndPrint) {
  EXPECT_EQ(cloe::parse_size("512M", "s"), 512LL << 20);
  EXPECT_EQ(cloe::parse_size("4G", "s"), 4LL << 30);
  EXPECT_EQ(cloe::parse_size("2GiB", "s"), 2LL << 30);
  EXPECT_EQ(cloe::parse_size("1t", "s"), 1LL << 40);
  EXPECT_EQ(cloe::parse_size("1000", "s"), 1000);
  for (const char* bad : {"", "0", "G", "4Q", "4 G", "-1G", "4GB2", "1.5G", "99999999999999999999", "8388608T"})
    EXPECT_EQ(kind_of([&] { cloe::parse_size(bad, "--memory"); }), ErrorKind::invalid) << bad;
  EXPECT_EQ(cloe::format_size(4LL << 30), "4G");
  EXPECT_EQ(cloe::format_size(1536LL << 20), "1.5G");
  EXPECT_EQ(cloe::format_size(1000), "1000");
}

TEST(CloeInventory, ClusterInitRecordsNetworkGatewayAndPool) {
  Root r;
  cloe::Cluster c = cloe::cluster_init(r.s, {"prod", "10.1.0.0/24", std::nullopt, std::nullopt});
  EXPECT_EQ(c.gateway, "10.1.0.1");
  EXPECT_EQ(c.pool_first, "10.1.0.128");
  EXPECT_EQ(c.pool_last, "10.1.0.254");
  EXPECT_EQ(c.pool_size, 127);
  c = cloe::cluster_init(r.s, {"lab", "10.2.0.0/16", "10.2.255.254", "10.2.1.10-10.2.1.20"});
  EXPECT_EQ(c.pool_size, 11);
  ASSERT_EQ(cloe::cluster_list(r.s).size(), 2U);
  EXPECT_EQ(cloe::cluster_show(r.s, "lab").network, "10.2.0.0/16");
}

TEST(CloeInventory, BadClusterRequestsChangeNothing) {
  Root r;
  cloe::cluster_init(r.s, {"prod", "10.1.0.0/24", std::nullopt, std::nullopt});
  std::string before = r.bytes();
  struct Case {
    cloe::ClusterInitRequest rq;
    ErrorKind kind;
  };
  std::vector<Case> cases = {
      {{"prod", "10.3.0.0/24", std::nullopt, std::nullopt}, ErrorKind::conflict},
      {{"Prod", "10.3.0.0/24", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"a_b", "10.3.0.0/24", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{std::string(64, 'a'), "10.3.0.0/24", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"x", "10.3.0.0", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"x", "10.3.0.1/24", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"x", "10.3.0.0/31", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"x", "300.3.0.0/24", std::nullopt, std::nullopt}, ErrorKind::invalid},
      {{"x", "10.3.0.0/24", "10.4.0.1", std::nullopt}, ErrorKind::invalid},
      {{"x", "10.3.0.0/24", "10.3.0.200", std::nullopt}, ErrorKind::invalid},  // inside the pool
      {{"x", "10.3.0.0/24", std::nullopt, "10.3.0.20"}, ErrorKind::invalid},
      {{"x", "10.3.0.0/24", std::nullopt, "10.3.0.20-10.3.0.10"}, ErrorKind::invalid},
      {{"x", "10.3.0.0/24", std::nullopt, "10.3.0.20-10.3.1.10"}, ErrorKind::invalid},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(kind_of([&] { cloe::cluster_init(r.s, c.rq); }), c.kind) << c.rq.name << " " << c.rq.network;
    EXPECT_EQ(r.bytes(), before) << c.rq.name;
  }
}

TEST(CloeInventory, LocalNodeIsProbedRecordedDrainedAndRemoved) {
  Root r;
  cloe::cluster_init(r.s, {"prod", "10.1.0.0/24", std::nullopt, std::nullopt});
  cloe::Node n = cloe::node_add(r.s, local_node(r, "ref", "10.1.0.5"));
  EXPECT_EQ(n.transport, cloe::Transport::local);
  EXPECT_GE(n.cpus, 1);
  EXPECT_GT(n.memory, 0);
  ASSERT_EQ(n.storage.size(), 1U);
  EXPECT_GT(n.storage[0].disk, 0);
  EXPECT_EQ(n.probed, (std::vector<std::string>{"cpus", "memory", "disk:ssd"}));
  // What is given is not probed.
  auto rq = local_node(r, "ref2", "10.2.0.6");
  cloe::cluster_init(r.s, {"lab", "10.2.0.0/24", std::nullopt, std::nullopt});
  rq.cluster = "lab";
  rq.cpus = 3;
  rq.memory = "2G";
  rq.disk = "5G";
  n = cloe::node_add(r.s, rq);
  EXPECT_EQ(n.cpus, 3);
  EXPECT_EQ(n.memory, 2LL << 30);
  EXPECT_EQ(n.storage.at(0).disk, 5LL << 30);
  EXPECT_TRUE(n.probed.empty());
  EXPECT_TRUE(cloe::node_drain(r.s, "prod", "ref", true).drained);
  EXPECT_TRUE(cloe::node_show(r.s, "prod", "ref").drained);
  EXPECT_FALSE(cloe::node_drain(r.s, "prod", "ref", false).drained);
  cloe::node_remove(r.s, "prod", "ref");
  EXPECT_TRUE(cloe::node_list(r.s, "prod").empty());
  // Each step was a journaled job.
  auto db = cloe::inventory::open(r.s);
  core::JobRunner jobs(db);
  EXPECT_EQ(jobs.find("cloe.node.add", "node:prod.ref")->status, core::JobStatus::done);
  EXPECT_EQ(jobs.find("cloe.node.remove", "node:prod.ref")->status, core::JobStatus::done);
}

TEST(CloeInventory, NodeWithVserversIsNotRemoved) {
  Root r;
  cloe::cluster_init(r.s, {"prod", "10.1.0.0/24", std::nullopt, std::nullopt});
  cloe::node_add(r.s, local_node(r, "ref", "10.1.0.5"));
  {
    auto db = cloe::inventory::open(r.s);
    db.exec("INSERT INTO templates VALUES ('t', 'bookworm', '', 'abc', 1, 'now')");
    db.exec("INSERT INTO vservers (name, cluster, node, ip, mac, template, storage, memory, disk, id_base, state, "
            "created) VALUES ('v1', 'prod', 'ref', '10.1.0.130', '52:54:00:00:00:01', 't', 'ssd', 1073741824, 1, "
            "65536, 'stopped', 'now')");
  }
  EXPECT_EQ(cloe::node_show(r.s, "prod", "ref").vservers, 1);
  EXPECT_EQ(cloe::node_show(r.s, "prod", "ref").memory_used, 1LL << 30);
  std::string before = r.bytes();
  EXPECT_EQ(kind_of([&] { cloe::node_remove(r.s, "prod", "ref"); }), ErrorKind::conflict);
  EXPECT_EQ(r.bytes(), before);
  EXPECT_EQ(cloe::node_list(r.s, "prod").size(), 1U);
}

TEST(CloeInventory, BadNodeRequestsChangeNothing) {
  Root r;
  cloe::cluster_init(r.s, {"prod", "10.1.0.0/24", std::nullopt, std::nullopt});
  cloe::node_add(r.s, local_node(r, "ref", "10.1.0.5"));
  std::string before = r.bytes();
  auto base = local_node(r, "n2", "10.1.0.12");
  base.transport = cloe::Transport::ssh;
  base.host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  struct Case {
    const char* what;
    std::function<void(cloe::NodeAddRequest&)> change;
    ErrorKind kind;
  };
  std::vector<Case> cases = {
      {"unknown cluster", [](auto& q) { q.cluster = "nope"; }, ErrorKind::not_found},
      {"cluster not a label", [](auto& q) { q.cluster = "No"; }, ErrorKind::invalid},
      {"name not a label", [](auto& q) { q.name = "n_2"; }, ErrorKind::invalid},
      {"name too long", [](auto& q) { q.name = std::string(64, 'n'); }, ErrorKind::invalid},
      {"name taken", [](auto& q) { q.name = "ref"; }, ErrorKind::conflict},
      {"address taken", [](auto& q) { q.address = "10.1.0.5"; }, ErrorKind::conflict},
      {"address outside", [](auto& q) { q.address = "10.9.0.12"; }, ErrorKind::invalid},
      {"address in pool", [](auto& q) { q.address = "10.1.0.200"; }, ErrorKind::invalid},
      {"address is gateway", [](auto& q) { q.address = "10.1.0.1"; }, ErrorKind::invalid},
      {"address broadcast", [](auto& q) { q.address = "10.1.0.255"; }, ErrorKind::invalid},
      {"address not IPv4", [](auto& q) { q.address = "node2.example"; }, ErrorKind::invalid},
      {"bad port", [](auto& q) { q.ssh_port = 70000; }, ErrorKind::invalid},
      {"storage relative", [](auto& q) { q.storage = "ssd=srv"; }, ErrorKind::invalid},
      {"storage twice", [](auto& q) { q.storage = "ssd=/a,ssd=/b"; }, ErrorKind::invalid},
      {"storage class", [](auto& q) { q.storage = "SSD=/a"; }, ErrorKind::invalid},
      {"storage syntax", [](auto& q) { q.storage = "/a"; }, ErrorKind::invalid},
      {"memory", [](auto& q) { q.memory = "lots"; }, ErrorKind::invalid},
      {"disk", [](auto& q) { q.disk = "ssd=1X"; }, ErrorKind::invalid},
      {"disk class", [](auto& q) { q.disk = "sata=1G"; }, ErrorKind::invalid},
      {"cpus", [](auto& q) { q.cpus = 0; }, ErrorKind::invalid},
      {"host key", [](auto& q) { q.host_key = "not a key"; }, ErrorKind::invalid},
      {"host key type", [](auto& q) { q.host_key = "ssh-dss AAAAB3NzaC1kc3MAAACBAP"; }, ErrorKind::invalid},
      {"fingerprint", [](auto& q) { q.host_key.reset(); q.accept_host_key = "MD5:aa:bb"; }, ErrorKind::invalid},
      {"local with key", [](auto& q) { q.transport = cloe::Transport::local; }, ErrorKind::invalid},
      {"second local", [](auto& q) { q.transport = cloe::Transport::local; q.host_key.reset(); }, ErrorKind::conflict},
  };
  for (const auto& c : cases) {
    auto rq = base;
    c.change(rq);
    EXPECT_EQ(kind_of([&] { cloe::node_add(r.s, rq); }), c.kind) << c.what;
    EXPECT_EQ(r.bytes(), before) << c.what;
  }
  EXPECT_EQ(kind_of([&] { cloe::node_show(r.s, "prod", "nope"); }), ErrorKind::not_found);
  EXPECT_EQ(kind_of([&] { cloe::node_drain(r.s, "prod", "nope", true); }), ErrorKind::not_found);
  EXPECT_EQ(kind_of([&] { cloe::node_remove(r.s, "nope", "ref"); }), ErrorKind::not_found);
  EXPECT_EQ(r.bytes(), before);
}

TEST(CloeInventory, NothingRecordedYetReadsAsEmptyAndWritesNothing) {
  Root r;
  EXPECT_TRUE(cloe::cluster_list(r.s).empty());
  EXPECT_EQ(kind_of([&] { cloe::node_list(r.s, "prod"); }), ErrorKind::not_found);
  EXPECT_FALSE(std::filesystem::exists(r.s.database()));
}

}  // namespace
