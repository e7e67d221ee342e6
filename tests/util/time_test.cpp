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
