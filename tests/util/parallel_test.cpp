#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "capf/util/parallel.hpp"

namespace capf::util {
namespace {

TEST(ParallelFor, CallsEveryIndexExactlyOnce) {
  for (std::size_t n : {0u, 1u, 63u, 64u, 5000u}) {
    std::vector<std::atomic<int>> calls(n);
    parallel_for(n, [&](std::size_t i) { calls[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(calls[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ParallelFor, RethrowsTheFirstErrorOnlyAfterEveryCallReturned) {
  std::atomic<std::size_t> done{0};
  try {
    parallel_for(1000, [&](std::size_t i) {
      done.fetch_add(1);
      if (i % 100 == 7) throw std::runtime_error("item " + std::to_string(i));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("item ", 0), 0u) << e.what();
  }
  EXPECT_EQ(done.load(), 1000u);
}

}  // namespace
}  // namespace capf::util
