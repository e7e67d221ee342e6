#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "capf/util/heap.hpp"

namespace capf::util {
namespace {

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

}  // namespace
}  // namespace capf::util
