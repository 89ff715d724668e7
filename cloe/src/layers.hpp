// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The root of a vserver on its node (../shared/CLOE.md, A vserver; facts):
//
//   STORAGE/vservers/NAME/disk.img   ext4 image: the disk quota (size = quota)
//                        /layer/     the image mounted: upper/ and work/
//                        /lower/     the template, idmapped (root inside = the
//                                    vserver's first host id), read-only
//                        /root/      the overlay: lower + upper, the domain's /
//
// Mounts are made in this process's mount namespace; libvirtd sees them
// when STORAGE is below a shared mount (`cloe node install-host` and the
// test bed make it so). STORAGE/vservers is 0700: no host user walks a
// vserver's files. Every step is idempotent: a mount already there is kept.

#include <cstdint>
#include <filesystem>
#include <string>

namespace cloe::layers {

struct Layers {
  std::filesystem::path dir, image, layer, upper, work, lower, root;
};

Layers of(const std::filesystem::path& storage, const std::string& name);

// Makes the image (when missing: `disk_bytes`, ext4 with an 8 MiB journal,
// its top owned by `host_base`), mounts it, the idmapped template and the
// overlay. Throws external (a mount failed), io.
void mount(const Layers& l, const std::filesystem::path& template_root, std::uint32_t host_base, std::uint32_t count,
           std::uint64_t disk_bytes);

// Unmounts the overlay, the template and the image (the files stay).
// Mounts already gone are fine.
void unmount(const Layers& l);

// Grows the unmounted image of `l` to `bytes` with its filesystem; a
// missing or large enough image, or a mounted one, is left alone.
void grow(const Layers& l, std::int64_t bytes);

// unmount() and removes the vserver's folder with its image.
void remove(const Layers& l);

// An idmapped read-only bind mount of `source` on `target`: ids seen
// through it are shifted by `host_base` (0 inside is host_base outside), so
// a root-owned tree is the vserver's root's without being written.
void idmapped_bind(const std::filesystem::path& source, const std::filesystem::path& target, std::uint32_t host_base,
                   std::uint32_t count);

bool is_mount_point(const std::filesystem::path& p);

}  // namespace cloe::layers
