// The device query language: every field and operator over a fixed inventory of 20 devices,
// precedence, quoting, relative dates, derived LSC status, never-seen devices, parse errors
// with their positions, and the limits on untrusted input.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "capf/jobs/query.hpp"
#include "capf/util/time.hpp"

using namespace capf;
using namespace capf::jobs;

namespace {

util::UnixTime T(const char* iso) {
  const auto t = util::parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

const util::UnixTime kNow = T("2026-11-27T12:00:00Z");

constexpr const char* kCapf = "CN=CAPF-1a2b3c4d,OU=VTG,O=Example,C=DE";
constexpr const char* kCorp = "CN=Issuing CA 1,DC=corp,DC=example";
constexpr const char* kLab = "CN=Lab Root";

using Op = CertificateOperation;
using Auth = AuthMode;
using St = OperationStatus;

/// One fixture device; empty strings mean "unset" (no LSC, never seen, no deadline).
struct Spec {
  const char* tag;
  const char* name;
  const char* description;
  const char* type;
  const char* pool;
  bool secure;
  Op op;
  Auth auth;
  St status;
  const char* serial;
  const char* issuer;
  const char* not_after;
  const char* last_seen;
  const char* completes_by;
};

// now = 2026-11-27T12:00:00Z
const Spec kSpecs[] = {
    {"d01", "SEP0A1B00000001", "Lobby phone", "Cisco 8841", "DP-HQ", true, Op::install_upgrade,
     Auth::auth_string, St::pending, "1001", kCapf, "2027-02-15T00:00:00Z", "2026-11-20T08:00:00Z",
     "2026-12-01T00:00:00Z"},
    {"d02", "SEP0A1B00000002", "Reception, desk 2", "Cisco 8845", "DP-HQ", true, Op::none,
     Auth::null_string, St::success, "1002", kCapf, "2027-03-01T10:00:00Z", "2026-11-27T06:00:00Z", ""},
    {"d03", "SEP0A1B00000003", "", "Cisco 7841", "DP-HQ", false, Op::install_upgrade,
     Auth::existing_cert_lsc, St::failed, "1003", kCorp, "2027-03-02T00:00:00Z", "",
     "2026-11-30T00:00:00Z"},
    {"d04", "SEP0A1B00000004", "Conference Room \"Elbe\"", "Cisco 8865", "DP-HQ", true, Op::delete_lsc,
     Auth::existing_cert_mic, St::locked, "", "", "", "2026-10-01T00:00:00Z", ""},
    {"d05", "SEPAABB00000005", "Branch Munich", "Cisco 8841", "DP-MUC", true, Op::install_upgrade,
     Auth::auth_string, St::in_progress, "1005", kCapf, "2026-11-01T00:00:00Z", "2026-11-27T11:59:00Z",
     "2026-11-28T00:00:00Z"},
    {"d06", "SEPAABB00000006", "Branch Munich", "Cisco 8851", "DP-MUC", true, Op::troubleshoot,
     Auth::existing_cert_lsc, St::expired, "1006", kCapf, "2026-11-27T12:00:00Z", "2026-11-26T00:00:00Z",
     "2026-11-20T00:00:00Z"},
    {"d07", "SEPAABB00000007", "Branch Munich", "Cisco 7821", "DP-MUC", false, Op::none,
     Auth::null_string, St::none, "", "", "", "", ""},
    {"d08", "SEPAABB00000008", "Warehouse", "Cisco 7821", "DP-MUC", false, Op::none, Auth::null_string,
     St::none, "1008", kCorp, "2029-01-01T00:00:00Z", "2026-11-20T00:00:00Z", ""},
    {"d09", "SEP001122334409", "CEO office", "Cisco 8865", "DP-BER", true, Op::install_upgrade,
     Auth::existing_cert_lsc, St::pending, "1009", kCapf, "2027-02-28T23:59:59Z", "2026-11-27T11:00:00Z",
     "2026-12-01T00:00:00Z"},
    {"d10", "SEP00112233440A", "Fax, 2nd floor", "Cisco ATA 191", "DP-BER", false, Op::none,
     Auth::null_string, St::none, "", "", "", "2026-06-01T00:00:00Z", ""},
    {"d11", "SEP00112233440B", "Hotline 24*7", "Cisco 8841", "DP-BER", true, Op::install_upgrade,
     Auth::auth_string, St::failed, "1011", kCapf, "2026-12-15T00:00:00Z", "2026-11-25T00:00:00Z",
     "2026-12-01T00:00:00Z"},
    {"d12", "CSFJDOE", R"(Jabber CORP\jdoe)", "Cisco Unified Client Services Framework", "DP-BER", false,
     Op::none, Auth::null_string, St::none, "", "", "", "2026-11-27T09:00:00Z", ""},
    {"d13", "ATA-LOBBY.1", "ATA lobby", "Cisco ATA 191", "dp-hq", true, Op::delete_lsc,
     Auth::existing_cert_mic, St::pending, "1013", kCapf, "2027-06-01T00:00:00Z", "2026-11-01T00:00:00Z",
     "2026-12-05T00:00:00Z"},
    {"d14", "SEPFFEE00000014", "Lab", "Cisco 8845", "DP-LAB", true, Op::install_upgrade, Auth::null_string,
     St::success, "1014", kLab, "2028-01-01T00:00:00Z", "2026-11-27T12:00:00Z", ""},
    {"d15", "SEPFFEE00000015", "Lab", "Cisco 8845", "DP-LAB", false, Op::install_upgrade,
     Auth::auth_string, St::expired, "", "", "", "", "2026-11-27T00:00:00Z"},
    {"d16", "SEPFFEE00000016", "Lab, spare", "Cisco 9971", "DP-LAB", true, Op::none,
     Auth::existing_cert_mic, St::none, "1016", kLab, "2026-11-27T12:00:01Z", "2026-11-27T00:00:00Z", ""},
    {"d17", "SEPFFEE00000017", "Lab", "Cisco 9971", "DP-LAB", true, Op::troubleshoot,
     Auth::existing_cert_lsc, St::success, "1017", kCapf, "2027-03-01T00:00:00Z", "2026-11-17T12:00:00Z",
     ""},
    {"d18", "SEP0A1B00000018", "Lobby phone", "Cisco 8841", "DP HQ Annex", true, Op::none,
     Auth::auth_string, St::none, "1018", kCapf, "2027-02-28T00:00:00Z", "2026-11-27T11:30:00Z", ""},
    {"d19", "SEP0A1B00000019", "Lobby phone", "Cisco 8861", "DP-HQ", true, Op::install_upgrade,
     Auth::existing_cert_mic, St::pending, "1019", kCapf, "2030-01-01T00:00:00Z", "2026-11-21T00:00:00Z",
     "2026-12-10T00:00:00Z"},
    {"d20", "SEP0A1B0000001A", "", "Cisco 8861", "DP-HQ", false, Op::none, Auth::null_string, St::none,
     "", "", "", "", ""},
};

struct Tagged {
  std::string tag;
  Device device;
};

const std::vector<Tagged>& inventory() {
  static const std::vector<Tagged> devices = [] {
    std::vector<Tagged> out;
    for (const auto& s : kSpecs) {
      Device d;
      d.name = s.name;
      d.description = s.description;
      d.device_type = s.type;
      d.device_pool = s.pool;
      d.security_profile = std::string(s.type) +
                           (s.secure ? " - Standard SIP Secure Profile" : " - Standard SIP Non-Secure Profile");
      d.operation = s.op;
      d.auth_mode = s.auth;
      d.status = s.status;
      d.lsc_serial = s.serial;
      d.lsc_issuer = s.issuer;
      if (*s.not_after) d.lsc_not_after = T(s.not_after);
      if (*s.last_seen) d.last_seen = T(s.last_seen);
      if (*s.completes_by) d.completes_by = T(s.completes_by);
      out.push_back({s.tag, d});
    }
    return out;
  }();
  return devices;
}

/// The tags of the matching devices ("d01 d03"), or "error: <message>".
std::string select(std::string_view text, util::UnixTime now = kNow) {
  auto q = Query::parse(text);
  if (!q) return "error: " + q.error().message;
  std::string out;
  for (const auto& t : inventory()) {
    if (!q->matches(t.device, now)) continue;
    if (!out.empty()) out += ' ';
    out += t.tag;
  }
  return out;
}

std::string all_tags() {
  std::string out;
  for (const auto& t : inventory()) out += (out.empty() ? "" : " ") + t.tag;
  return out;
}

std::string parse_error(std::string_view text) {
  auto q = Query::parse(text);
  if (q) return "parsed";
  EXPECT_EQ(q.error().code, Errc::invalid_argument);
  return q.error().message;
}

struct Case {
  const char* query;
  const char* expected;  // tags of the matching devices, in fixture order
};

void PrintTo(const Case& c, std::ostream* os) { *os << "`" << c.query << "`"; }

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
    {"not not not device_pool = DP-LAB",
     "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d18 d19 d20"},
    {"NOT (NOT (device_pool = DP-LAB))", "d14 d15 d16 d17"},
    {"device_pool = dp-lab and Not operation = none or NAME = csfjdoe", "d12 d14 d15 d17"},
    {"device_pool=DP-LAB AND(operation=install)", "d14 d15"},
    {"((((device_pool = DP-LAB))))", "d14 d15 d16 d17"},
    {"lsc_status = expired OR lsc_expires_before now+30d AND device_pool = DP-BER", "d05 d06 d11"},
    {"(lsc_status = expired OR lsc_expires_before now+30d) AND device_pool = DP-BER", "d11"},
    {"operation_status = failed OR operation_status = locked OR operation_status = expired",
     "d03 d04 d06 d11 d15"},
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
  const auto& d = inventory()[10].device;  // d11, LSC ends 2026-12-15
  ASSERT_EQ(d.name, "SEP00112233440B");
  EXPECT_TRUE(q->matches(d, kNow));                          // 12-15 < 12-27
  EXPECT_FALSE(q->matches(d, T("2026-11-01T00:00:00Z")));   // 12-15 >= 12-01
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
  EXPECT_TRUE(copy.matches(inventory()[13].device, kNow));   // d14
  EXPECT_FALSE(copy.matches(inventory()[0].device, kNow));   // d01
}

TEST(QueryApi, FieldsListsEveryField) {
  const std::vector<std::string> expected{
      "name",       "description", "device_type",      "device_pool", "security_profile",
      "operation",  "auth_mode",   "operation_status", "lsc_status",  "lsc_expires",
      "lsc_issuer", "last_seen",   "completes_by"};
  EXPECT_EQ(Query::fields(), expected);
  for (const auto& f : Query::fields()) {
    // Every listed field parses with = (values suited to its kind).
    const std::string value = f == "lsc_expires" || f == "last_seen" || f == "completes_by" ? "never"
                              : f == "lsc_status" || f == "operation_status" || f == "operation" ? "none"
                              : f == "auth_mode"                                                 ? "null"
                                                                                                 : "x";
    EXPECT_TRUE(Query::parse(f + " = " + value).ok()) << f;
  }
}

// ---- parse errors: position (1-based) and what was expected

struct ErrorCase {
  const char* query;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << "`" << c.query << "`"; }

class QueryError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(QueryError, NamesPositionAndExpectation) {
  EXPECT_EQ(parse_error(GetParam().query), GetParam().message) << GetParam().query;
}

const ErrorCase kErrorCases[] = {
    // missing pieces
    {"device_pool =", "query:14: expected a value after 'device_pool ='"},
    {"name = a AND device_pool =", "query:27: expected a value after 'device_pool ='"},
    {"device_pool = \"DP HQ\" Annex",
     "query:23: expected AND, OR or the end of the query, found 'Annex' (join conditions with AND / OR; put a value containing spaces in double quotes)"},
    {"device_pool = )", "query:15: expected a value after 'device_pool =', found ')'"},
    {"name = AND", "query:8: expected a value after 'name =', found 'AND' (quote it to use it as a value)"},
    {"device_pool DP-HQ",
     "query:13: expected an operator after 'device_pool' (=, !=, ~, !~, in, not in), found 'DP-HQ'"},
    {"lsc_expires", "query:12: expected an operator after 'lsc_expires' (=, !=, <, <=, >, >=, before, after)"},
    {"name not like x", "query:6: expected an operator after 'name' (=, !=, ~, !~, in, not in), found 'not'"},
    {"name = a AND", "query:13: expected a field name, NOT or '(' after 'AND'"},
    {"name = a OR NOT", "query:16: expected a field name, NOT or '(' after 'NOT'"},
    {"AND name = a", "query:1: expected a field name, NOT or '(', found 'AND'"},
    {"name = a AND OR name = b", "query:14: expected a field name, NOT or '(' after 'AND', found 'OR'"},
    {"()", "query:2: expected a field name, NOT or '(' after '(', found ')'"},
    {"= x", "query:1: expected a field name, NOT or '(', found '='"},
    {"\"name\" = x", "query:1: expected a field name, NOT or '(', found \"name\""},
    {"name = a b", "query:10: expected AND, OR or the end of the query, found 'b' (join conditions with AND / OR; put a value containing spaces in double quotes)"},
    {"name = a name = b", "query:10: expected AND, OR or the end of the query, found 'name' (join conditions with AND / OR; put a value containing spaces in double quotes)"},
    {"(name = a", "query:10: expected AND, OR or ')' to close the '(' at position 1"},
    {"(name = a OR (name = b) name = c)",
     "query:25: expected AND, OR or ')' to close the '(' at position 1, found 'name'"
     " (join conditions with AND / OR; put a value containing spaces in double quotes)"},
    {"name = a)", "query:9: ')' without a matching '('"},
    {"lsc_expires_before", "query:19: expected a value after 'lsc_expires_before'"},
    {"lsc_expires_before = 2027-01-01", "query:20: expected a value after 'lsc_expires_before', found '='"},
    // lists
    {"name in a", "query:9: expected '(' after 'name in', found 'a'"},
    {"name in (a b)", "query:12: expected ',' or ')' in the list after 'name in', found 'b'"},
    {"name in ()", "query:10: expected a value after 'name in (', found ')'"},
    {"name in (a,)", "query:12: expected a value after ',', found ')'"},
    {"name in (a", "query:11: expected ',' or ')' in the list after 'name in'"},
    {"name NOT IN (a, AND)",
     "query:17: expected a value after ',', found 'AND' (quote it to use it as a value)"},
    // unknown fields and values
    {"pool = DP-HQ",
     "query:1: unknown field 'pool' (fields: name, description, device_type, device_pool, "
     "security_profile, operation, auth_mode, operation_status, lsc_status, lsc_expires, lsc_issuer, "
     "last_seen, completes_by; shorthands: lsc_expires_before, lsc_expires_after, last_seen_before, "
     "last_seen_after)"},
    {"operation = instal",
     "query:13: unknown value 'instal' for operation (accepted: none, install, delete, troubleshoot, "
     "\"No Pending Operation\", \"Install/Upgrade\")"},
    {"operation_status = busy",
     "query:20: unknown value 'busy' for operation_status (accepted: none, pending, in-progress, "
     "success, failed, locked, expired)"},
    {"lsc_status = revoked", "query:14: unknown value 'revoked' for lsc_status (accepted: none, valid, expired)"},
    {"auth_mode in (string, pin)",
     "query:23: unknown value 'pin' for auth_mode (accepted: string, null, lsc, mic, \"By Authentication "
     "String\", \"By Null String\", \"By Existing Certificate (Precedence to LSC)\", \"By Existing "
     "Certificate (Precedence to MIC)\")"},
    {"lsc_status = \"\"", "query:14: unknown value '' for lsc_status (accepted: none, valid, expired)"},
    // operators a field's kind does not take
    {"device_pool < 2027-01-01",
     "query:13: '<' compares dates, but 'device_pool' is a text field (use =, !=, ~, !~, in, not in)"},
    {"name before x", "query:6: 'before' compares dates, but 'name' is a text field (use =, !=, ~, !~, in, not in)"},
    {"lsc_issuer >= a", "query:12: '>=' compares dates, but 'lsc_issuer' is a text field (use =, !=, ~, !~, in, not in)"},
    {"operation_status < pending",
     "query:18: '<' compares dates, but 'operation_status' is a field with fixed values (use =, !=, in, not in)"},
    {"operation ~ inst*",
     "query:11: '~' matches text patterns, but 'operation' is a field with fixed values (use =, !=, in, not in)"},
    {"lsc_expires ~ 2027*",
     "query:13: '~' matches text patterns, but 'lsc_expires' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"last_seen !~ x",
     "query:11: '!~' matches text patterns, but 'last_seen' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"last_seen in (now)",
     "query:11: 'in' takes a list of values, but 'last_seen' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"completes_by not in (now)",
     "query:14: 'not in' takes a list of values, but 'completes_by' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    // dates
    {"lsc_expires < tomorrow",
     "query:15: bad date 'tomorrow' after 'lsc_expires <' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"lsc_expires_before 2027-13-01",
     "query:20: bad date '2027-13-01' after 'lsc_expires_before' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "
     "now, now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen after now+30x",
     "query:17: bad date 'now+30x' after 'last_seen after' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen > now+d",
     "query:13: bad date 'now+d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, "
     "now-12h (units s, m, h, d, w))"},
    {"last_seen > now30d",
     "query:13: bad date 'now30d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, "
     "now-12h (units s, m, h, d, w))"},
    {"last_seen > now+1234567890d",
     "query:13: bad date 'now+1234567890d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen < never", "query:13: 'never' only works with = and != (after 'last_seen <')"},
    {"completes_by after none", "query:20: 'none' only works with = and != (after 'completes_by after')"},
    // characters and quoting
    {"name = \"abc", "query:8: unterminated quoted value (missing '\"')"},
    {"name = \"abc\\", "query:8: unterminated quoted value (missing '\"')"},
    {"name = \"a\\nb\"", "query:10: unknown escape '\\n' in a quoted value (only \\\" and \\\\)"},
    {"name = a & b", "query:10: unexpected character '&' (use AND / OR)"},
    {"name = a || name = b", "query:10: unexpected character '|' (use AND / OR)"},
    {"name = 'x'", "query:8: unexpected character ''' (quote values with double quotes)"},
    {"name ! a", "query:6: expected '=' or '~' after '!'"},
    {"name = a;", "query:9: unexpected character ';'"},
    // DNs hold '=' and ',', so they are quoted.
    {"lsc_issuer = CN=Lab",
     "query:16: expected AND, OR or the end of the query, found '=' (put a value containing '=', '<', '>', '!' or '~' in double quotes)"},
    {"name = caf\xC3\xA9", "query:11: unexpected character '\\xC3'"},
    {"name = a\x01", "query:9: unexpected character '\\x01'"},
    {"a_very_long_field_name_that_goes_on_and_on_and_on = 1",
     "query:1: unknown field 'a_very_long_field_name_that_goes_on_and_...' (fields: name, description, "
     "device_type, device_pool, security_profile, operation, auth_mode, operation_status, lsc_status, "
     "lsc_expires, lsc_issuer, last_seen, completes_by; shorthands: lsc_expires_before, lsc_expires_after, "
     "last_seen_before, last_seen_after)"},
};
INSTANTIATE_TEST_SUITE_P(ParseErrors, QueryError, ::testing::ValuesIn(kErrorCases));

// ---- limits on untrusted input

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '(') + "device_pool = DP-LAB" +
         std::string(static_cast<std::size_t>(depth), ')');
}

TEST(QueryLimits, TextUpTo4096CharactersIsAccepted) {
  std::string at_limit = "name = ";
  at_limit += std::string(kMaxQueryLength - at_limit.size(), 'x');
  ASSERT_EQ(at_limit.size(), 4096u);
  EXPECT_EQ(select(at_limit), "");
  EXPECT_EQ(select(std::string(4096, ' ')), all_tags());
  EXPECT_EQ(parse_error(at_limit + "x"), "query:4097: query longer than 4096 characters (4097)");
  EXPECT_EQ(parse_error(std::string(100000, '(')), "query:4097: query longer than 4096 characters (100000)");
}

TEST(QueryLimits, NestingUpTo32LevelsIsAccepted) {
  EXPECT_EQ(select(nested(32)), "d14 d15 d16 d17");
  EXPECT_EQ(parse_error(nested(33)), "query:33: parentheses nested deeper than 32 levels");
  EXPECT_EQ(parse_error(std::string(4096, '(')), "query:33: parentheses nested deeper than 32 levels");
  std::string deep_nots;
  for (int i = 0; i < 32; ++i) deep_nots += "NOT (";
  deep_nots += "device_pool = DP-LAB" + std::string(32, ')');
  EXPECT_EQ(select(deep_nots), "d14 d15 d16 d17");  // 32 NOTs cancel out
}

TEST(QueryLimits, LongFlatChainsDoNotRecurse) {
  std::string nots;
  while (nots.size() + 8 + 20 <= kMaxQueryLength) nots += "NOT NOT ";
  ASSERT_GT(nots.size(), 4000u);
  EXPECT_EQ(select(nots + "device_pool = DP-LAB"), "d14 d15 d16 d17");
  EXPECT_EQ(select("NOT " + nots + "device_pool = DP-LAB"),
            "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d18 d19 d20");

  std::string ors = "name = CSFJDOE";
  while (ors.size() + 18 <= kMaxQueryLength) ors += " OR name = zzzzzz";
  EXPECT_EQ(select(ors), "d12");
  std::string list = "device_pool in (DP-LAB";
  while (list.size() + 8 <= kMaxQueryLength) list += ", x";
  EXPECT_EQ(select(list + ")"), "d14 d15 d16 d17");
}

}  // namespace
