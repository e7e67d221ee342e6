// The fixed inventory of 20 devices the query tests select from, and helpers to run a query
// over it (the tags of the matching devices) or to get its parse error.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "capf/inventory/query.hpp"
#include "capf/util/time.hpp"

namespace capf::inventory::query_test {

inline util::UnixTime T(const char* iso) {
  const auto t = util::parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

inline const util::UnixTime kNow = T("2026-11-27T12:00:00Z");

inline constexpr const char* kCapf = "CN=CAPF-1a2b3c4d,OU=VTG,O=Example,C=DE";
inline constexpr const char* kCorp = "CN=Issuing CA 1,DC=corp,DC=example";
inline constexpr const char* kLab = "CN=Lab Root";

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
inline const Spec kSpecs[] = {
    {"d01", "SEP0A1B00000001", "Lobby phone", "Cisco 8841", "DP-HQ", true, Op::install_upgrade, Auth::auth_string,
     St::pending, "1001", kCapf, "2027-02-15T00:00:00Z", "2026-11-20T08:00:00Z", "2026-12-01T00:00:00Z"},
    {"d02", "SEP0A1B00000002", "Reception, desk 2", "Cisco 8845", "DP-HQ", true, Op::none, Auth::null_string,
     St::success, "1002", kCapf, "2027-03-01T10:00:00Z", "2026-11-27T06:00:00Z", ""},
    {"d03", "SEP0A1B00000003", "", "Cisco 7841", "DP-HQ", false, Op::install_upgrade, Auth::existing_cert_lsc,
     St::failed, "1003", kCorp, "2027-03-02T00:00:00Z", "", "2026-11-30T00:00:00Z"},
    {"d04", "SEP0A1B00000004", "Conference Room \"Elbe\"", "Cisco 8865", "DP-HQ", true, Op::delete_lsc,
     Auth::existing_cert_mic, St::locked, "", "", "", "2026-10-01T00:00:00Z", ""},
    {"d05", "SEPAABB00000005", "Branch Munich", "Cisco 8841", "DP-MUC", true, Op::install_upgrade, Auth::auth_string,
     St::in_progress, "1005", kCapf, "2026-11-01T00:00:00Z", "2026-11-27T11:59:00Z", "2026-11-28T00:00:00Z"},
    {"d06", "SEPAABB00000006", "Branch Munich", "Cisco 8851", "DP-MUC", true, Op::troubleshoot, Auth::existing_cert_lsc,
     St::expired, "1006", kCapf, "2026-11-27T12:00:00Z", "2026-11-26T00:00:00Z", "2026-11-20T00:00:00Z"},
    {"d07", "SEPAABB00000007", "Branch Munich", "Cisco 7821", "DP-MUC", false, Op::none, Auth::null_string, St::none,
     "", "", "", "", ""},
    {"d08", "SEPAABB00000008", "Warehouse", "Cisco 7821", "DP-MUC", false, Op::none, Auth::null_string, St::none,
     "1008", kCorp, "2029-01-01T00:00:00Z", "2026-11-20T00:00:00Z", ""},
    {"d09", "SEP001122334409", "CEO office", "Cisco 8865", "DP-BER", true, Op::install_upgrade, Auth::existing_cert_lsc,
     St::pending, "1009", kCapf, "2027-02-28T23:59:59Z", "2026-11-27T11:00:00Z", "2026-12-01T00:00:00Z"},
    {"d10", "SEP00112233440A", "Fax, 2nd floor", "Cisco ATA 191", "DP-BER", false, Op::none, Auth::null_string,
     St::none, "", "", "", "2026-06-01T00:00:00Z", ""},
    {"d11", "SEP00112233440B", "Hotline 24*7", "Cisco 8841", "DP-BER", true, Op::install_upgrade, Auth::auth_string,
     St::failed, "1011", kCapf, "2026-12-15T00:00:00Z", "2026-11-25T00:00:00Z", "2026-12-01T00:00:00Z"},
    {"d12", "CSFJDOE", R"(Jabber CORP\jdoe)", "Cisco Unified Client Services Framework", "DP-BER", false, Op::none,
     Auth::null_string, St::none, "", "", "", "2026-11-27T09:00:00Z", ""},
    {"d13", "ATA-LOBBY.1", "ATA lobby", "Cisco ATA 191", "dp-hq", true, Op::delete_lsc, Auth::existing_cert_mic,
     St::pending, "1013", kCapf, "2027-06-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-12-05T00:00:00Z"},
    {"d14", "SEPFFEE00000014", "Lab", "Cisco 8845", "DP-LAB", true, Op::install_upgrade, Auth::null_string, St::success,
     "1014", kLab, "2028-01-01T00:00:00Z", "2026-11-27T12:00:00Z", ""},
    {"d15", "SEPFFEE00000015", "Lab", "Cisco 8845", "DP-LAB", false, Op::install_upgrade, Auth::auth_string,
     St::expired, "", "", "", "", "2026-11-27T00:00:00Z"},
    {"d16", "SEPFFEE00000016", "Lab, spare", "Cisco 9971", "DP-LAB", true, Op::none, Auth::existing_cert_mic, St::none,
     "1016", kLab, "2026-11-27T12:00:01Z", "2026-11-27T00:00:00Z", ""},
    {"d17", "SEPFFEE00000017", "Lab", "Cisco 9971", "DP-LAB", true, Op::troubleshoot, Auth::existing_cert_lsc,
     St::success, "1017", kCapf, "2027-03-01T00:00:00Z", "2026-11-17T12:00:00Z", ""},
    {"d18", "SEP0A1B00000018", "Lobby phone", "Cisco 8841", "DP HQ Annex", true, Op::none, Auth::auth_string, St::none,
     "1018", kCapf, "2027-02-28T00:00:00Z", "2026-11-27T11:30:00Z", ""},
    {"d19", "SEP0A1B00000019", "Lobby phone", "Cisco 8861", "DP-HQ", true, Op::install_upgrade, Auth::existing_cert_mic,
     St::pending, "1019", kCapf, "2030-01-01T00:00:00Z", "2026-11-21T00:00:00Z", "2026-12-10T00:00:00Z"},
    {"d20", "SEP0A1B0000001A", "", "Cisco 8861", "DP-HQ", false, Op::none, Auth::null_string, St::none, "", "", "", "",
     ""},
};

struct Tagged {
  std::string tag;
  Device device;
};

inline const std::vector<Tagged>& sample_devices() {
  static const std::vector<Tagged> devices = [] {
    std::vector<Tagged> out;
    for (const auto& s : kSpecs) {
      Device d;
      d.name = s.name;
      d.description = s.description;
      d.device_type = s.type;
      d.device_pool = s.pool;
      d.security_profile =
          std::string(s.type) + (s.secure ? " - Standard SIP Secure Profile" : " - Standard SIP Non-Secure Profile");
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
inline std::string select(std::string_view text, util::UnixTime now = kNow) {
  auto q = Query::parse(text);
  if (!q) return "error: " + q.error().message;
  std::string out;
  for (const auto& t : sample_devices()) {
    if (!q->matches(t.device, now)) continue;
    if (!out.empty()) out += ' ';
    out += t.tag;
  }
  return out;
}

inline std::string all_tags() {
  std::string out;
  for (const auto& t : sample_devices()) out += (out.empty() ? "" : " ") + t.tag;
  return out;
}

inline std::string parse_error(std::string_view text) {
  auto q = Query::parse(text);
  if (q) return "parsed";
  EXPECT_EQ(q.error().code, Errc::invalid_argument);
  return q.error().message;
}

}  // namespace capf::inventory::query_test
