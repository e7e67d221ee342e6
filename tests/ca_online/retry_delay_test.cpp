// The online CA backoff: exponential growth, full jitter, ceiling, half the time to the deadline.
#include "capf/ca_online/retry_delay.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace capf::ca_online {
namespace {

TEST(OnlineCaBackoff, GrowsExponentiallyUpToTheCeiling) {
  // With jitter just under 1 the delay is the cap minus at most one second.
  const double top = 0.999999;
  EXPECT_EQ(backoff_delay_s(1, 5, 900, top, 0), 4);
  EXPECT_EQ(backoff_delay_s(2, 5, 900, top, 0), 9);
  EXPECT_EQ(backoff_delay_s(3, 5, 900, top, 0), 19);
  EXPECT_EQ(backoff_delay_s(8, 5, 900, top, 0), 639);
  EXPECT_EQ(backoff_delay_s(9, 5, 900, top, 0), 899);    // 1280 capped at 900
  EXPECT_EQ(backoff_delay_s(500, 5, 900, top, 0), 899);  // no overflow
  EXPECT_EQ(backoff_delay_s(0, 5, 900, top, 0), 4);      // attempt < 1 counts as 1
}

TEST(OnlineCaBackoff, FullJitterSpansZeroToTheCap) {
  EXPECT_EQ(backoff_delay_s(4, 5, 900, 0.0, 0), 0);
  EXPECT_EQ(backoff_delay_s(4, 5, 900, 0.5, 0), 20);  // cap 40
  EXPECT_EQ(backoff_delay_s(4, 5, 900, 0.25, 0), 10);
  EXPECT_EQ(backoff_delay_s(4, 5, 900, 1.0, 0), 39);  // clamped below 1
  EXPECT_EQ(backoff_delay_s(4, 5, 900, -3.0, 0), 0);  // clamped to 0
  EXPECT_EQ(backoff_delay_s(4, 5, 900, std::numeric_limits<double>::quiet_NaN(), 0), 0);
}

TEST(OnlineCaBackoff, NeverPastHalfTheTimeLeftToTheDeadline) {
  const util::UnixTime now = 1'000'000;
  EXPECT_EQ(backoff_delay_s(9, 5, 900, 0.99, now, now + 100), 50);
  EXPECT_EQ(backoff_delay_s(1, 5, 900, 0.5, now, now + 100), 2);  // below the bound: unchanged
  EXPECT_EQ(backoff_delay_s(9, 5, 900, 0.99, now, now + 1), 0);
  EXPECT_EQ(backoff_delay_s(9, 5, 900, 0.99, now, now), 0);
  EXPECT_EQ(backoff_delay_s(9, 5, 900, 0.99, now, now - 60), 0);  // deadline passed
}

TEST(OnlineCaBackoff, ParametersAndOddInputs) {
  OnlineCaParams p;
  p.retry_base_s = 10;
  p.retry_ceiling_s = 60;
  EXPECT_EQ(backoff_delay_s(p, 3, 0.5, 0), 20);
  EXPECT_EQ(backoff_delay_s(p, 10, 0.5, 0), 30);
  EXPECT_EQ(backoff_delay_s(3, -5, 900, 0.5, 0), 0);
  EXPECT_EQ(backoff_delay_s(3, 5, -1, 0.5, 0), 0);
}

}  // namespace
}  // namespace capf::ca_online
