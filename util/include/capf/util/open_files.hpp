// The process's open-file limit: each CAPF session holds a socket, so a daemon (or a benchmark
// holding thousands of sessions) raises its soft limit to the hard one at start.
#pragma once

#include <cstdint>

namespace capf::util {

/// Raises the soft RLIMIT_NOFILE to the hard limit where it is lower; returns the soft limit
/// now in force (0 when it cannot be read).
std::uint64_t raise_open_file_limit();

}  // namespace capf::util
