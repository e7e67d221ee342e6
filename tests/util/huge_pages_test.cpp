#include "capf/util/huge_pages.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace capf::util {
namespace {

TEST(HugePages, ZeroedBufferIsZeroWritableAndLargeOnesAreAligned) {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{100}, std::size_t{3} << 20}) {
    auto buf = zeroed_buffer(bytes);
    ASSERT_NE(buf.get(), nullptr);
    EXPECT_TRUE(std::all_of(buf.get(), buf.get() + bytes, [](std::byte b) { return b == std::byte{0}; }));
    if (bytes > 0) {
      buf[bytes - 1] = std::byte{7};
      EXPECT_EQ(buf[bytes - 1], std::byte{7});
    }
    if (bytes >= (std::size_t{2} << 20)) { EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf.get()) % (std::size_t{2} << 20), 0u); }
  }
}

TEST(HugePages, AdviceOnAnyRangeLeavesTheMemoryAsItWas) {
  std::vector<char> v((std::size_t{5} << 20) + 123, 'x');
  advise_huge_pages(v.data() + 1, v.size() - 1);  // unaligned both ends
  advise_huge_pages(v.data(), 10);                // shorter than a huge page: nothing to do
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](char c) { return c == 'x'; }));
}

}  // namespace
}  // namespace capf::util
