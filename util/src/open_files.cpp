#include "capf/util/open_files.hpp"

#include <sys/resource.h>

namespace capf::util {

std::uint64_t raise_open_file_limit() {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 0;
  if (l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &l);  // on failure the old limit stays, and is what is returned
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 0;
  }
  return static_cast<std::uint64_t>(l.rlim_cur);
}

}  // namespace capf::util
