#include "capf/util/heap.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace capf::util {
namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * 4096;
}

// 64 MiB in 8 KiB blocks (below malloc's mmap threshold, so they live in an arena), each
// touched, then every block but one in 64 freed: the free pages between the survivors stay
// resident until the heap is trimmed.
TEST(Heap, FreedPagesBetweenLiveBlocksGoBackToTheSystem) {
  constexpr std::size_t kBlock = 8 << 10, kBlocks = 8192;
  std::vector<void*> blocks(kBlocks);
  for (auto& b : blocks) {
    b = std::malloc(kBlock);
    ASSERT_NE(b, nullptr);
    std::memset(b, 0x5a, kBlock);
  }
  for (std::size_t i = 0; i < kBlocks; ++i)
    if (i % 64 != 0) {
      std::free(blocks[i]);
      blocks[i] = nullptr;
    }
  const auto released = release_free_heap();
  EXPECT_GT(released, std::size_t{32} << 20) << "bytes released of about 63 MiB freed";
  for (auto* b : blocks) std::free(b);
}

// The daemon's pattern: one large block freed (a job submission's write), then many blocks of
// a few hundred KiB (RocksDB's memtable arena) between small ones that stay. Untuned, glibc
// raises its mmap threshold to the freed block's size (for blocks up to 32 MiB), the later
// blocks land in the heap, and once freed they stay resident between the small survivors until
// a trim. Tuned, each is mapped on its own (counted in mallinfo2's hblkhd) and unmapped when
// freed: nothing of them stays resident.
TEST(Heap, TunedForTheDaemonLargeBlocksAreMappedOnTheirOwnAfterALargeFree) {
  tune_heap_for_daemon();
  constexpr std::size_t kLarge = 16 << 20, kBlock = 512 << 10, kBlocks = 64;
  void* volatile large = std::malloc(kLarge);  // volatile: the compiler may not elide the pair
  ASSERT_NE(large, nullptr);
  std::memset(large, 0x5a, kLarge);
  std::free(large);

  const auto mapped_before = ::mallinfo2().hblkhd;
  const auto resident_before = resident_bytes();
  std::vector<void*> blocks(kBlocks), small(kBlocks);
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks[i] = std::malloc(kBlock);
    small[i] = std::malloc(64);
    ASSERT_NE(blocks[i], nullptr);
    ASSERT_NE(small[i], nullptr);
    std::memset(blocks[i], 0x5a, kBlock);
  }
  const auto mapped = ::mallinfo2().hblkhd - mapped_before;
  // Untuned, none of them is mapped; a mapping freed meanwhile elsewhere may lower the sum a little.
  EXPECT_GE(mapped, kBlock * kBlocks * 3 / 4) << "the 512 KiB blocks were placed in the heap, not mapped on their own";
  for (auto* b : blocks) std::free(b);
  const auto resident_after = resident_bytes();
  const std::size_t held = resident_after > resident_before ? resident_after - resident_before : 0;
  EXPECT_LT(held, std::size_t{4} << 20) << "bytes still resident of " << (kBlock * kBlocks) << " freed";
  for (auto* s : small) std::free(s);
}

}  // namespace
}  // namespace capf::util
