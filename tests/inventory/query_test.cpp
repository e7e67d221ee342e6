// The device query language: every field and operator over a fixed inventory of 20 devices,
// precedence, quoting, relative dates, derived LSC status and never-seen devices.
#include "capf/inventory/query.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "capf/util/time.hpp"
#include "query_test_util.hpp"

using namespace capf;
using namespace capf::inventory;
using namespace capf::inventory::query_test;

namespace {

struct Case {
  const char* query;
  const char* expected;  // tags of the matching devices, in fixture order
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "`" << c.query << "`";
}

class QueryMatch : public ::testing::TestWithParam<Case> {};

TEST_P(QueryMatch, SelectsExactlyTheseDevices) {
  EXPECT_EQ(select(GetParam().query), GetParam().expected) << GetParam().query;
}

// ---- text fields: = != ~ !~ in, not in; case-insensitive; quoting

const Case kTextCases[] = {
    {"device_pool = DP-HQ", "d01 d02 d03 d04 d13 d19 d20"},
    {"DEVICE_POOL = dp-hq", "d01 d02 d03 d04 d13 d19 d20"},
    {"device_pool == DP-HQ", "d01 d02 d03 d04 d13 d19 d20"},
    {"device_pool=DP-HQ", "d01 d02 d03 d04 d13 d19 d20"},
    {"device_pool != DP-HQ", "d05 d06 d07 d08 d09 d10 d11 d12 d14 d15 d16 d17 d18"},
    {"device_pool = \"DP HQ Annex\"", "d18"},
    {"device_pool = DP", ""},
    {"device_pool ~ DP-HQ*", "d01 d02 d03 d04 d13 d19 d20"},
    {"device_pool ~ \"DP?HQ*\"", "d01 d02 d03 d04 d13 d18 d19 d20"},
    {"device_pool !~ \"dp?hq*\"", "d05 d06 d07 d08 d09 d10 d11 d12 d14 d15 d16 d17"},
    {"device_pool in (DP-MUC, dp-ber)", "d05 d06 d07 d08 d09 d10 d11 d12"},
    {"device_pool IN (DP-LAB)", "d14 d15 d16 d17"},
    {"device_pool not in (DP-HQ, DP-MUC, DP-BER, DP-LAB)", "d18"},
    {"device_pool NOT IN (\"DP HQ Annex\",DP-LAB,DP-MUC,DP-BER)", "d01 d02 d03 d04 d13 d19 d20"},
    {"name = sep0a1b00000001", "d01"},
    {"name ~ SEP0A1B*", "d01 d02 d03 d04 d18 d19 d20"},
    {"name !~ SEP*", "d12 d13"},
    {"name ~ SEP00112233440?", "d09 d10 d11"},
    {"name ~ *.1", "d13"},
    {"name ~ *", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"name ~ \"\"", ""},
    {"name = *", ""},
    {"name ~ ?", ""},
    {"name ~ SEP*0?", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11"},
    {"description = \"Branch Munich\"", "d05 d06 d07"},
    {"description = \"\"", "d03 d20"},
    {"description ~ \"*,*\"", "d02 d10 d16"},
    {"description = \"Conference Room \\\"Elbe\\\"\"", "d04"},
    {"description = \"Jabber CORP\\\\jdoe\"", "d12"},
    {"description ~ \"Hotline 24*\"", "d11"},
    {"description ~ lab*", "d14 d15 d16 d17"},
    {"description in (\"Lab, spare\", \"CEO office\")", "d09 d16"},
    {"device_type ~ \"Cisco 88*\"", "d01 d02 d04 d05 d06 d09 d11 d14 d15 d18 d19 d20"},
    {"device_type ~ \"cisco 88?1\"", "d01 d05 d06 d11 d18 d19 d20"},
    {"device_type = \"Cisco ATA 191\"", "d10 d13"},
    {"security_profile ~ \"*Non-Secure*\"", "d03 d07 d08 d10 d12 d15 d20"},
    {"security_profile = \"Cisco 8841 - Standard SIP Secure Profile\"", "d01 d05 d11 d18"},
    {"lsc_issuer ~ \"CN=CAPF-*\"", "d01 d02 d05 d06 d09 d11 d13 d17 d18 d19"},
    {"lsc_issuer ~ \"*dc=corp*\"", "d03 d08"},
    {"lsc_issuer = \"cn=lab root\"", "d14 d16"},
    {"lsc_issuer = \"\"", "d04 d07 d10 d12 d15 d20"},
};
INSTANTIATE_TEST_SUITE_P(TextFields, QueryMatch, ::testing::ValuesIn(kTextCases));

// ---- enum fields: values parsed with the vocabulary's parsers

const Case kEnumCases[] = {
    {"operation = install", "d01 d03 d05 d09 d11 d14 d15 d19"},
    {"operation = \"Install/Upgrade\"", "d01 d03 d05 d09 d11 d14 d15 d19"},
    {"operation = Install/Upgrade", "d01 d03 d05 d09 d11 d14 d15 d19"},
    {"OPERATION = UPGRADE", "d01 d03 d05 d09 d11 d14 d15 d19"},
    {"operation in (delete, troubleshoot)", "d04 d06 d13 d17"},
    {"operation in (Delete, fetch)", "d04 d06 d13 d17"},
    {"operation != none", "d01 d03 d04 d05 d06 d09 d11 d13 d14 d15 d17 d19"},
    {"operation = \"No Pending Operation\"", "d02 d07 d08 d10 d12 d16 d18 d20"},
    {"operation not in (install, none)", "d04 d06 d13 d17"},
    {"auth_mode = string", "d01 d05 d11 d15 d18"},
    {"auth_mode = \"By Null String\"", "d02 d07 d08 d10 d12 d14 d20"},
    {"auth_mode = \"By Existing Certificate (Precedence to LSC)\"", "d03 d06 d09 d17"},
    {"auth_mode = mic", "d04 d13 d16 d19"},
    {"auth_mode not in (null, string)", "d03 d04 d06 d09 d13 d16 d17 d19"},
    {"operation_status = pending", "d01 d09 d13 d19"},
    {"operation_status = in-progress", "d05"},
    {"operation_status = IN_PROGRESS", "d05"},
    {"operation_status = success", "d02 d14 d17"},
    {"operation_status in (failed, locked, expired)", "d03 d04 d06 d11 d15"},
    {"operation_status != none", "d01 d02 d03 d04 d05 d06 d09 d11 d13 d14 d15 d17 d19"},
    {"lsc_status = none", "d04 d07 d10 d12 d15 d20"},
    {"lsc_status = expired", "d05 d06"},
    {"lsc_status = valid", "d01 d02 d03 d08 d09 d11 d13 d14 d16 d17 d18 d19"},
    {"lsc_status != valid", "d04 d05 d06 d07 d10 d12 d15 d20"},
    {"lsc_status in (none, expired)", "d04 d05 d06 d07 d10 d12 d15 d20"},
};
INSTANTIATE_TEST_SUITE_P(EnumFields, QueryMatch, ::testing::ValuesIn(kEnumCases));

// ---- date fields (now = 2026-11-27T12:00:00Z)

const Case kDateCases[] = {
    // lsc_expires; a device without an LSC matches no comparison, != included.
    {"lsc_expires < 2027-03-01", "d01 d05 d06 d09 d11 d16 d18"},
    {"lsc_expires before 2027-03-01", "d01 d05 d06 d09 d11 d16 d18"},
    {"lsc_expires BEFORE 2027-03-01", "d01 d05 d06 d09 d11 d16 d18"},
    {"lsc_expires_before 2027-03-01", "d01 d05 d06 d09 d11 d16 d18"},
    {"LSC_EXPIRES_BEFORE 2027-03-01", "d01 d05 d06 d09 d11 d16 d18"},
    {"lsc_expires <= 2027-03-01", "d01 d02 d05 d06 d09 d11 d16 d17 d18"},
    {"lsc_expires = 2027-03-01", "d02 d17"},
    {"lsc_expires != 2027-03-01", "d01 d03 d05 d06 d08 d09 d11 d13 d14 d16 d18 d19"},
    {"lsc_expires > 2027-03-01", "d03 d08 d13 d14 d19"},
    {"lsc_expires after 2027-03-01", "d03 d08 d13 d14 d19"},
    {"lsc_expires_after 2027-03-01", "d03 d08 d13 d14 d19"},
    {"lsc_expires >= 2027-03-01", "d02 d03 d08 d13 d14 d17 d19"},
    {"lsc_expires < 2027-03-01T00:00:00Z", "d01 d05 d06 d09 d11 d16 d18"},
    {"lsc_expires <= 2027-03-01T00:00:00Z", "d01 d05 d06 d09 d11 d16 d17 d18"},
    {"lsc_expires = 2027-03-01T10:00:00Z", "d02"},
    {"lsc_expires < \"2027-03-01 12:00\"", "d01 d02 d05 d06 d09 d11 d16 d17 d18"},
    {"lsc_expires < 2027-03-01T01:00:00+02:00", "d01 d05 d06 d11 d16 d18"},
    {"lsc_expires < now", "d05"},
    {"lsc_expires <= now", "d05 d06"},
    {"lsc_expires < now+30d", "d05 d06 d11 d16"},
    {"lsc_expires < NOW+30D", "d05 d06 d11 d16"},
    {"lsc_expires < \"now+30d\"", "d05 d06 d11 d16"},
    {"lsc_expires before now+1h", "d05 d06 d16"},
    {"lsc_expires < now+1s", "d05 d06"},
    {"lsc_expires < now+2s", "d05 d06 d16"},
    {"lsc_expires < now-7d", "d05"},
    {"lsc_expires < now+3w", "d05 d06 d11 d16"},
    {"lsc_expires < now+60m", "d05 d06 d16"},
    {"lsc_expires = never", "d04 d07 d10 d12 d15 d20"},
    {"lsc_expires != never", "d01 d02 d03 d05 d06 d08 d09 d11 d13 d14 d16 d17 d18 d19"},
    {"NOT lsc_expires < 2027-03-01", "d02 d03 d04 d07 d08 d10 d12 d13 d14 d15 d17 d19 d20"},
    // last_seen; never seen (0) = infinitely old.
    {"last_seen = never", "d03 d07 d15 d20"},
    {"last_seen != never", "d01 d02 d04 d05 d06 d08 d09 d10 d11 d12 d13 d14 d16 d17 d18 d19"},
    {"last_seen_before now-7d", "d01 d03 d04 d07 d08 d10 d13 d15 d17 d20"},
    {"last_seen < now-10d", "d03 d04 d07 d10 d13 d15 d20"},
    {"last_seen <= now-10d", "d03 d04 d07 d10 d13 d15 d17 d20"},
    {"last_seen before 2026-11-01", "d03 d04 d07 d10 d15 d20"},
    {"last_seen_after now-1d", "d02 d05 d09 d12 d14 d16 d18"},
    {"last_seen after 2026-11-26", "d02 d05 d09 d12 d14 d16 d18"},
    {"last_seen >= now", "d14"},
    {"last_seen > now", ""},
    {"last_seen >= now-12h", "d02 d05 d09 d12 d14 d16 d18"},
    {"last_seen = 2026-11-27", "d02 d05 d09 d12 d14 d16 d18"},
    {"last_seen != 2026-11-27", "d01 d03 d04 d06 d07 d08 d10 d11 d13 d15 d17 d19 d20"},
    // completes_by; no deadline matches no comparison.
    {"completes_by = 2026-12-01", "d01 d09 d11"},
    {"completes_by < now", "d06 d15"},
    {"completes_by before now+3d", "d03 d05 d06 d15"},
    {"completes_by > 2026-12-01", "d13 d19"},
    {"completes_by != 2026-12-01", "d03 d05 d06 d13 d15 d19"},
    {"completes_by = never", "d02 d04 d07 d08 d10 d12 d14 d16 d17 d18 d20"},
    {"completes_by = none", "d02 d04 d07 d08 d10 d12 d14 d16 d17 d18 d20"},
};
INSTANTIATE_TEST_SUITE_P(DateFields, QueryMatch, ::testing::ValuesIn(kDateCases));

// ---- combinators: precedence NOT > AND > OR, parentheses, keywords in any case, match-all

const Case kLogicCases[] = {
    {"", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"   ", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"all", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"ALL", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"*", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19 d20"},
    {"all AND device_pool = DP-LAB", "d14 d15 d16 d17"},
    {"NOT all", ""},
    {"NOT *", ""},
    // The seed's examples.
    {"device_pool = DP-HQ AND lsc_expires_before 2027-03-01", "d01"},
    {"(device_type ~ \"Cisco 88*\" OR name ~ SEP0A1B*) AND NOT operation_status = locked",
     "d01 d02 d03 d05 d06 d09 d11 d14 d15 d18 d19 d20"},
    // a OR b AND c = a OR (b AND c)
    {"operation = delete OR operation = troubleshoot AND device_pool = DP-LAB", "d04 d13 d17"},
    {"(operation = delete OR operation = troubleshoot) AND device_pool = DP-LAB", "d17"},
    {"device_pool = DP-LAB AND operation = troubleshoot OR operation = delete", "d04 d13 d17"},
    {"operation = delete OR (operation = troubleshoot AND device_pool = DP-LAB)", "d04 d13 d17"},
    // NOT binds tighter than AND.
    {"NOT operation = none AND device_pool = DP-HQ", "d01 d03 d04 d13 d19"},
    {"NOT (operation = none AND device_pool = DP-HQ)",
     "d01 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d14 d15 d16 d17 d18 d19"},
    {"NOT device_pool = DP-HQ", "d05 d06 d07 d08 d09 d10 d11 d12 d14 d15 d16 d17 d18"},
    {"NOT NOT device_pool = DP-LAB", "d14 d15 d16 d17"},
    {"not not not device_pool = DP-LAB", "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d18 d19 d20"},
    {"NOT (NOT (device_pool = DP-LAB))", "d14 d15 d16 d17"},
    {"device_pool = dp-lab and Not operation = none or NAME = csfjdoe", "d12 d14 d15 d17"},
    {"device_pool=DP-LAB AND(operation=install)", "d14 d15"},
    {"((((device_pool = DP-LAB))))", "d14 d15 d16 d17"},
    {"lsc_status = expired OR lsc_expires_before now+30d AND device_pool = DP-BER", "d05 d06 d11"},
    {"(lsc_status = expired OR lsc_expires_before now+30d) AND device_pool = DP-BER", "d11"},
    {"operation_status = failed OR operation_status = locked OR operation_status = expired", "d03 d04 d06 d11 d15"},
    {"operation = install AND auth_mode = string AND device_pool = DP-BER", "d11"},
    {"\tdevice_pool = DP-LAB\nAND\r\nlast_seen = never ", "d15"},
};
INSTANTIATE_TEST_SUITE_P(Logic, QueryMatch, ::testing::ValuesIn(kLogicCases));

// ---- lsc_status and relative dates depend on the evaluation time

TEST(QueryTime, LscStatusIsDerivedAtTheGivenNow) {
  // d16 expires one second after kNow; d06 exactly at kNow (not_after <= now is expired).
  EXPECT_EQ(select("lsc_status = expired", kNow - 1), "d05");
  EXPECT_EQ(select("lsc_status = expired", kNow), "d05 d06");
  EXPECT_EQ(select("lsc_status = expired", kNow + 1), "d05 d06 d16");
  EXPECT_EQ(select("lsc_status = expired", T("2026-10-01T00:00:00Z")), "");
  EXPECT_EQ(select("lsc_status = none", T("2040-01-01T00:00:00Z")), "d04 d07 d10 d12 d15 d20");
  EXPECT_EQ(select("lsc_status = valid", T("2040-01-01T00:00:00Z")), "");
}

TEST(QueryTime, RelativeDatesResolveAtEvaluationNotParse) {
  auto q = Query::parse("lsc_expires_before now+30d");
  ASSERT_TRUE(q.ok());
  const auto& d = sample_devices()[10].device;  // d11, LSC ends 2026-12-15
  ASSERT_EQ(d.name, "SEP00112233440B");
  EXPECT_TRUE(q->matches(d, kNow));                        // 12-15 < 12-27
  EXPECT_FALSE(q->matches(d, T("2026-11-01T00:00:00Z")));  // 12-15 >= 12-01
  EXPECT_EQ(select("lsc_expires_before now+30d", T("2026-11-01T00:00:00Z")), "d05 d06 d16");
  EXPECT_EQ(select("last_seen_after now-1h", T("2026-11-27T10:00:00Z")), "d05 d09 d14 d18");
}

TEST(QueryTime, NeverSeenIsInfinitelyOld) {
  Device d;
  d.name = "SEP000000000000";
  ASSERT_EQ(d.last_seen, 0);
  const auto yes = [&](const char* q) {
    auto r = Query::parse(q);
    EXPECT_TRUE(r.ok()) << q;
    return r.ok() && r->matches(d, kNow);
  };
  EXPECT_TRUE(yes("last_seen = never"));
  EXPECT_TRUE(yes("last_seen < 1970-01-02"));
  EXPECT_TRUE(yes("last_seen <= 1970-01-01"));
  EXPECT_TRUE(yes("last_seen_before now-100000d"));
  EXPECT_TRUE(yes("last_seen != 1970-01-01"));
  EXPECT_FALSE(yes("last_seen = 1970-01-01"));
  EXPECT_FALSE(yes("last_seen > 1900-01-01"));
  EXPECT_FALSE(yes("last_seen >= 1900-01-01"));
  EXPECT_FALSE(yes("last_seen_after 1900-01-01"));
  EXPECT_FALSE(yes("last_seen != never"));
  // No LSC and no deadline: no date comparison matches, not even !=.
  EXPECT_FALSE(yes("lsc_expires < 2100-01-01"));
  EXPECT_FALSE(yes("lsc_expires != 2100-01-01"));
  EXPECT_FALSE(yes("completes_by > 1970-01-01"));
  EXPECT_FALSE(yes("completes_by != 1970-01-01"));
  EXPECT_TRUE(yes("lsc_expires = never AND completes_by = never AND lsc_status = none"));
}

// ---- the API around the parse

TEST(QueryApi, KeepsTextAndCopiesShareTheParse) {
  const std::string text = "  device_pool = DP-LAB  ";
  auto q = Query::parse(text);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->text(), text);
  const Query copy = *q;
  EXPECT_EQ(copy.text(), text);
  EXPECT_TRUE(copy.matches(sample_devices()[13].device, kNow));  // d14
  EXPECT_FALSE(copy.matches(sample_devices()[0].device, kNow));  // d01
}

TEST(QueryApi, FieldsListsEveryField) {
  const std::vector<std::string> expected{
      "name",       "description", "device_type",      "device_pool",  "security_profile",
      "operation",  "auth_mode",   "operation_status", "lsc_status",   "lsc_expires",
      "lsc_issuer", "last_seen",   "completes_by",     "security_mode"};
  EXPECT_EQ(Query::fields(), expected);
  for (const auto& f : Query::fields()) {
    // Every listed field parses with = (values suited to its kind).
    const std::string value = f == "lsc_expires" || f == "last_seen" || f == "completes_by"      ? "never"
                              : f == "lsc_status" || f == "operation_status" || f == "operation" ? "none"
                              : f == "auth_mode"                                                 ? "null"
                              : f == "security_mode"                                             ? "encrypted"
                                                                                                 : "x";
    EXPECT_TRUE(Query::parse(f + " = " + value).ok()) << f;
  }
}

}  // namespace
