// The one-line splitter that spares libcsv the common record, and the chunked parse on a
// thread of its own: both must read a file exactly as the whole-file libcsv parse does.
#include <gtest/gtest.h>

#include <stdexcept>

#include "phones_csv_test_util.hpp"

namespace capf::inventory::csv_test {
namespace {

struct Parsed {
  std::vector<PhoneRow> rows;
  std::vector<std::string> issues;
  std::size_t records = 0;
};

// Every good row (name, line, description) and every issue.
std::vector<std::string> summary(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& r : p.rows)
    out.push_back(std::to_string(r.line) + " " + r.name + " [" + r.description.value_or("-") + "]");
  for (const auto& i : p.issues) out.push_back(i);
  out.push_back("records " + std::to_string(p.records));
  return out;
}

Parsed whole(std::string_view text, const CsvOptions& options = {}) {
  auto r = parse_ok(text, options);
  return {r.rows, issue_texts(r), r.records};
}

Parsed chunked(std::string_view text, std::size_t chunk, bool alongside, const CsvOptions& options = {}) {
  Parsed p;
  std::size_t calls = 0;
  const RowSink sink = [&](std::vector<PhoneRow>& rows) {
    ++calls;
    EXPECT_LE(rows.size(), chunk);
    for (auto& r : rows) p.rows.push_back(std::move(r));
  };
  auto r = alongside ? parse_phones_csv_alongside(text, "t.csv", options, chunk, sink)
                     : parse_phones_csv(text, "t.csv", options, chunk, sink);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return p;
  EXPECT_TRUE(r->rows.empty()) << "a chunked parse hands every row to the sink";
  EXPECT_GE(calls, p.rows.size() / chunk);
  p.issues = issue_texts(*r);
  p.records = r->records;
  return p;
}

TEST(PhonesCsvSplitter, QuotedFieldsOnOneLineReadAsLibcsvReadsThem) {
  const std::string text =
      "Device Name,Description\n"
      "SEP000000000001,  \"Lobby, east\"  \n"          // spaces around the quotes are dropped
      "SEP000000000002,\"say \"\"hi\"\"\"\n"           // doubled quotes: libcsv's part
      "SEP000000000003,\"\"\n"                         // an empty quoted cell leaves it unset
      "\"SEP000000000004\",\"tab after quote\"\t\r\n"  // white space and CR after the closing quote
      "SEP000000000005,\"a\"b\n"                       // text after the closing quote
      "SEP000000000006,plain \"quote\n"                // a quote inside an unquoted field
      "SEP000000000007,\"runs on\n"
      "to the next line\"\n"
      "SEP000000000008,last\n";
  auto r = parse_ok(text);
  ASSERT_EQ(r.rows.size(), 6u);
  EXPECT_EQ(r.rows[0].description, std::optional<std::string>("Lobby, east"));
  EXPECT_EQ(r.rows[1].description, std::optional<std::string>("say \"hi\""));
  EXPECT_EQ(r.rows[2].description, std::nullopt);
  EXPECT_EQ(r.rows[3].name, "SEP000000000004");
  EXPECT_EQ(r.rows[3].description, std::optional<std::string>("tab after quote"));
  EXPECT_EQ(r.rows[4].name, "SEP000000000007");
  EXPECT_EQ(r.rows[4].description, std::optional<std::string>("runs on\nto the next line"));
  EXPECT_EQ(r.rows[4].line, 8u);
  EXPECT_EQ(r.rows[5].line, 10u);
  EXPECT_EQ(issue_texts(r), (std::vector<std::string>{
                                "t.csv:6:2: bad quoting: unexpected text after the closing quote",
                                "t.csv:7:2: bad quoting: a '\"' inside a field needs the whole field quoted and the "
                                "quote doubled",
                            }));
}

// A file with every kind of record: good, bad, duplicate, multi-line, blank lines.
std::string mixed_file(int rows) {
  std::string text = kFullHeader;
  char name[16];
  for (int i = 0; i < rows; ++i) {
    std::snprintf(name, sizeof name, "SEP%012X", i % 997 == 5 ? 3 : i);  // some duplicates of row 3
    text += name;
    if (i % 101 == 7)
      text += ",\"two\nlines\"";
    else if (i % 89 == 3)
      text += ",\"with \"\"quotes\"\"\"";
    else
      text += ",\"Desk, floor " + std::to_string(i % 9) + "\"";
    text += ",Cisco 8841,DP-HQ,,Install/Upgrade,";
    text += i % 211 == 9 ? "By Sorcery" : "By Authentication String";
    text += ",12345678,2048,RSA Only,,2027-03-01,10.1.2.3,\n";
    if (i % 307 == 11) text += "\n";
    if (i % 401 == 13) text += "SEP00000000BAD1,ab\"c\n";
  }
  return text;
}

TEST(PhonesCsvChunks, ChunkedAndAlongsideParsesEqualTheWholeParse) {
  const std::string text = mixed_file(5000);
  const auto want = summary(whole(text));
  ASSERT_GT(want.size(), 5000u);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{2048}}) {
    EXPECT_EQ(summary(chunked(text, chunk, false)), want) << "chunk " << chunk;
    EXPECT_EQ(summary(chunked(text, chunk, true)), want) << "alongside, chunk " << chunk;
  }
}

TEST(PhonesCsvChunks, StrictModeStillReportsEveryIssue) {
  const std::string text = mixed_file(600);
  const CsvOptions strict{true};
  const auto all = whole(text, strict);
  EXPECT_TRUE(all.rows.empty());
  const auto streamed = chunked(text, 64, true, strict);
  EXPECT_EQ(streamed.issues, all.issues);
  EXPECT_FALSE(streamed.rows.empty()) << "the sink sees the good rows; the caller discards them";
}

TEST(PhonesCsvChunks, FileErrorStillFailsTheParse) {
  const std::string text = mixed_file(300) + "SEP0000000FFFF1,\"never closed\n";
  const RowSink ignore = [](std::vector<PhoneRow>&) {};
  auto r = parse_phones_csv_alongside(text, "t.csv", {}, 16, ignore);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("quoted field is never closed"), std::string::npos) << r.error().message;
}

TEST(PhonesCsvChunks, SinkFailureIsRethrownAndNothingHangs) {
  const std::string text = mixed_file(20000);
  std::size_t seen = 0;
  const RowSink failing = [&](std::vector<PhoneRow>& rows) {
    seen += rows.size();
    if (seen > 100) throw std::runtime_error("store is gone");
  };
  EXPECT_THROW((void)parse_phones_csv_alongside(text, "t.csv", {}, 32, failing), std::runtime_error);
  EXPECT_LT(seen, 200u);
}

}  // namespace
}  // namespace capf::inventory::csv_test
