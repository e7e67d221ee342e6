// The BAT-style phone CSV import: the sample files and the header.
#include "capf/inventory/phones_csv.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "capf/util/time.hpp"
#include "phones_csv_test_util.hpp"

using namespace capf;
using namespace capf::inventory;
using namespace capf::inventory::csv_test;

// ---- samples

TEST(PhonesCsvSamples, DemoHasSixtyValidPhonesWithEveryMode) {
  auto r = parse_ok(read_sample("phones-demo.csv"));
  EXPECT_TRUE(r.issues.empty()) << (r.issues.empty() ? "" : r.issues[0].to_string());
  ASSERT_EQ(r.rows.size(), 60u);
  EXPECT_EQ(r.records, 60u);
  std::map<AuthMode, int> modes;
  std::set<KeyOrder> orders;
  std::set<std::string> strings;
  int rsa4096 = 0;
  for (const auto& row : r.rows) {
    EXPECT_TRUE(valid_device_name(row.name));
    EXPECT_EQ(row.name.substr(0, 3), "SEP");
    EXPECT_EQ(row.operation, CertificateOperation::install_upgrade);
    ASSERT_TRUE(row.auth_mode);
    ++modes[*row.auth_mode];
    EXPECT_EQ(row.auth_string.has_value(), *row.auth_mode == AuthMode::auth_string) << row.name;
    if (row.auth_string) strings.insert(*row.auth_string);
    ASSERT_TRUE(row.key_order);
    orders.insert(*row.key_order);
    if (row.rsa_key_bits == 4096) ++rsa4096;
    ASSERT_TRUE(row.ipv4);
    EXPECT_EQ(row.ipv4->substr(0, 3), "10.");
    Device d;
    apply_row(d, row, 1);
    EXPECT_EQ(check_capf_settings(d), std::nullopt) << row.name;
  }
  EXPECT_EQ(modes.size(), 4u);
  for (const auto& [mode, n] : modes) EXPECT_GE(n, 12) << to_string(mode);
  EXPECT_EQ(strings.size(), static_cast<size_t>(modes[AuthMode::auth_string]));  // one string per phone
  EXPECT_EQ(orders.size(), 4u);
  EXPECT_LE(rsa4096, 2);
}

TEST(PhonesCsvSamples, SiteOf500) {
  auto r = parse_ok(read_sample("site-500.csv"));
  EXPECT_TRUE(r.issues.empty());
  ASSERT_EQ(r.rows.size(), 500u);
  std::set<std::string> names, pools;
  for (const auto& row : r.rows) {
    names.insert(row.name);
    ASSERT_TRUE(row.device_pool);
    pools.insert(*row.device_pool);
    Device d;
    apply_row(d, row, 1);
    EXPECT_EQ(check_capf_settings(d), std::nullopt) << row.name;
  }
  EXPECT_EQ(names.size(), 500u);
  EXPECT_GE(pools.size(), 3u);
}

TEST(PhonesCsvSamples, MixedHasBomCrlfQuotesAndAColumnSubset) {
  const auto text = read_sample("mixed.csv");
  ASSERT_TRUE(text.starts_with("\xEF\xBB\xBF"));
  ASSERT_NE(text.find("\r\n"), std::string::npos);
  auto r = parse_ok(text);
  EXPECT_TRUE(r.issues.empty()) << (r.issues.empty() ? "" : r.issues[0].to_string());
  ASSERT_EQ(r.rows.size(), 40u);

  const auto& first = r.rows[0];
  EXPECT_EQ(first.name, "SEP3C5D7E000001");  // the BOM is not part of the first header name or value
  EXPECT_EQ(first.line, 2u);
  EXPECT_EQ(first.description, "Reception, main entrance");
  EXPECT_EQ(first.operation, CertificateOperation::install_upgrade);
  EXPECT_EQ(first.auth_mode, AuthMode::null_string);
  EXPECT_EQ(first.key_order, KeyOrder::ec_only);
  EXPECT_EQ(first.rsa_key_bits, std::nullopt);
  EXPECT_EQ(first.ec_key_bits, 384);
  EXPECT_EQ(first.ipv4, "10.50.0.11");  // last field, no '\r' left over
  EXPECT_EQ(first.device_pool, "DP-BRANCH1");
  EXPECT_EQ(first.device_type, "Cisco 7841");
  // Columns the file does not have stay unset.
  EXPECT_FALSE(first.security_profile);
  EXPECT_FALSE(first.ipv6);
  EXPECT_FALSE(first.completes_by);

  EXPECT_EQ(r.rows[1].description, "Conference room \"Alpha\", 3rd floor");
  EXPECT_EQ(r.rows[1].operation, CertificateOperation::none);
  EXPECT_FALSE(r.rows[1].auth_mode);
  EXPECT_EQ(r.rows[2].description, "Lab bench 4\nBuilding C");
  EXPECT_EQ(r.rows[2].line, 4u);
  EXPECT_EQ(r.rows[3].line, 6u);  // the quoted newline moved every later record down a line
  EXPECT_EQ(r.rows[3].operation, CertificateOperation::delete_lsc);
  EXPECT_EQ(r.rows[4].description, "\"Quoted\" title");
  EXPECT_EQ(r.rows[4].completes_by, std::optional<util::UnixTime>(util::parse_iso8601("2030-06-30T22:00:00Z")));
  EXPECT_EQ(r.rows[7].description, "Müller, Jürgen – Einkauf");
  EXPECT_EQ(r.rows[12].description, "Help desk, queue \"Tier 2\"");
  EXPECT_EQ(r.rows[20].description, "Trailing comma,");
  EXPECT_EQ(r.rows[39].line, 42u);

  std::map<CertificateOperation, int> ops;
  int with_string = 0;
  for (const auto& row : r.rows) {
    ++ops[*row.operation];
    if (row.auth_string) {
      ++with_string;
      EXPECT_EQ(row.auth_mode, AuthMode::auth_string);
    }
  }
  EXPECT_EQ(ops[CertificateOperation::install_upgrade], 16);
  EXPECT_EQ(ops[CertificateOperation::delete_lsc], 8);
  EXPECT_EQ(ops[CertificateOperation::troubleshoot], 8);
  EXPECT_EQ(ops[CertificateOperation::none], 8);
  EXPECT_GT(with_string, 0);
}

TEST(PhonesCsvSamples, BrokenReportsExactlyTheExpectedIssues) {
  auto r = parse_ok(read_sample("broken.csv"));
  const auto expected = lines_of(read_sample("broken.expected"));
  const auto actual = [&] {
    auto v = issue_texts(r);
    for (auto& s : v) s.replace(0, 5, "broken.csv");  // parse_ok names the file t.csv
    return v;
  }();
  ASSERT_FALSE(expected.empty());
  for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i)
    EXPECT_EQ(i < actual.size() ? actual[i] : "<none>", i < expected.size() ? expected[i] : "<none>") << "issue " << i;

  std::vector<size_t> good;
  for (const auto& row : r.rows) good.push_back(row.line);
  EXPECT_EQ(good, (std::vector<size_t>{2, 15, 18, 24}));
  EXPECT_EQ(r.rows[2].description, "Conference room\nBuilding B");
  EXPECT_EQ(r.rows[3].description, "Good, phone \"three\"");
  EXPECT_EQ(r.rows[1].auth_string, "24680");
  EXPECT_EQ(r.records, 21u);  // every record but the blank line

  // The file name given is the one issues carry.
  auto named = parse_phones_csv(read_sample("broken.csv"), "broken.csv", {});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(issue_texts(*named), expected);
}

TEST(PhonesCsvSamples, BrokenInStrictModeRejectsEveryRow) {
  auto r = parse_phones_csv(read_sample("broken.csv"), "broken.csv", CsvOptions{.strict = true});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rows.empty());
  EXPECT_EQ(issue_texts(*r), lines_of(read_sample("broken.expected")));
  // A clean file in strict mode keeps its rows.
  auto demo = parse_phones_csv(read_sample("phones-demo.csv"), "demo", CsvOptions{.strict = true});
  ASSERT_TRUE(demo.ok());
  EXPECT_EQ(demo->rows.size(), 60u);
}

TEST(PhonesCsvSamples, BrokenNeverShowsAnAuthenticationString) {
  auto r = parse_ok(read_sample("broken.csv"));
  for (const auto& i : r.issues) {
    EXPECT_EQ(i.reason.find("12ab"), std::string::npos) << i.to_string();
    EXPECT_EQ(i.reason.find("135799"), std::string::npos) << i.to_string();
  }
}

// ---- header

TEST(PhonesCsvHeader, KnownColumnsInToolOrder) {
  const auto& k = known_columns();
  ASSERT_EQ(k.size(), 15u);
  EXPECT_EQ(k.front(), "Device Name");
  EXPECT_EQ(k[8], "Key Size (Bits)");
  EXPECT_EQ(k[13], "IPv6 Address");
  EXPECT_EQ(k.back(), "Device Security Mode");  // capf's: Unified CM keeps it in the profile
}

TEST(PhonesCsvHeader, MissingDeviceNameIsAFileError) {
  EXPECT_EQ(parse_error("Description,Device Pool\nLobby,DP-HQ\n"), "t.csv:1: missing required column \"Device Name\"");
}

TEST(PhonesCsvHeader, UnknownColumnNamesItAndItsNumber) {
  const auto msg = parse_error("Device Name,Colour\nSEP001122334455,red\n");
  EXPECT_EQ(msg.rfind("t.csv:1:2: unknown column \"Colour\"", 0), 0u) << msg;
}

TEST(PhonesCsvHeader, DuplicateColumn) {
  EXPECT_EQ(parse_error("Device Name,Device Pool,device pool\n"),
            "t.csv:1:3: duplicate column \"Device Pool\" (first in column 2)");
}

TEST(PhonesCsvHeader, EmptyFileAndUtf16AreFileErrors) {
  EXPECT_NE(parse_error("").find("no header row"), std::string::npos);
  EXPECT_NE(parse_error("\xEF\xBB\xBF").find("no header row"), std::string::npos);
  EXPECT_NE(parse_error(std::string("\xFF\xFE"
                                    "D\0e\0",
                                    6))
                .find("UTF-16"),
            std::string::npos);
  EXPECT_NE(parse_error("Device Name,,Description\n").find("t.csv:1:2: empty column name"), std::string::npos);
}

TEST(PhonesCsvHeader, CaseInsensitiveTrimmedAnyOrderAnySubset) {
  auto r = parse_ok("  key ORDER ,\"device name\" , IPV4 ADDRESS\r\nEC Only,SEP001122334455,10.1.2.3\r\n");
  EXPECT_TRUE(r.issues.empty());
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].name, "SEP001122334455");
  EXPECT_EQ(r.rows[0].key_order, KeyOrder::ec_only);
  EXPECT_EQ(r.rows[0].ipv4, "10.1.2.3");
  EXPECT_FALSE(r.rows[0].operation);
  EXPECT_FALSE(r.rows[0].description);
}

TEST(PhonesCsvHeader, HeaderOnlyIsAnEmptyImport) {
  auto r = parse_ok(kFullHeader);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_TRUE(r.issues.empty());
  EXPECT_EQ(r.records, 0u);
}

// ---- Device Security Mode

TEST(PhonesCsvSecurityMode, TheColumnWinsAndTheProfileNameSpeaksOnlyWithoutAValue) {
  auto r = parse_phones_csv(
      "Device Name,Device Security Profile,Device Security Mode\n"
      "SEP000000000001,Standard SIP Secure Profile,Non Secure\n"
      "SEP000000000002,Standard SIP Secure Profile,\n"
      "SEP000000000003,x,sort of\n",
      "t.csv", CsvOptions{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 2u);
  Device a, b;
  apply_row(a, r->rows[0], 0);
  apply_row(b, r->rows[1], 0);
  EXPECT_EQ(a.security_mode, SecurityMode::non_secure);  // the column wins over the name
  EXPECT_EQ(b.security_mode, SecurityMode::encrypted);   // no value: the name speaks
  ASSERT_EQ(r->issues.size(), 1u);
  EXPECT_NE(r->issues[0].to_string().find("t.csv:4:3: unknown Device Security Mode \"sort of\""), std::string::npos);
  b.operation = CertificateOperation::install_upgrade;
  b.auth_mode = AuthMode::auth_string;
  b.auth_string = "1234";
  ASSERT_TRUE(check_capf_settings(b));
  EXPECT_NE(check_capf_settings(b)->find("Device Security Mode Encrypted"), std::string::npos);
}
