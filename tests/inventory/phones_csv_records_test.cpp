// The BAT-style phone CSV import: records, line numbers, and applying a row to a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "capf/inventory/phones_csv.hpp"
#include "capf/util/time.hpp"
#include "phones_csv_test_util.hpp"

using namespace capf;
using namespace capf::inventory;
using namespace capf::inventory::csv_test;

// ---- records and lines

TEST(PhonesCsvRecords, QuotedNewlinesKeepLineNumbersRight) {
  const std::string text =
      "Device Name,Description,Key Size (Bits)\n"            // 1
      "SEP000000000001,\"three\nline\ndescription\",2048\n"  // 2-4
      "SEP000000000002,\"two\r\nlines\",999\n"               // 5-6
      "SEP000000000003,ok,2048\n";                           // 7
  auto r = parse_ok(text);
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].to_string(), "t.csv:5:3: Key Size (Bits) must be 1024, 2048, 3072 or 4096 (got \"999\")");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2u);
  EXPECT_EQ(r.rows[0].description, "three\nline\ndescription");
  EXPECT_EQ(r.rows[1].line, 7u);
}

TEST(PhonesCsvRecords, LfAndCrlfGiveTheSameRows) {
  const std::string lf = "Device Name,Description\nSEP000000000001,\"a, b\"\nSEP000000000002,c\n";
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = parse_ok(lf), b = parse_ok(crlf);
  ASSERT_EQ(a.rows.size(), 2u);
  ASSERT_EQ(b.rows.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.rows[i].name, b.rows[i].name);
    EXPECT_EQ(a.rows[i].description, b.rows[i].description);
    EXPECT_EQ(a.rows[i].line, b.rows[i].line);
  }
}

TEST(PhonesCsvRecords, FinalNewlineIsOptionalButAnExtraOneIsABlankLine) {
  auto no_nl = parse_ok("Device Name\nSEP000000000001\nSEP000000000002");
  EXPECT_EQ(no_nl.rows.size(), 2u);
  EXPECT_TRUE(no_nl.issues.empty());
  auto one_nl = parse_ok("Device Name\nSEP000000000001\n");
  EXPECT_TRUE(one_nl.issues.empty());
  auto extra = parse_ok("Device Name\nSEP000000000001\n\n");
  EXPECT_EQ(issue_texts(extra), std::vector<std::string>{"t.csv:3:0: blank line"});
  auto spaces = parse_ok("Device Name\r\n  \r\nSEP000000000001\r\n");
  EXPECT_EQ(issue_texts(spaces), std::vector<std::string>{"t.csv:2:0: blank line"});
  EXPECT_EQ(spaces.rows.size(), 1u);
  EXPECT_EQ(spaces.rows[0].line, 3u);
}

TEST(PhonesCsvRecords, BadQuotingIsSkippedAndParsingGoesOn) {
  const std::string text =
      "Device Name,Description\n"
      "SEP000000000001,ab\"c\n"
      "SEP000000000002,\"multi\nline\" tail\n"
      "SEP000000000003,fine\n";
  auto r = parse_ok(text);
  EXPECT_EQ(issue_texts(r),
            (std::vector<std::string>{
                "t.csv:2:2: bad quoting: a '\"' inside a field needs the whole field quoted and the quote "
                "doubled",
                "t.csv:3:2: bad quoting: unexpected text after the closing quote (on line 4)",
            }));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].name, "SEP000000000003");
  EXPECT_EQ(r.rows[0].line, 5u);
  EXPECT_EQ(r.records, 3u);
}

TEST(PhonesCsvRecords, UnterminatedQuoteIsAFileError) {
  EXPECT_EQ(
      parse_error("Device Name,Description\nSEP000000000001,ok\nSEP000000000002,\"never closed\nSEP000000000003,x\n"),
      "t.csv:3:2: quoted field is never closed; the rest of the file cannot be read");
}

TEST(PhonesCsvRecords, WrongFieldCount) {
  auto r = parse_ok("Device Name,Description,Device Pool\nSEP000000000001,a\nSEP000000000002,a,b,c\n");
  EXPECT_EQ(issue_texts(r), (std::vector<std::string>{"t.csv:2:0: expected 3 fields, found 2",
                                                      "t.csv:3:0: expected 3 fields, found 4"}));
  EXPECT_TRUE(r.rows.empty());
}

TEST(PhonesCsvRecords, EveryIssueOfARowIsReportedAndTheRowSkipped) {
  auto r = parse_ok(kFullHeader +
                    "SEP00000000000G,d,t,p,s,Reinstall,By Null String,12,123,RSA Only,100,tomorrow,1.2.3,::g\n"
                    "SEP000000000002,d,t,p,s,Install/Upgrade,By Null String,,2048,RSA Only,256,,1.2.3.4,::1\n");
  std::vector<size_t> columns;
  for (const auto& i : r.issues) {
    EXPECT_EQ(i.line, 2u);
    columns.push_back(i.column);
  }
  EXPECT_EQ(columns, (std::vector<size_t>{1, 6, 8, 8, 9, 11, 12, 13, 14}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 3u);
}

TEST(PhonesCsvRecords, DuplicateDevicesAreCaseInsensitiveAndTheFirstStays) {
  auto r = parse_ok("Device Name,Description\nSEPAABBCCDDEEFF,first\nsepaabbccddeeff,second\nSEPAABBCCDDEEFF,third\n");
  EXPECT_EQ(issue_texts(r),
            (std::vector<std::string>{"t.csv:3:1: duplicate device sepaabbccddeeff (first on line 2)",
                                      "t.csv:4:1: duplicate device SEPAABBCCDDEEFF (first on line 2)"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].description, "first");
}

TEST(PhonesCsvRecords, InvalidUtf8IsAnIssueForItsColumn) {
  auto r = parse_ok(
      "Device Name,Device Pool,Description\nSEP000000000001,DP-HQ,\xC3\x28\nSEP000000000002,\xED\xA0\x80,ok\n"
      "SEP000000000003,DP-HQ,caf\xC3\xA9 \xF0\x9F\x93\x9E\n");
  EXPECT_EQ(issue_texts(r), (std::vector<std::string>{"t.csv:2:3: Description is not valid UTF-8",
                                                      "t.csv:3:2: Device Pool is not valid UTF-8"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].description, "café 📞");
}

TEST(PhonesCsvRecords, EmptyCellsAreUnsetAndValuesAreTrimmed) {
  auto r = parse_ok(kFullHeader +
                    "SEP000000000001,,,,,,,,,,,,,\n"
                    "SEP000000000002,\" Lobby \",Cisco 8841,DP-HQ,prof,\" install/upgrade \",string,1234,"
                    "3072,\"EC Preferred, RSA Backup\",521,2027-03-01 05:00,10.0.0.1,2001:db8::1\n"
                    "SEP000000000003,,,,,,,,,,,none,,\n");
  EXPECT_TRUE(r.issues.empty()) << (r.issues.empty() ? "" : r.issues[0].to_string());
  ASSERT_EQ(r.rows.size(), 3u);
  const auto& e = r.rows[0];
  EXPECT_FALSE(e.description || e.device_type || e.device_pool || e.security_profile || e.operation || e.auth_mode ||
               e.auth_string || e.rsa_key_bits || e.key_order || e.ec_key_bits || e.completes_by || e.ipv4 || e.ipv6);
  const auto& f = r.rows[1];
  EXPECT_EQ(f.description, "Lobby");
  EXPECT_EQ(f.operation, CertificateOperation::install_upgrade);
  EXPECT_EQ(f.auth_mode, AuthMode::auth_string);
  EXPECT_EQ(f.auth_string, "1234");
  EXPECT_EQ(f.rsa_key_bits, 3072);
  EXPECT_EQ(f.key_order, KeyOrder::ec_preferred_rsa_backup);
  EXPECT_EQ(f.ec_key_bits, 521);
  EXPECT_EQ(f.completes_by, std::optional<util::UnixTime>(util::parse_iso8601("2027-03-01T05:00:00Z")));
  EXPECT_EQ(f.ipv6, "2001:db8::1");
  // "None" in Operation Completes By clears the deadline; an empty cell leaves it alone.
  ASSERT_TRUE(r.rows[2].completes_by.has_value());
  EXPECT_FALSE(r.rows[2].completes_by->has_value());
}

TEST(PhonesCsvRecords, AuthenticationStringCombinations) {
  auto r = parse_ok(
      "Device Name,Certificate Operation,Authentication Mode,Authentication String\n"
      "SEP000000000001,Install/Upgrade,By Authentication String,\n"  // string may already be on the device
      "SEP000000000002,Install/Upgrade,By Null String,4321\n"        // string with a non-string mode
      "SEP000000000003,Install/Upgrade,,5678\n");                    // mode unchanged: the device's may be string
  EXPECT_EQ(issue_texts(r),
            std::vector<std::string>{"t.csv:3:4: Authentication String is set but Authentication Mode is \"By Null "
                                     "String\" (only By Authentication String uses it)"});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_FALSE(r.rows[0].auth_string);
  EXPECT_EQ(r.rows[1].auth_string, "5678");
}

TEST(PhonesCsvRecords, AuthenticationStringIsNeverEchoed) {
  const std::vector<std::string> secrets{"123", "12345678901", "sec9876", "98x76", "５５５５", "4455667788", "7777777"};
  std::string text = "Device Name,Authentication Mode,Authentication String\n";
  int n = 0;
  for (const auto& s : secrets)
    text += "SEP00000000000" + std::to_string(++n) + "," + (s == "4455667788" ? "By Null String" : "string") + "," + s +
            "\n";
  text += "SEP00000000000F,By Null String,\"7777777\"x\n";  // a parse error in the string column
  auto r = parse_ok(text);
  EXPECT_EQ(r.issues.size(), secrets.size());
  for (const auto& i : r.issues)
    for (const auto& s : secrets) EXPECT_EQ(i.to_string().find(s), std::string::npos) << i.to_string();
  EXPECT_EQ(r.issues[0].reason, "Authentication String must be 4–10 digits (got 3 characters)");
  EXPECT_EQ(r.issues[2].reason, "Authentication String must be 4–10 digits (got 7 characters, not all digits)");
  EXPECT_EQ(r.issues[4].reason, "Authentication String must be 4–10 digits (got 4 characters, not all digits)");
}

TEST(PhonesCsvRecords, IssueFormat) {
  EXPECT_EQ((CsvIssue{"a.csv", 12, 3, "bad"}).to_string(), "a.csv:12:3: bad");
  EXPECT_EQ((CsvIssue{"a.csv", 4, 0, "blank line"}).to_string(), "a.csv:4:0: blank line");
}

TEST(PhonesCsvRecords, LongAndControlValuesAreShortenedInMessages) {
  auto r = parse_ok("Device Name,Device Pool,Certificate Operation\nSEP000000000001,p,\"" + std::string(200, 'x') +
                    "\"\nSEP000000000002,p,\"re\ninstall\"\n");
  ASSERT_EQ(r.issues.size(), 2u);
  EXPECT_LT(r.issues[0].reason.size(), 200u);
  EXPECT_NE(r.issues[0].reason.find("…\""), std::string::npos);
  EXPECT_NE(r.issues[1].reason.find("\"re\\ninstall\""), std::string::npos);
}

TEST(PhonesCsvRecords, HundredThousandRowsInOnePass) {
  std::string text = kFullHeader;
  text.reserve(16u << 20);
  char name[16];
  for (int i = 0; i < 100000; ++i) {
    std::snprintf(name, sizeof name, "SEP%012X", i);
    text += name;
    text +=
        ",\"Desk, floor 3\",Cisco 8841,DP-HQ,Cisco 8841 - Standard SIP Non-Secure Profile,Install/Upgrade,"
        "By Authentication String,12345678,2048,RSA Only,,2027-03-01,10.1.2.3,\n";
  }
  auto r = parse_ok(text);
  EXPECT_TRUE(r.issues.empty());
  EXPECT_EQ(r.rows.size(), 100000u);
  EXPECT_EQ(r.rows.back().line, 100001u);
}

// ---- apply_row and check_capf_settings

TEST(PhonesCsvApply, OnlyPresentFieldsChangeAndArmingResetsStatus) {
  Device d;
  d.name = "SEP000000000001";
  d.description = "old";
  d.device_pool = "DP-HQ";
  d.auth_mode = AuthMode::auth_string;
  d.auth_string = "1111";
  d.rsa_key_bits = 3072;
  d.completes_by = 1000;
  d.status = OperationStatus::locked;
  d.status_reason = "too many wrong strings";
  d.auth_failures = 5;
  d.lsc_serial = "abcd";

  PhoneRow row;
  row.name = "sep000000000001";
  row.description = "new";
  row.operation = CertificateOperation::install_upgrade;
  row.auth_string = "2222";
  apply_row(d, row, 5000);
  EXPECT_EQ(d.name, "SEP000000000001");  // an existing device keeps its spelling
  EXPECT_EQ(d.description, "new");
  EXPECT_EQ(d.device_pool, "DP-HQ");
  EXPECT_EQ(d.auth_mode, AuthMode::auth_string);
  EXPECT_EQ(d.auth_string, "2222");
  EXPECT_EQ(d.rsa_key_bits, 3072);
  EXPECT_EQ(d.completes_by, 1000);
  EXPECT_EQ(d.lsc_serial, "abcd");
  EXPECT_EQ(d.operation, CertificateOperation::install_upgrade);
  EXPECT_EQ(d.status, OperationStatus::pending);
  EXPECT_TRUE(d.status_reason.empty());
  EXPECT_EQ(d.auth_failures, 0);
  EXPECT_EQ(d.updated_at, 5000);

  PhoneRow clear;
  clear.completes_by.emplace(std::nullopt);
  clear.ec_key_bits = 384;
  apply_row(d, clear, 6000);
  EXPECT_FALSE(d.completes_by);
  EXPECT_EQ(d.ec_key_bits, 384);
  EXPECT_EQ(d.status, OperationStatus::pending);  // no operation in the row: status untouched

  PhoneRow disarm;
  disarm.operation = CertificateOperation::none;
  apply_row(d, disarm, 7000);
  EXPECT_EQ(d.operation, CertificateOperation::none);
  EXPECT_EQ(d.status, OperationStatus::none);
  EXPECT_EQ(d.updated_at, 7000);
}

TEST(PhonesCsvApply, NewDeviceTakesTheRowName) {
  auto r =
      parse_ok(kFullHeader +
               "SEP0A0B0C0D0E0F,Lobby,Cisco 8841,DP-HQ,prof,Delete,lsc,,,EC Only,384,2027-03-01,10.0.0.9,fe80::1\n");
  ASSERT_EQ(r.rows.size(), 1u);
  Device d;
  apply_row(d, r.rows[0], 42);
  EXPECT_EQ(d.name, "SEP0A0B0C0D0E0F");
  EXPECT_EQ(d.device_type, "Cisco 8841");
  EXPECT_EQ(d.security_profile, "prof");
  EXPECT_EQ(d.operation, CertificateOperation::delete_lsc);
  EXPECT_EQ(d.auth_mode, AuthMode::existing_cert_lsc);
  EXPECT_EQ(d.key_order, KeyOrder::ec_only);
  EXPECT_EQ(d.ec_key_bits, 384);
  EXPECT_EQ(d.completes_by, util::parse_iso8601("2027-03-01"));
  EXPECT_EQ(d.ipv4, "10.0.0.9");
  EXPECT_EQ(d.ipv6, "fe80::1");
  EXPECT_EQ(d.status, OperationStatus::pending);
}

TEST(PhonesCsvApply, CheckCapfSettings) {
  Device d;
  EXPECT_EQ(check_capf_settings(d), std::nullopt);  // defaults work
  d.auth_mode = AuthMode::auth_string;
  EXPECT_EQ(check_capf_settings(d), std::nullopt);  // nothing armed: no string needed yet
  d.operation = CertificateOperation::install_upgrade;
  EXPECT_EQ(check_capf_settings(d),
            "Authentication Mode By Authentication String needs a 4–10 digit Authentication String");
  d.auth_string = "12a4";
  EXPECT_TRUE(check_capf_settings(d));
  d.auth_string = "123456";
  EXPECT_EQ(check_capf_settings(d), std::nullopt);
  d.rsa_key_bits = 1000;
  ASSERT_TRUE(check_capf_settings(d));
  EXPECT_NE(check_capf_settings(d)->find("Key Size (Bits) 1000"), std::string::npos);
  d.rsa_key_bits = 4096;
  d.ec_key_bits = 512;
  ASSERT_TRUE(check_capf_settings(d));
  EXPECT_NE(check_capf_settings(d)->find("EC Key Size (Bits) 512"), std::string::npos);
  d.ec_key_bits = 521;
  d.auth_mode = AuthMode::existing_cert_mic;
  d.auth_string.clear();
  EXPECT_EQ(check_capf_settings(d), std::nullopt);
}
