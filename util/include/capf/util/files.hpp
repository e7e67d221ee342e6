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
/// file. `mode` is applied before any byte is written (0600 for keys). The file is fsynced
/// before the rename unless `durability` is page_cache (the phone simulator's flash).
Result<void> write_file_atomic(const std::string& path, const std::string& content, mode_t mode,
                               Durability durability = Durability::synced);

/// Creates a directory and its parents with `mode` for the last component.
Result<void> make_dirs(const std::string& path, mode_t mode);

/// True when the path exists.
bool exists(const std::string& path);

}  // namespace capf::util
