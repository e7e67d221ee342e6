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

TEST(Text, SerialsInEveryFormOpensslPrintsThem) {
  // capf's form is lower-case hex without leading zeros.
  EXPECT_EQ(normalize_serial("2d9f1ae0"), "2d9f1ae0");
  EXPECT_EQ(normalize_serial("02D9F1AE0"), "2d9f1ae0");               // openssl x509 -serial pads to whole bytes
  EXPECT_EQ(normalize_serial("serial=02D9F1AE0"), "2d9f1ae0");        // … and says so
  EXPECT_EQ(normalize_serial("02:d9:f1:ae:00"), "2d9f1ae00");         // openssl x509 -text
  EXPECT_EQ(normalize_serial("  34:57:AB  "), "3457ab");
  EXPECT_EQ(normalize_serial("0x00ff"), "ff");
  EXPECT_EQ(normalize_serial("00"), "0");
  EXPECT_FALSE(normalize_serial(""));
  EXPECT_FALSE(normalize_serial(":"));
  EXPECT_FALSE(normalize_serial("12g4"));
  EXPECT_FALSE(normalize_serial("12/../4"));
}

namespace capf::util {
namespace {

TEST(Text, EscapeControlLeavesNoLineBreakOrEscapeSequence) {
  EXPECT_EQ(escape_control("SEP0011\n2026-01-01 INFO forged"), "SEP0011\\n2026-01-01 INFO forged");
  EXPECT_EQ(escape_control("a\r\tb\x1b[2J\x7f\x01"), "a\\r\\tb\\x1b[2J\\x7f\\x01");
  EXPECT_EQ(escape_control(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(escape_control("plain text, UTF-8 é and \\n as typed"), "plain text, UTF-8 é and \\n as typed");
}

TEST(Text, UrlCredentialsAreFoundAndSplitOff) {
  EXPECT_TRUE(url_has_credentials("smtp://user:pass@mail.example:587"));
  EXPECT_TRUE(url_has_credentials("https://token@host/x"));
  EXPECT_FALSE(url_has_credentials("smtps://mail.example:465"));
  EXPECT_FALSE(url_has_credentials("https://host/a@b?to=c@d#e@f"));
  EXPECT_FALSE(url_has_credentials("not a url @ all"));
  auto split = split_url_credentials("smtp://ops%40example.com:p%3Ass@mail.example:587/x");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->url, "smtp://mail.example:587/x");
  EXPECT_EQ(split->user, "ops@example.com");
  EXPECT_EQ(split->password, "p:ss");
  EXPECT_FALSE(split_url_credentials("smtp://mail.example"));
}

}  // namespace
}  // namespace capf::util
