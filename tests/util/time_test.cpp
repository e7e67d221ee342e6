#include <gtest/gtest.h>

#include "capf/util/time.hpp"

using namespace capf::util;

TEST(Time, FormatsAndParsesIso8601) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parse_iso8601("2027-03-01"), 1803859200);
  EXPECT_EQ(parse_iso8601("2027-03-01T00:00:00Z"), 1803859200);
  EXPECT_EQ(parse_iso8601("2027-03-01T01:00:00+01:00"), 1803859200);
  EXPECT_EQ(parse_iso8601("2027-03-01 00:00"), 1803859200);
  EXPECT_FALSE(parse_iso8601("2027-13-01"));
  EXPECT_FALSE(parse_iso8601("tomorrow"));
  EXPECT_FALSE(parse_iso8601("2027-03-01junk"));
}

TEST(Time, ManualClockMovesOnlyWhenTold) {
  ManualClock c(100);
  EXPECT_EQ(c.now(), 100);
  c.advance(5);
  EXPECT_EQ(c.now(), 105);
}

TEST(Time, RetryAfterIsBoundedBeforeAnyArithmetic) {
  EXPECT_EQ(parse_retry_after("120", 0), 120);
  EXPECT_EQ(parse_retry_after("86400", 0), kMaxRetryAfterS);
  // Values that overflowed int64 (or the clock they were added to) end at the bound.
  EXPECT_EQ(parse_retry_after("9223372036854775807", 1'700'000'000), kMaxRetryAfterS);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999999999", 0), kMaxRetryAfterS);
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 1'700'000'000), kMaxRetryAfterS);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 1'700'000'000), 0);
  EXPECT_FALSE(parse_retry_after("-1", 0));
  EXPECT_FALSE(parse_retry_after("1e9", 0));
  EXPECT_FALSE(parse_retry_after(std::string(100, '1'), 0));  // longer than any real value
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT trailing", 0));
}
