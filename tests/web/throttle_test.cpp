// The login throttle without sockets: attempts counted before the check, per IPv4 address and
// per IPv6 /64, memory bounded by evicting the least recently seen client only.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "capf/web/throttle.hpp"

namespace capf::web {
namespace {

TEST(WebThrottleKey, IPv4AsIsIPv6ByItsSlash64) {
  EXPECT_EQ(throttle_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(throttle_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(throttle_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle_key("2001:db8:1:2::1"), throttle_key("[2001:db8:1:2:ffff::9]"));
  EXPECT_NE(throttle_key("2001:db8:1:2::1"), throttle_key("2001:db8:1:3::1"));
  EXPECT_EQ(throttle_key("::1"), "::/64");
  EXPECT_EQ(throttle_key("?"), "?");
  EXPECT_EQ(throttle_key("not:an:address"), "not:an:address");
}

TEST(WebThrottle, CountsAttemptsBeforeTheCheckAndRefusesBeyondTheLimit) {
  LoginThrottle t({3, std::chrono::seconds(60), 100});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(t.try_attempt("10.0.0.1", 1000)) << i;
  EXPECT_FALSE(t.try_attempt("10.0.0.1", 2000));  // the three are still being checked: no fourth
  EXPECT_TRUE(t.try_attempt("10.0.0.2", 2000));
  // A success takes back its own attempt only.
  t.succeeded("10.0.0.1");
  EXPECT_TRUE(t.try_attempt("10.0.0.1", 3000));
  EXPECT_FALSE(t.try_attempt("10.0.0.1", 3000));
  // The window slides: attempts older than 60 s no longer count.
  EXPECT_TRUE(t.try_attempt("10.0.0.1", 1001 + 60'000));
  EXPECT_TRUE(t.try_attempt("10.0.0.1", 1001 + 60'000));
  EXPECT_FALSE(t.try_attempt("10.0.0.1", 1001 + 60'000));
}

TEST(WebThrottle, ParallelAttemptsGetExactlyTheLimit) {
  LoginThrottle t({10, std::chrono::seconds(300), 100});
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 30; ++i)
    threads.emplace_back([&] { admitted += t.try_attempt("198.51.100.1", 5000) ? 1 : 0; });
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 10);
}

TEST(WebThrottle, OneIPv6Slash64IsOneClient) {
  LoginThrottle t({2, std::chrono::seconds(60), 100});
  EXPECT_TRUE(t.try_attempt("2001:db8::1", 0));
  EXPECT_TRUE(t.try_attempt("2001:db8::2", 0));
  EXPECT_FALSE(t.try_attempt("2001:db8::ffff:3", 0));    // same /64, other address
  EXPECT_TRUE(t.try_attempt("2001:db8:0:1::1", 0));      // the next /64
  EXPECT_FALSE(t.try_attempt("::ffff:203.0.113.9", 0) && t.try_attempt("203.0.113.9", 0) &&
               t.try_attempt("203.0.113.9", 0));        // mapped and plain IPv4 are one client
}

TEST(WebThrottle, AFloodOfAddressesNeverResetsTheOthersCounts) {
  // The limits of the daemon: 10 attempts, 10,000 clients tracked.
  LoginThrottle t;
  const std::string attacker = "192.0.2.66";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.try_attempt(attacker, 1000));
  // 30,000 other addresses while the attacker keeps trying. Old code: at 10,000 addresses every
  // count was reset.
  for (int i = 0; i < 30000; ++i) {
    const std::string address = "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    ASSERT_TRUE(t.try_attempt(address, 2000 + i / 1000));
    if (i % 500 == 0) {
      ASSERT_FALSE(t.try_attempt(attacker, 2000 + i / 1000)) << "after " << i << " addresses";
    }
    ASSERT_LE(t.clients(), 10000u);
  }
  EXPECT_FALSE(t.try_attempt(attacker, 40'000));
  // The recent clients keep their counts: the last address has 1 of 10.
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(t.try_attempt("10.0.117.47", 40'000)) << i;
  EXPECT_FALSE(t.try_attempt("10.0.117.47", 40'000));
}

}  // namespace
}  // namespace capf::web
