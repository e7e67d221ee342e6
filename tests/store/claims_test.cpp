// Device claims: one holder per device at a time, a waiting claimant gets the device once it
// is released, other devices never wait, and claim_all takes many without deadlock.
#include "capf/store/claims.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace capf::store {

TEST(DeviceClaims, OneHolderAtATimeAndOthersDoNotWait) {
  ClaimTable table;
  auto a = table.claim("SEP000000000001");
  EXPECT_TRUE(a.held());
  EXPECT_FALSE(table.try_claim("SEP000000000001").held());
  auto b = table.try_claim("SEP000000000002");
  EXPECT_TRUE(b.held()) << "another device waited for an unrelated claim";
  EXPECT_EQ(table.held(), 2u);
  a.release();
  EXPECT_TRUE(table.try_claim("SEP000000000001").held());
  b = DeviceClaim{};
  EXPECT_EQ(table.held(), 0u);
}

TEST(DeviceClaims, AWaitingClaimantGetsTheDeviceWhenItIsReleased) {
  ClaimTable table;
  auto first = table.claim("SEP000000000001");
  std::promise<void> waiting;
  auto second = std::async(std::launch::async, [&] {
    waiting.set_value();
    return table.claim("SEP000000000001");
  });
  waiting.get_future().wait();
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  first.release();
  auto got = second.get();
  EXPECT_TRUE(got.held());
  EXPECT_EQ(got.device(), "SEP000000000001");
}

// Read-modify-write of one counter by many threads under its claim: no increment is lost.
TEST(DeviceClaims, ConcurrentReadModifyWritesUnderTheClaimLoseNothing) {
  ClaimTable table;
  int counter = 0;  // guarded by the claim on "D"
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        auto c = table.claim("D");
        const int read = counter;
        std::this_thread::yield();
        counter = read + 1;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 8000);
}

// Two threads claiming overlapping sets in opposite orders finish: claim_all sorts.
TEST(DeviceClaims, ClaimAllInOppositeOrdersDoesNotDeadlock) {
  ClaimTable table;
  std::vector<std::string> up, down;
  for (int i = 0; i < 50; ++i) up.push_back("SEP" + std::to_string(1000 + i));
  down.assign(up.rbegin(), up.rend());
  std::atomic<int> rounds{0};
  auto run = [&](const std::vector<std::string>& names) {
    for (int i = 0; i < 200; ++i) {
      auto held = table.claim_all(names);
      EXPECT_EQ(held.size(), names.size());
      ++rounds;
    }
  };
  std::thread a(run, up), b(run, down);
  a.join();
  b.join();
  EXPECT_EQ(rounds.load(), 400);
  EXPECT_EQ(table.held(), 0u);
}

}  // namespace capf::store
