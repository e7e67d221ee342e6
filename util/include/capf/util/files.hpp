// Small file helpers that keep writes atomic and permissions deliberate.
#pragma once

#include <string>
#include <sys/types.h>

#include "capf/util/result.hpp"

namespace capf::util {

/// Reads a whole file.
Result<std::string> read_file(const std::string& path);

/// How far a write must get before write_file_atomic returns.
enum class Durability {
  synced,      ///< on disk (fsync): survives a machine crash
  page_cache,  ///< in the page cache: survives the process being killed, not the machine
};

/// Writes through a temporary file and renames it over `path`, so a reader never sees half a
/// file. `mode` is applied before any byte is written (0600 for keys). Unless `durability` is
/// page_cache (the phone simulator's flash), the file is fsynced before the rename and its
/// directory after it, so the new name (a key, a token, a CA) survives a machine crash.
Result<void> write_file_atomic(const std::string& path, const std::string& content, mode_t mode,
                               Durability durability = Durability::synced);

/// Creates a directory and its parents with `mode` for the last component.
Result<void> make_dirs(const std::string& path, mode_t mode);

/// Makes `path` a directory only its owner can use (0700): creates it (and its parents), or
/// tightens an existing one. The error names the path, what it is and why it cannot be made so
/// (not a directory; its mode cannot be changed by this user).
Result<void> make_private_dir(const std::string& path);

/// fsyncs the directory `dir`, so that names created, renamed or removed in it are on disk.
Result<void> sync_dir(const std::string& dir);

/// True when the path exists.
bool exists(const std::string& path);

}  // namespace capf::util
