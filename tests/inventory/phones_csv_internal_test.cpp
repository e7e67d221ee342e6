// Internal helpers of the phone CSV import: UTF-8 check, duplicate-name index, deadline fast path.
#include <gtest/gtest.h>

#include <cstdio>

#include "capf/util/time.hpp"
#include "phones_csv_rows.hpp"

using namespace capf;
using capf::inventory::detail::NameIndex;
using capf::inventory::detail::parse_deadline;
using capf::inventory::detail::valid_utf8;

TEST(PhonesCsvInternal, Utf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ASCII longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("Müller – 日本 📞"));
  EXPECT_FALSE(valid_utf8("caf\xE9"));           // Latin-1
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_utf8("abcdefgh\xE2\x82"));  // truncated at the end
  EXPECT_FALSE(valid_utf8("\x80 continuation first"));
}

TEST(PhonesCsvInternal, NameIndexIsCaseInsensitiveAndGrows) {
  NameIndex index;  // no reserve: growth must keep every entry
  char name[16];
  for (int i = 1; i <= 5000; ++i) {
    std::snprintf(name, sizeof name, "SEP%012X", i);
    ASSERT_EQ(index.insert(name, static_cast<size_t>(i)), static_cast<size_t>(i));
  }
  for (int i = 1; i <= 5000; ++i) {
    std::snprintf(name, sizeof name, "sep%012x", i);
    ASSERT_EQ(index.insert(name, 9999), static_cast<size_t>(i));
  }
  EXPECT_EQ(index.insert("CSFjsmith", 7), 7u);
  EXPECT_EQ(index.insert("csfJSMITH", 8), 7u);
  EXPECT_EQ(index.insert("CSFjsmit", 9), 9u);
}

TEST(PhonesCsvInternal, DeadlineFastPathAgreesWithParseIso8601) {
  for (const char* s : {"2027-03-01",
                        "2024-02-29",
                        "2000-02-29",
                        "1970-01-01",
                        "2027-03-01 05:00",
                        "2027-03-01 05:00:59",
                        "2027-03-01T05:00",
                        "2027-03-01T05:00:07Z",
                        "2027-03-01T05:00Z",
                        "2027-03-01T05:00:07",
                        "2027-12-31T23:59:59Z",
                        "2027-03-01T05:00:00+01:00",
                        "2023-02-29",
                        "1900-02-29",
                        "2027-02-30",
                        "2027-13-01",
                        "2027-00-10",
                        "2027-03-01 24:00",
                        "2027-03-01 05:60",
                        "2027-03-01 05:00Z",
                        "2027-3-1",
                        "tomorrow",
                        "",
                        "2027-03-01x",
                        "2027-03-01 05"}) {
    EXPECT_EQ(parse_deadline(s), util::parse_iso8601(s)) << s;
  }
  EXPECT_EQ(parse_deadline("1970-01-02"), 86400);
  EXPECT_EQ(parse_deadline("2027-03-01T05:00:07Z"), util::parse_iso8601("2027-03-01T05:00:07Z"));
}
