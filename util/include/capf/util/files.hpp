// Small file helpers that keep writes atomic and permissions deliberate.
#pragma once

#include <string>
#include <sys/types.h>

#include "capf/util/result.hpp"

namespace capf::util {

/// Reads a whole file.
Result<std::string> read_file(const std::string& path);

/// Writes through a temporary file, fsyncs it and renames it over `path`, so a reader
/// never sees half a file. `mode` is applied before any byte is written (0600 for keys).
Result<void> write_file_atomic(const std::string& path, const std::string& content, mode_t mode);

/// Creates a directory and its parents with `mode` for the last component.
Result<void> make_dirs(const std::string& path, mode_t mode);

/// True when the path exists.
bool exists(const std::string& path);

}  // namespace capf::util
