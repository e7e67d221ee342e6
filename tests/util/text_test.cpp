#include <gtest/gtest.h>

#include "capf/util/text.hpp"

using namespace capf::util;

TEST(Text, HexRoundTrip) {
  std::vector<std::uint8_t> b{0x00, 0x55, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "0055abff");
  EXPECT_EQ(*from_hex("0055ABff"), b);
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(Text, ParseIntIsStrict) {
  EXPECT_EQ(parse_int("2048"), 2048);
  EXPECT_FALSE(parse_int("2048x"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_FALSE(parse_int(" 1"));
}

TEST(Text, SplitKeepsEmptyFields) {
  auto parts = split("a,,b,", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[3], "");
}
