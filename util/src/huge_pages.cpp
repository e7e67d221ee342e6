#include "capf/util/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace capf::util {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
}

void advise_huge_pages(void* p, std::size_t n) {
#ifdef MADV_HUGEPAGE
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (start + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t last = (start + n) & ~(kHugePage - 1);
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}

void FreeDeleter::operator()(void* p) const { std::free(p); }

std::unique_ptr<std::byte[], FreeDeleter> zeroed_buffer(std::size_t bytes) {
  if (bytes < kHugePage) {
    void* p = std::calloc(bytes == 0 ? 1 : bytes, 1);
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<std::byte[], FreeDeleter>(static_cast<std::byte*>(p));
  }
  const std::size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
  advise_huge_pages(p, rounded);
  std::memset(p, 0, rounded);
  return std::unique_ptr<std::byte[], FreeDeleter>(static_cast<std::byte*>(p));
}

}  // namespace capf::util
