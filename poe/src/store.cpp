// SPDX-License-Identifier: GPL-3.0-or-later
#include "poe/store.hpp"

#include <algorithm>
#include <ctime>

#include "core/log.hpp"
#include "core/validate.hpp"
#include "store_impl.hpp"
#include "tree_io.hpp"

namespace poe {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view tag_prefix = "refs/tags/";

std::string utc_iso(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The trailer "Key: value" of a commit message written by import_standard.
std::string trailer(std::string_view message, std::string_view key) {
  const std::string needle = "\n" + std::string(key) + ": ";
  const auto at = message.find(needle);
  if (at == std::string_view::npos) return {};
  const auto start = at + needle.size();
  const auto end = message.find('\n', start);
  return std::string(message.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

StandardInfo info_of(git_repository* repo, std::string ref, const git_oid& target) {
  git_commit* raw = nullptr;
  git::check(git::call(git_commit_lookup, &raw, repo, &target), "read the commit of " + ref);
  git::Commit commit(raw);
  StandardInfo info;
  info.ref = std::move(ref);
  info.commit_id = git::to_hex(*git_commit_id(commit.get()));
  info.tree_id = git::to_hex(*git_commit_tree_id(commit.get()));
  info.imported_at = utc_iso(git_commit_time(commit.get()));
  const std::string message = git_commit_message(commit.get());
  info.source = trailer(message, "Source");
  const std::string files = trailer(message, "Files");
  const std::string bytes = trailer(message, "Bytes");
  info.files = files.empty() ? 0 : std::stoull(files);
  info.bytes = bytes.empty() ? 0 : std::stoull(bytes);
  return info;
}

}  // namespace

std::string tag_name(std::string_view ref) {
  core::validate_software_ref(ref, "standard");
  return std::string(tag_prefix) + std::string(ref);
}

git::Tree Store::Impl::standard_tree(std::string_view ref) const {
  const std::string name = tag_name(ref);
  git_oid target{};
  const int rc = git::call(git_reference_name_to_id, &target, repo.get(), name.c_str());
  // Here the standard is an input of diff, check, adapt or apply: bad input.
  if (rc == GIT_ENOTFOUND) core::fail(core::ErrorKind::invalid, "no standard '{}' in the store", ref);
  git::check(rc, "look up standard " + std::string(ref));
  git_commit* raw = nullptr;
  git::check(git::call(git_commit_lookup, &raw, repo.get(), &target), "read standard " + std::string(ref));
  git::Commit commit(raw);
  git_tree* tree = nullptr;
  git::check(git::call(git_commit_tree, &tree, commit.get()), "read the tree of " + std::string(ref));
  return git::Tree(tree);
}

Scratch::Scratch(const Store& store) {
  git_repository* raw = nullptr;
  git::check(git::call(git_repository_open_bare, &raw, store.path().c_str()), "open the store " + store.path().string());
  repo.reset(raw);
  git_odb* odb_raw = nullptr;
  git::check(git::call(git_repository_odb, &odb_raw, repo.get()), "open the object database");
  git::Odb odb(odb_raw);
  git_odb_backend* backend = nullptr;
  git::check(git::call(git_mempack_new, &backend), "create an in-memory object store");
  // The odb owns the backend from here on; the highest priority takes writes.
  if (const int rc = git::call(git_odb_add_backend, odb.get(), backend, 1000); rc < 0) {
    backend->free(backend);
    git::check(rc, "add the in-memory object store");
  }
}

git::Tree Scratch::tree(const git_oid& id) const {
  git_tree* raw = nullptr;
  git::check(git::call(git_tree_lookup, &raw, repo.get(), &id), "read tree " + git::to_hex(id));
  return git::Tree(raw);
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const fs::path& Store::path() const noexcept { return impl_->path; }

Store Store::open(const fs::path& path, StoreMode mode) {
  git::init();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  git_repository* raw = nullptr;
  std::error_code ec;
  if (!fs::exists(path / "HEAD", ec)) {
    if (mode == StoreMode::open_existing)
      core::fail(core::ErrorKind::not_found, "no poe store at {} (import a standard first)", path.string());
    fs::create_directories(path, ec);
    if (ec) core::fail(core::ErrorKind::io, "create {}: {}", path.string(), ec.message());
    git::check(git::call(git_repository_init, &raw, path.c_str(), 1u), "create the store " + path.string());
    core::logger("poe")->info("created the store {}", path.string());
  } else {
    git::check(git::call(git_repository_open_bare, &raw, path.c_str()), "open the store " + path.string());
  }
  impl->repo.reset(raw);
  return Store(std::move(impl));
}

StandardInfo Store::import_standard(std::string_view ref, const fs::path& dir, const TreeOptions& options) {
  const std::string name = tag_name(ref);
  git_oid existing{};
  if (git_reference_name_to_id(&existing, impl_->repo.get(), name.c_str()) == 0)
    core::fail(core::ErrorKind::conflict, "standard '{}' exists already (remove it first)", ref);
  const fs::path source = fs::absolute(dir).lexically_normal();
  ScanStats stats;
  const git_oid tree_id = write_tree_from_folder(impl_->repo.get(), source, options, stats);
  git_tree* tree_raw = nullptr;
  git::check(git::call(git_tree_lookup, &tree_raw, impl_->repo.get(), &tree_id), "read the imported tree");
  git::Tree tree(tree_raw);
  git_signature* sig_raw = nullptr;
  git::check(git::call(git_signature_now, &sig_raw, "poe", "poe@localhost"), "create a signature");
  git::Signature sig(sig_raw);
  const std::string message = fmt::format("{}\n\nSource: {}\nFiles: {}\nBytes: {}\n", ref,
                                          core::escape_for_display(source.string(), 1000), stats.files, stats.bytes);
  git_oid commit_id{};
  git::check(git::call(git_commit_create, &commit_id, impl_->repo.get(), nullptr, sig.get(), sig.get(), "UTF-8",
                       message.c_str(), tree.get(), std::size_t{0}, nullptr),
             "record standard " + std::string(ref));
  git_reference* ref_raw = nullptr;
  const int rc =
      git::call(git_reference_create, &ref_raw, impl_->repo.get(), name.c_str(), &commit_id, 0, "poe standard import");
  if (rc == GIT_EEXISTS) core::fail(core::ErrorKind::conflict, "standard '{}' exists already (remove it first)", ref);
  git::check(rc, "tag standard " + std::string(ref));
  git::Reference tag(ref_raw);
  core::logger("poe")->info("imported {} from {}: {} files", ref, source.string(), stats.files);
  return info_of(impl_->repo.get(), std::string(ref), commit_id);
}

std::vector<StandardInfo> Store::list() const {
  std::vector<std::pair<std::string, git_oid>> refs;
  struct Ctx {
    git_repository* repo;
    std::vector<std::pair<std::string, git_oid>>* refs;
  } ctx{impl_->repo.get(), &refs};
  git::check(git::call(git_reference_foreach_name,
                 impl_->repo.get(),
                 [](const char* name, void* payload) -> int {
                   auto* c = static_cast<Ctx*>(payload);
                   std::string_view n(name);
                   if (!n.starts_with(tag_prefix)) return 0;
                   git_oid id{};
                   if (git_reference_name_to_id(&id, c->repo, name) == 0)
                     c->refs->emplace_back(std::string(n.substr(tag_prefix.size())), id);
                   return 0;
                 },
                 &ctx),
             "list the standards");
  std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<StandardInfo> out;
  for (const auto& [ref, id] : refs) out.push_back(info_of(impl_->repo.get(), ref, id));
  return out;
}

StandardInfo Store::show(std::string_view ref) const {
  const std::string name = tag_name(ref);
  git_oid id{};
  const int rc = git::call(git_reference_name_to_id, &id, impl_->repo.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) core::fail(core::ErrorKind::not_found, "no standard '{}' in the store", ref);
  git::check(rc, "look up standard " + std::string(ref));
  return info_of(impl_->repo.get(), std::string(ref), id);
}

void Store::remove(std::string_view ref) {
  const std::string name = tag_name(ref);
  const int rc = git::call(git_reference_remove, impl_->repo.get(), name.c_str());
  if (rc == GIT_ENOTFOUND) core::fail(core::ErrorKind::not_found, "no standard '{}' in the store", ref);
  git::check(rc, "remove standard " + std::string(ref));
}

}  // namespace poe
