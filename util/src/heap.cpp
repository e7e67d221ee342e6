#include "capf/util/heap.hpp"

#include <unistd.h>

#include <fstream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace capf::util {

namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

void tune_heap_for_daemon() {
#if defined(__GLIBC__)
  // Setting either threshold explicitly also turns glibc's dynamic raising of both off.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
#endif
}

std::size_t release_free_heap() {
#if defined(__GLIBC__)
  const auto before = resident_bytes();
  ::malloc_trim(0);
  const auto after = resident_bytes();
  return before > after ? before - after : 0;
#else
  return 0;
#endif
}

}  // namespace capf::util
