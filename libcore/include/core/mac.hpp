// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Authenticated files: a keyed BLAKE2b-256 (libsodium's crypto_generichash)
// over a file's bytes, with a key that only its owner (root) can read. A
// checksum beside an archive tells damage apart; it authenticates nothing,
// since whoever can write the archive can write its checksum. A MAC made
// with the host's key tells that this host wrote the file and nobody
// changed it since: restores run only what it authenticates, or what an
// admin trusts explicitly.

#include <filesystem>
#include <string>

namespace core {

// The key in `key_file`: read when the file exists (it must be a regular
// file of 64 hex digits of this user's, mode 0600 or stricter, not a
// symbolic link); else, with `create`, made from libsodium's CSPRNG and
// written there first (0600; a missing folder is created). Throws ErrorKind::io when it cannot be read or written,
// ErrorKind::invalid when the file is not a key.
std::string mac_key(const std::filesystem::path& key_file, bool create);

// The MAC of `file`'s bytes under `key` (from mac_key), as 64 hex digits.
// Reads the file once, streaming. Throws ErrorKind::io.
std::string file_mac(const std::string& key, const std::filesystem::path& file);

// Constant-time comparison of two MACs in hex.
bool same_mac(const std::string& a, const std::string& b) noexcept;

}  // namespace core
