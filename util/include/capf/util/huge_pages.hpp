// Large buffers on transparent huge pages. On this kind of VM a fresh 4 KiB page costs about
// 12 µs to fault in and a TLB miss a nested page walk, so a buffer of many MB that is filled
// once or touched at random (an import's encoded devices, its duplicate-name index) is far
// cheaper on 2 MiB pages. Linux in "madvise" mode gives them only to ranges that ask.
#pragma once

#include <cstddef>
#include <memory>

namespace capf::util {

/// Asks for huge pages on the whole 2 MiB-aligned part of [p, p + n). Call it before the
/// memory is first touched. Does nothing where unsupported or for short ranges; never fails.
void advise_huge_pages(void* p, std::size_t n);

struct FreeDeleter {
  void operator()(void* p) const;
};

/// `bytes` of zeroed memory; from 2 MiB on, aligned to and advised for huge pages. Never null
/// (throws std::bad_alloc).
std::unique_ptr<std::byte[], FreeDeleter> zeroed_buffer(std::size_t bytes);

}  // namespace capf::util
