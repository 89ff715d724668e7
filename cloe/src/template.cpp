// SPDX-License-Identifier: GPL-3.0-or-later
#include "cloe/template.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/sqlite.hpp"
#include "core/fd.hpp"
#include "core/jobs.hpp"
#include "core/lock.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/tree.hpp"
#include "repo.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace cloe {

using core::ErrorKind;
using core::fail;

namespace {

bool is_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  return std::regex_match(s, re);
}

bool is_package(const std::string& s) {
  static const std::regex re("[a-z0-9][a-z0-9+.-]+");
  return std::regex_match(s, re);
}

fs::path templates_dir(const core::Paths& paths) { return paths.data("cloe") / "templates"; }

std::string hex(const unsigned char* d, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", d[i]);
  return out;
}

std::string digest(const std::string& text) {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  return hex(out, sizeof out);
}

std::vector<std::string> package_set(const TemplateBuildRequest& r) {
  std::set<std::string> all(template_base_packages().begin(), template_base_packages().end());
  for (const auto& p : r.packages) all.insert(p);
  return {all.begin(), all.end()};
}

std::string inputs_key(const std::string& suite, const std::vector<std::string>& packages, const std::string& mirror,
                       const std::string& xoe_entries = "", const std::vector<std::string>& software = {}) {
  std::string text = "cloe-template 1\n" + suite + "\n" + mirror + "\n";
  for (const auto& p : packages) text += p + "\n";
  if (!xoe_entries.empty()) text += "oe-xoe\n" + xoe_entries;
  // Written only when there is some, so that the keys of templates without
  // software stay what they were.
  if (!software.empty()) text += "software\n";
  for (const auto& w : software) text += w + "\n";
  return digest(text);
}

// "tryton/7.0", "odoo/17.0": a software name and a version of digits and dots.
bool is_software(const std::string& s) {
  static const std::regex re("[a-z][a-z0-9]{0,30}/[0-9]{1,4}(\\.[0-9]{1,4}){0,3}");
  return std::regex_match(s, re);
}

// What a flat repository (packaging/oe-apt-repo) says of oe-xoe: each of its
// stanzas' version and checksum (the template's key: a new package is a new
// template) and the names its Depends give (the stage's packages).
struct RepoXoe {
  std::string entries;
  std::vector<std::string> depends;
};

RepoXoe read_repository(const fs::path& dir) {
  RepoXoe out;
  std::set<std::string> deps;
  for (const auto& st : read_packages(dir)) {
    if (st.package != "oe-xoe") continue;
    out.entries += st.version + " " + st.sha256 + "\n";
    std::istringstream list(st.depends);
    std::string item;
    while (std::getline(list, item, ',')) {
      // "name (>= 1)" or "a | b": the first alternative's name.
      item = item.substr(0, item.find('|'));
      item = item.substr(0, item.find('('));
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      auto colon = item.find(':');  // name:any
      if (colon != std::string::npos) item.erase(colon);
      if (!item.empty()) deps.insert(item);
    }
  }
  if (out.entries.empty()) fail(ErrorKind::invalid, "{}: the repository has no oe-xoe package", dir.string());
  for (const auto& d : deps)
    if (!is_package(d)) fail(ErrorKind::invalid, "{}: oe-xoe depends on {:?}, not a package name", dir.string(), d);
  out.depends.assign(deps.begin(), deps.end());
  return out;
}

void write_text(const fs::path& file, const std::string& text, fs::perms mode) {
  fs::path tmp = file;
  tmp += ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) fail(ErrorKind::io, "cannot write {}", tmp.string());
  }
  fs::permissions(tmp, mode);
  fs::rename(tmp, file);
}

nlohmann::json to_json(const TemplateInfo& t) {
  return {{"name", t.name},         {"suite", t.suite},       {"packages", t.packages}, {"mirror", t.mirror},
          {"inputs", t.inputs},     {"checksum", t.checksum}, {"bytes", t.bytes},       {"built_at", t.built_at},
          {"xoe", t.xoe},           {"software", t.software}};
}

TemplateInfo read_info(const fs::path& dir) {
  std::ifstream in(dir / "template.json");
  if (!in) fail(ErrorKind::not_found, "no template {}", dir.filename().string());
  try {
    auto j = nlohmann::json::parse(in);
    TemplateInfo t;
    t.name = j.at("name").get<std::string>();
    t.suite = j.at("suite").get<std::string>();
    t.packages = j.at("packages").get<std::vector<std::string>>();
    t.mirror = j.at("mirror").get<std::string>();
    t.inputs = j.at("inputs").get<std::string>();
    t.checksum = j.at("checksum").get<std::string>();
    t.bytes = j.at("bytes").get<std::uint64_t>();
    t.built_at = j.at("built_at").get<std::string>();
    t.xoe = j.value("xoe", std::string());
    t.software = j.value("software", std::vector<std::string>());
    t.root = dir / "rootfs";
    return t;
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::invalid, "{}: {}", (dir / "template.json").string(), e.what());
  }
}

// runit as the init of a vserver (../shared/CLOE.md, facts): no getty (no
// terminal in a container), no sysv scripts at boot, and a ctrlaltdel that
// stops at once (Debian's sleeps 14 s), which is how cloe stops a vserver
// cleanly (SIGINT to its PID 1).
void set_up_runit(const fs::path& root) {
  std::error_code ec;
  for (const char* where : {"etc/runit/runsvdir/default", "etc/service", "etc/sv"}) {
    for (const auto& e : fs::directory_iterator(root / where, ec)) {
      if (e.path().filename().string().starts_with("getty-")) fs::remove_all(e.path(), ec);
    }
  }
  if (fs::exists(root / "etc/runit", ec)) {
    auto exe = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
               fs::perms::others_exec;
    write_text(root / "etc/runit/ctrlaltdel",
               "#!/bin/sh\n# Written by cloe: a vserver stops at once on SIGINT to its init.\n"
               "PATH=/bin:/usr/bin\ntouch /run/runit.stopit\nchmod 100 /run/runit.stopit\n",
               exe);
    // Stage 1 runs /etc/runit/boot-run/*.sh instead of the sysv scripts of
    // /etc/rcS.d (none here: the vserver's /run and /dev/shm come from its
    // domain), stage 2 starts no /etc/init.d script.
    fs::create_directories(root / "etc/runit/boot-run");
    write_text(root / "etc/runit/native.boot.run", "", fs::perms::owner_read | fs::perms::owner_write);
    write_text(root / "etc/runit/no.emulate.sysv", "", fs::perms::owner_read | fs::perms::owner_write);
  }
}

std::string now_iso() { return fmt::format("{:%FT%TZ}", fmt::gmtime(std::time(nullptr))); }

// While packages are installed in a tree: no service of theirs starts (it
// would run on this host, in the chroot).
struct NoServiceStarts {
  fs::path file;
  explicit NoServiceStarts(const fs::path& root) : file(root / "usr/sbin/policy-rc.d") {
    write_text(file, "#!/bin/sh\n# Written by cloe while it installs packages: start nothing.\nexit 101\n",
               fs::perms::owner_all);
  }
  ~NoServiceStarts() {
    std::error_code ec;
    fs::remove(file, ec);
  }
  NoServiceStarts(const NoServiceStarts&) = delete;
  NoServiceStarts& operator=(const NoServiceStarts&) = delete;
};

// apt-get in the tree, in a mount namespace of its own with its own /proc,
// so that nothing a package's script mounts stays on the host.
void apt_in(const fs::path& root, std::vector<std::string> args) {
  std::vector<std::string> argv = {"unshare", "--mount", "--fork", "--mount-proc=" + (root / "proc").string(),
                                   "chroot", root.string(), "apt-get"};
  argv.insert(argv.end(), args.begin(), args.end());
  core::run(argv, {.timeout = 60min, .env_extra = {{"DEBIAN_FRONTEND", "noninteractive"}}});
}

// debootstrap with the base, then the other packages.
void make_tree(const fs::path& root, const std::string& suite, const std::string& mirror,
               const std::vector<std::string>& packages) {
  std::string include;
  for (const auto& p : template_base_packages()) include += (include.empty() ? "" : ",") + p;
  core::run({"debootstrap", "--variant=minbase", "--include=" + include, suite, root.string(), mirror},
            {.timeout = 60min});
  std::vector<std::string> extra;
  for (const auto& p : packages)
    if (std::find(template_base_packages().begin(), template_base_packages().end(), p) == template_base_packages().end())
      extra.push_back(p);
  if (extra.empty()) return;
  NoServiceStarts quiet(root);
  std::vector<std::string> args = {"install", "-y", "--no-install-recommends"};
  args.insert(args.end(), extra.begin(), extra.end());
  apt_in(root, args);
  core::run({"chroot", root.string(), "apt-get", "clean"}, {.timeout = 5min});
}

// oe-xoe from the repository, copied into the tree for the install and
// gone after it (the vserver keeps no source of it: cloe update brings the
// next one).
std::string install_xoe(const fs::path& root, const fs::path& repository) {
  const fs::path inside = "var/cache/oe-repo";
  const fs::path list = root / "etc/apt/sources.list.d/oe-repo.list";
  auto cleanup = [&] {
    std::error_code ec;
    fs::remove(list, ec);
    core::remove_tree(root / inside);
    for (const auto& e : fs::directory_iterator(root / "var/lib/apt/lists", ec))
      if (e.path().filename().string().starts_with("_var_cache_oe-repo_")) fs::remove(e.path(), ec);
  };
  cleanup();
  try {
    fs::create_directories(root / inside);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(repository)) {
      if (!e.is_regular_file(ec)) continue;
      std::string n = e.path().filename().string();
      if (n == "Packages" || n == "Packages.gz" || n == "Release" || n.ends_with(".deb"))
        fs::copy_file(e.path(), root / inside / n, fs::copy_options::overwrite_existing);
    }
    write_text(list, "deb [trusted=yes] file:/" + inside.string() + " ./\n",
               fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    NoServiceStarts quiet(root);
    // Only this source's lists are read again (no mirror is asked).
    apt_in(root, {"update", "-o", "Dir::Etc::SourceList=/etc/apt/sources.list.d/oe-repo.list", "-o",
                  "Dir::Etc::SourceParts=/nonexistent", "-o", "APT::Get::List-Cleanup=0"});
    apt_in(root, {"install", "-y", "--no-install-recommends", "oe-xoe"});
    core::run({"chroot", root.string(), "apt-get", "clean"}, {.timeout = 5min});
    auto version = core::run({"chroot", root.string(), "dpkg-query", "-W", "-f=${Version}", "oe-xoe"},
                             {.timeout = 1min});
    cleanup();
    return version.out;
  } catch (...) {
    cleanup();
    throw;
  }
}

// A copy of a tree of this host's own making (a template's stage).
void copy_tree(const fs::path& from, const fs::path& to) {
  core::run({"cp", "-a", "--reflink=auto", "--", from.string(), to.string()}, {.timeout = 30min});
}

// Whether a mount of this host shows `tree` (or a folder in it) as its root:
// a vserver's lower layer is an idmapped bind mount of its template's
// rootfs, which the kernel keeps naming by its path even after a rename.
// mountinfo's 4th field is the path inside the mounted filesystem; it is
// matched by its tail below the templates folder.
bool tree_mounted(const fs::path& tree) {
  std::ifstream in("/proc/self/mountinfo");
  std::string want = "/" + tree.parent_path().filename().string() + "/" + tree.filename().string();
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root;
    f >> id >> parent >> dev >> root;
    if (root.ends_with(want) || root.find(want + "/") != std::string::npos) return true;
  }
  return false;
}

// A replaced tree goes, unless vservers still have it as their lower layer:
// then it is kept as NAME.retired-N until they are gone (the next build or
// remove of NAME clears the retired trees nobody mounts).
void retire_tree(const fs::path& templates, const std::string& name, const fs::path& old) {
  if (!tree_mounted(old / "rootfs")) {
    core::remove_tree(old);
    return;
  }
  for (int n = 1;; ++n) {
    fs::path to = templates / fmt::format("{}.retired-{}", name, n);
    std::error_code ec;
    if (fs::exists(to, ec)) continue;
    fs::rename(old, to);
    core::logger("cloe")->info("template {}: the replaced tree is kept as {} while vservers use it", name,
                               to.filename().string());
    return;
  }
}

void clear_retired(const fs::path& templates, const std::string& name) {
  std::error_code ec;
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(templates, ec))
    if (e.path().filename().string().starts_with(name + ".retired-")) all.push_back(e.path());
  for (const auto& t : all)
    if (!tree_mounted(t / "rootfs")) core::remove_tree(t);
}

// xoe inside the tree (installed by install_xoe), in a mount namespace of its
// own with its own /proc, as apt_in.
void xoe_in(const fs::path& root, std::vector<std::string> args) {
  std::vector<std::string> argv = {"unshare", "--mount", "--fork", "--mount-proc=" + (root / "proc").string(),
                                   "chroot", root.string(), "xoe"};
  argv.insert(argv.end(), args.begin(), args.end());
  core::run(argv, {.timeout = 60min, .env_extra = {{"DEBIAN_FRONTEND", "noninteractive"}}});
}

// The code of each software version fetched by xoe inside the tree, with
// the host packages its recipe names. xoe's .deb cache inside is a copy of
// the referee's (so that what was downloaded once is not downloaded again);
// the packages it downloaded go back to the referee's cache, and the cache
// inside is removed: the template keeps the unpacked code only.
void fetch_software(const fs::path& root, const std::vector<std::string>& software, const fs::path& deb_cache) {
  const fs::path inside = root / "var/cache/oe/debs";
  auto cleanup = [&] { core::remove_tree(inside); };
  cleanup();
  try {
    fs::create_directories(inside.parent_path());
    std::error_code ec;
    if (fs::is_directory(deb_cache, ec)) copy_tree(deb_cache, inside);
    else fs::create_directories(inside);
    {
      NoServiceStarts quiet(root);
      for (const auto& w : software) {
        xoe_in(root, {"software", "deps", w});
        xoe_in(root, {"software", "fetch", w});
      }
      core::run({"chroot", root.string(), "apt-get", "clean"}, {.timeout = 5min});
    }
    fs::create_directories(deb_cache / "debs");
    for (const auto& e : fs::directory_iterator(inside / "debs", ec)) {
      if (!e.is_regular_file(ec) || !e.path().filename().string().ends_with(".deb")) continue;
      fs::path to = deb_cache / "debs" / e.path().filename();
      if (fs::exists(to, ec)) continue;
      fs::path tmp = to;
      tmp += ".cloe-new";
      fs::copy_file(e.path(), tmp, fs::copy_options::overwrite_existing);
      fs::rename(tmp, to);
    }
    cleanup();
  } catch (...) {
    cleanup();
    throw;
  }
}

// xoe's configuration inside a vserver: services listen on every address of
// the vserver's own network namespace (its address and its loopback), so
// that the referee and the web front reach them at the vserver's address;
// without PostgreSQL in the template, new services are on SQLite.
void write_xoe_config(const fs::path& root, const std::vector<std::string>& packages) {
  bool postgresql = std::any_of(packages.begin(), packages.end(),
                                [](const std::string& p) { return p == "postgresql" || p.starts_with("postgresql-1"); });
  std::string text =
      "# /etc/oe/xoe.toml, written by cloe template build for xoe inside a vserver.\n"
      "# Every other key keeps its default: xoe config show.\n\n"
      "[services]\n"
      "# Every address of the vserver: its own, on the cluster's network, and its loopback.\n"
      "listen = \"0.0.0.0\"\n";
  if (!postgresql)
    text +=
        "\n[database]\n"
        "# The template has no PostgreSQL (cloe template build --packages postgresql gives one).\n"
        "backend = \"sqlite\"\n";
  fs::create_directories(root / "etc/oe");
  write_text(root / "etc/oe/xoe.toml", text, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                                 fs::perms::others_read);
}

}  // namespace

const std::vector<std::string>& template_base_packages() {
  static const std::vector<std::string> base = {"iproute2", "procps", "runit", "runit-init"};
  return base;
}

std::string host_debian_mirror(const fs::path& etc_apt) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::exists(etc_apt / "sources.list", ec)) files.push_back(etc_apt / "sources.list");
  std::vector<fs::path> more;
  for (const auto& e : fs::directory_iterator(etc_apt / "sources.list.d", ec)) more.push_back(e.path());
  std::sort(more.begin(), more.end());
  files.insert(files.end(), more.begin(), more.end());
  // A Debian archive (not its security archive): its URI ends in /debian.
  auto debian = [](const std::string& uri) {
    std::string u = uri;
    while (u.ends_with("/")) u.pop_back();
    return (u.starts_with("http://") || u.starts_with("https://") || u.starts_with("file:/")) && u.ends_with("/debian");
  };
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    if (f.extension() == ".list" || f.filename() == "sources.list") {
      while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string w;
        words >> w;
        if (w != "deb") continue;
        while (words >> w) {
          if (w.starts_with("[")) {
            while (!w.ends_with("]") && words >> w) {
            }
            continue;
          }
          if (debian(w)) return w;
          break;
        }
      }
    } else if (f.extension() == ".sources") {
      bool enabled = true, deb = false;
      std::vector<std::string> uris;
      auto flush = [&]() -> std::optional<std::string> {
        std::optional<std::string> found;
        if (enabled && deb)
          for (const auto& u : uris)
            if (debian(u)) {
              found = u;
              break;
            }
        enabled = true, deb = false, uris.clear();
        return found;
      };
      while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t") == std::string::npos) {
          if (auto u = flush()) return *u;
          continue;
        }
        auto colon = line.find(':');
        if (line.starts_with("#") || colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        std::istringstream values(line.substr(colon + 1));
        std::string v;
        if (key == "Types") {
          while (values >> v) deb = deb || v == "deb";
        } else if (key == "URIs") {
          while (values >> v) uris.push_back(v);
        } else if (key == "Enabled") {
          values >> v;
          enabled = v != "no";
        }
      }
      if (auto u = flush()) return *u;
    }
  }
  fail(ErrorKind::precondition, "no Debian archive in {}: give --mirror URI", (etc_apt / "sources.list*").string());
}

std::string template_checksum(const fs::path& root) {
  core::Fd top = core::open_directory(root);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  auto add = [&](std::string_view s) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  std::vector<std::string> lines;
  // The walk's order is the folders' order on disk: collect, sort, then hash.
  struct Entry {
    std::string path;
    std::string head;
    bool regular;
  };
  std::vector<Entry> entries;
  core::walk_tree(top.get(), [&](const core::TreeEntry& e) {
    const auto& st = e.st;
    std::string head = fmt::format("{:o} {} {} {}", st.st_mode, st.st_uid, st.st_gid,
                                   S_ISREG(st.st_mode) ? static_cast<long long>(st.st_size) : 0LL);
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlinkat(e.parent, std::string(e.name).c_str(), buf, sizeof buf);
      if (n >= 0) head += " -> " + std::string(buf, static_cast<std::size_t>(n));
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) head += fmt::format(" dev {}", static_cast<unsigned long long>(st.st_rdev));
    entries.push_back({std::string(e.path), head, S_ISREG(st.st_mode)});
    return core::Descend::yes;
  });
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
  for (const auto& e : entries) {
    add(e.path);
    add(std::string_view("\0", 1));
    add(e.head);
    add("\n");
    if (!e.regular) continue;
    core::Fd fd = core::open_beneath(top.get(), e.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd) core::fail_errno(ErrorKind::io, "read " + (root / e.path).string(), errno);
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) core::fail_errno(ErrorKind::io, "read " + (root / e.path).string(), errno);
      if (n == 0) break;
      add(std::string_view(buf, static_cast<std::size_t>(n)));
    }
  }
  unsigned char out[32];
  crypto_generichash_final(&state, out, sizeof out);
  return hex(out, sizeof out);
}

TemplateBuildResult build_template(const core::Paths& paths, const TemplateBuildRequest& r) {
  auto t0 = std::chrono::steady_clock::now();
  if (!is_label(r.name)) fail(ErrorKind::invalid, "template name {:?} is not an RFC 1123 label", r.name);
  if (r.suite.empty() || r.suite.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos)
    fail(ErrorKind::invalid, "suite {:?} is not a Debian suite name", r.suite);
  for (const auto& p : r.packages)
    if (!is_package(p)) fail(ErrorKind::invalid, "{:?} is not a Debian package name", p);
  std::string mirror = r.mirror ? *r.mirror : host_debian_mirror();
  if (!(mirror.starts_with("http://") || mirror.starts_with("https://") || mirror.starts_with("file:/")) ||
      mirror.find_first_of(" \t\n'\"") != std::string::npos)
    fail(ErrorKind::invalid, "mirror {:?} is not an http, https or file URI", mirror);
  if (!core::which("debootstrap", core::clean_path))
    fail(ErrorKind::precondition, "debootstrap not found: install Debian's debootstrap package");

  auto packages = package_set(r);
  std::set<std::string> software_set;
  for (const auto& w : r.software) {
    if (!is_software(w)) fail(ErrorKind::invalid, "{:?} is not a software version (e.g. tryton/7.0)", w);
    software_set.insert(w);
  }
  std::vector<std::string> software(software_set.begin(), software_set.end());
  if (!software.empty() && !r.repository)
    fail(ErrorKind::invalid, "--software needs --repository: xoe inside fetches the code");
  std::optional<RepoXoe> repo;
  if (r.repository) repo = read_repository(*r.repository);
  std::string key = inputs_key(r.suite, packages, mirror, repo ? repo->entries : "", software);
  paths.prepare_for_writing();
  fs::create_directories(templates_dir(paths));
  fs::create_directories(paths.locks());
  auto lock = core::FileLock::acquire(paths.locks(), "cloe.template." + r.name);
  fs::path dir = templates_dir(paths) / r.name;
  std::error_code ec;
  // What a killed build left: killed between its two renames, the new tree
  // (complete: it has its template.json) or else the old one becomes the
  // template again; the rest (a tree in the making, a stage being saved, an
  // old tree being replaced) goes, also when nothing is built.
  {
    fs::path partial = templates_dir(paths) / (r.name + ".partial"), old = templates_dir(paths) / (r.name + ".old");
    if (!fs::exists(dir, ec)) {
      if (fs::exists(partial / "template.json", ec)) fs::rename(partial, dir);
      else if (fs::exists(old / "template.json", ec)) fs::rename(old, dir);
    }
    for (const auto& left : {partial, templates_dir(paths) / (r.name + ".stage.partial")}) core::remove_tree(left);
    if (fs::exists(old, ec)) retire_tree(templates_dir(paths), r.name, old);
    clear_retired(templates_dir(paths), r.name);
  }
  if (!r.force && fs::exists(dir / "template.json", ec)) {
    TemplateInfo have = read_info(dir);
    if (have.inputs == key && template_checksum(have.root) == have.checksum) {
      core::logger("cloe")->info("template {}: unchanged (inputs {})", r.name, key.substr(0, 12));
      return {have, false, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    }
  }
  fs::path partial = templates_dir(paths) / (r.name + ".partial");
  core::remove_tree(partial);
  fs::create_directories(partial);
  fs::permissions(partial, fs::perms::owner_all);
  fs::path root = partial / "rootfs";
  try {
    std::string xoe;
    core::crash_point("cloe.template.build", "tree");
    if (!repo) {
      make_tree(root, r.suite, mirror, packages);
    } else {
      // The stage: the tree before oe-xoe, kept while its inputs hold.
      std::set<std::string> all(packages.begin(), packages.end());
      all.insert(repo->depends.begin(), repo->depends.end());
      all.erase("oe-xoe");
      std::vector<std::string> stage_packages(all.begin(), all.end());
      std::string stage_key = inputs_key(r.suite, stage_packages, mirror);
      fs::path stage = templates_dir(paths) / (r.name + ".stage");
      std::string have;
      if (std::ifstream in(stage / "inputs"); in) std::getline(in, have);
      if (have == stage_key && fs::exists(stage / "rootfs", ec)) {
        copy_tree(stage / "rootfs", root);
        core::logger("cloe")->info("template {}: from its stage (inputs {})", r.name, stage_key.substr(0, 12));
      } else {
        make_tree(root, r.suite, mirror, stage_packages);
        fs::path next = templates_dir(paths) / (r.name + ".stage.partial");
        core::remove_tree(next);
        fs::create_directories(next);
        fs::permissions(next, fs::perms::owner_all);
        copy_tree(root, next / "rootfs");
        write_text(next / "inputs", stage_key + "\n", fs::perms::owner_read | fs::perms::owner_write);
        core::crash_point("cloe.template.build", "stage");
        core::remove_tree(stage);
        fs::rename(next, stage);
      }
      core::crash_point("cloe.template.build", "xoe");
      xoe = install_xoe(root, *r.repository);
      write_xoe_config(root, packages);
      core::crash_point("cloe.template.build", "software");
      if (!software.empty())
        fetch_software(root, software, r.deb_cache ? *r.deb_cache : paths.root() / "var/cache/oe/debs");
    }
    core::crash_point("cloe.template.build", "runit");
    set_up_runit(root);
    TemplateInfo t{r.name,  r.suite,      packages, mirror, key, template_checksum(root), 0, dir / "rootfs",
                   now_iso(), xoe,        software};
    core::Fd top = core::open_directory(root);
    core::walk_tree(top.get(), [&](const core::TreeEntry& e) {
      if (S_ISREG(e.st.st_mode)) t.bytes += static_cast<std::uint64_t>(e.st.st_blocks) * 512;
      return core::Descend::yes;
    });
    write_text(partial / "template.json", to_json(t).dump(2) + "\n", fs::perms::owner_read | fs::perms::owner_write);
    // The old tree goes only once the new one is complete.
    fs::path old = templates_dir(paths) / (r.name + ".old");
    if (fs::exists(old, ec)) retire_tree(templates_dir(paths), r.name, old);
    core::crash_point("cloe.template.build", "replace");
    if (fs::exists(dir, ec)) fs::rename(dir, old);
    core::crash_point("cloe.template.build", "replace", true);
    fs::rename(partial, dir);
    if (fs::exists(old, ec)) retire_tree(templates_dir(paths), r.name, old);
    core::logger("cloe")->info("template {} built: {} MB, checksum {}", r.name, t.bytes >> 20, t.checksum.substr(0, 12));
    return {t, true, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  } catch (...) {
    try {
      core::remove_tree(partial);
    } catch (...) {  // the build's error is the one to report
    }
    throw;
  }
}

std::vector<TemplateInfo> list_templates(const core::Paths& paths) {
  std::vector<TemplateInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(templates_dir(paths), ec)) {
    std::string n = e.path().filename().string();
    if (!is_label(n) || !fs::exists(e.path() / "template.json", ec)) continue;
    out.push_back(read_info(e.path()));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

TemplateInfo find_template(const core::Paths& paths, const std::string& name) {
  if (!is_label(name)) fail(ErrorKind::invalid, "template name {:?} is not an RFC 1123 label", name);
  return read_info(templates_dir(paths) / name);
}

void remove_template(const core::Paths& paths, const std::string& name) {
  TemplateInfo t = find_template(paths, name);
  auto lock = core::FileLock::acquire(paths.locks(), "cloe.template." + name);
  // Refused while a vserver of the referee's inventory uses it (its lower layer).
  std::error_code ec;
  if (fs::path db_file = paths.data() / "referee.db"; fs::exists(db_file, ec)) {
    auto db = core::sqlite::Database::open(db_file, core::sqlite::OpenMode::read_only);
    if (db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vservers'").step()) {
      std::vector<std::string> users;
      auto q = db.query("SELECT name FROM vservers WHERE template = ?1 ORDER BY name", name);
      while (q.step()) users.push_back(q.column_text(0));
      if (!users.empty())
        fail(ErrorKind::conflict, "template {} is used by {} vserver(s): {}", name, users.size(),
             fmt::format("{}", fmt::join(users, ", ")));
      }
  }
  core::remove_tree(templates_dir(paths) / name);
  core::remove_tree(templates_dir(paths) / (name + ".stage"));
  clear_retired(templates_dir(paths), name);
  core::logger("cloe")->info("template {} removed", name);
}

}  // namespace cloe
