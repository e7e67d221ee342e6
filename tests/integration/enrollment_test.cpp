// End to end: daemon + simulator over loopback TLS, every authentication mode and key kind,
// each LSC verified with the openssl command-line tool.
#include <fstream>

#include <gtest/gtest.h>

#include "harness.hpp"

using namespace capf::it;

namespace {

/// The LSC's public key equals the key the phone keeps in flash.
std::string key_matches(const Fleet& f, const std::string& device) {
  std::ifstream in(f.sim_state + "/phones/" + device + ".json");
  auto flash = nlohmann::json::parse(in, nullptr, false);
  if (flash.is_discarded()) return "no flash for " + device;
  const auto key_file = f.dir / (device + ".key");
  std::ofstream(key_file) << flash["lsc_key"].get<std::string>();
  auto a = shell("openssl pkey -pubout -in '" + key_file + "'");
  auto b = shell("openssl x509 -noout -pubkey -in '" + f.lsc_file(device) + "'");
  if (a.exit_code != 0 || b.exit_code != 0) return "openssl failed: " + a.err + b.err;
  return a.out == b.out ? "" : "LSC public key differs from the phone's key";
}

}  // namespace

TEST(Enrollment, EveryAuthenticationModeWithRsaAndEcInstallsAVerifiedLsc) {
  Fleet f;
  // Four modes × {RSA-2048, EC P-256}, plus the other key sizes.
  const auto csv = f.write_csv("phones.csv", std::string(kCsvHeader) +
      "SEP000000000001,DP-HQ,Install/Upgrade,By Authentication String,123456,2048,RSA Only,\n"
      "SEP000000000002,DP-HQ,Install/Upgrade,By Authentication String,98765432,,EC Only,256\n"
      "SEP000000000003,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP000000000004,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n"
      "SEP000000000005,DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to LSC),,2048,RSA Only,\n"
      "SEP000000000006,DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to LSC),,,EC Only,256\n"
      "SEP000000000007,DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to MIC),,2048,RSA Only,\n"
      "SEP000000000008,DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to MIC),,,EC Only,256\n"
      "SEP000000000009,DP-HQ,Install/Upgrade,By Null String,,1024,RSA Only,\n"
      "SEP00000000000A,DP-HQ,Install/Upgrade,By Null String,,3072,RSA Only,\n"
      "SEP00000000000B,DP-HQ,Install/Upgrade,By Null String,,4096,RSA Only,\n"
      "SEP00000000000C,DP-HQ,Install/Upgrade,By Null String,,,EC Only,384\n"
      "SEP00000000000D,DP-HQ,Install/Upgrade,By Null String,,,EC Only,521\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto summary = f.sim_csv(csv);
  const std::map<std::string, std::string> expected_key{
      {"SEP000000000001", "RSA-2048"}, {"SEP000000000002", "EC-P256"}, {"SEP000000000003", "RSA-2048"},
      {"SEP000000000004", "EC-P256"},  {"SEP000000000005", "RSA-2048"}, {"SEP000000000006", "EC-P256"},
      {"SEP000000000007", "RSA-2048"}, {"SEP000000000008", "EC-P256"},  {"SEP000000000009", "RSA-1024"},
      {"SEP00000000000A", "RSA-3072"}, {"SEP00000000000B", "RSA-4096"}, {"SEP00000000000C", "EC-P384"},
      {"SEP00000000000D", "EC-P521"}};
  for (const auto& [device, key] : expected_key) {
    SCOPED_TRACE(device);
    EXPECT_EQ(result_of(summary, device), "installed");
    EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file(device), f.ca_file, device), "");
    EXPECT_EQ(key_matches(f, device), "");
    auto p = f.phone(device);
    EXPECT_EQ(p["status"], "success");
    EXPECT_EQ(p["operation"], "No Pending Operation");
    ASSERT_FALSE(p["lsc"].is_null());
    auto cert = shell("openssl x509 -noout -serial -in '" + f.lsc_file(device) + "'");
    std::string serial = p["lsc"]["serial"];
    for (auto& c : serial) c = static_cast<char>(std::toupper(c));
    EXPECT_NE(cert.out.find(serial), std::string::npos) << cert.out << " vs " << serial;
    ASSERT_EQ(p["certificates"].size(), 1u);
    EXPECT_EQ(p["certificates"][0]["state"], "delivered");
    EXPECT_EQ(p["certificates"][0]["key"], key);
  }
  // Validity is the default Duration of Certificate Validity: 1825 days.
  auto dates = shell("openssl x509 -noout -checkend " + std::to_string(1824L * 86400) + " -in '" +
                     f.lsc_file("SEP000000000001") + "'");
  EXPECT_EQ(dates.exit_code, 0) << "LSC expires before 1824 days";
  dates = shell("openssl x509 -noout -checkend " + std::to_string(1826L * 86400) + " -in '" +
                f.lsc_file("SEP000000000001") + "'");
  EXPECT_NE(dates.exit_code, 0) << "LSC lives past 1825 days";
}

TEST(Enrollment, UpgradeAuthenticatesWithTheExistingLscAndReplacesIt) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000A1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(result_of(f.sim_csv(csv), "SEP0000000000A1"), "installed");
  const std::string first = f.phone("SEP0000000000A1")["lsc"]["serial"];

  // Now the phone authenticates with that LSC (DigestInfo RSA signatures this time).
  ASSERT_EQ(f.phone_set("SEP0000000000A1", {"--operation", "install", "--auth-mode", "lsc", "--key-order", "ec"}).exit_code, 0);
  const auto upgrade = f.write_csv("u.csv", std::string(kCsvHeader) +
      "SEP0000000000A1,DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to LSC),,,EC Only,256\n");
  ASSERT_EQ(result_of(f.sim_csv(upgrade, {"--digest-info"}), "SEP0000000000A1"), "installed");
  auto p = f.phone("SEP0000000000A1");
  EXPECT_NE(p["lsc"]["serial"], first);
  EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file("SEP0000000000A1"), f.ca_file, "SEP0000000000A1"), "");
  std::map<std::string, std::string> states;
  for (const auto& c : p["certificates"]) states[c["serial"]] = c["state"];
  EXPECT_EQ(states[first], "replaced");
  EXPECT_EQ(states[p["lsc"]["serial"].get<std::string>()], "delivered");
}

TEST(Enrollment, KeyOrderFallsBackToRsaWhenThePhoneCannotMakeEc) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000B1,DP-HQ,Install/Upgrade,By Null String,,2048,\"EC Preferred, RSA Backup\",256\n"
      "SEP0000000000B2,DP-HQ,Install/Upgrade,By Null String,,2048,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto summary = f.sim_csv(csv, {"--no-ec"});
  EXPECT_EQ(result_of(summary, "SEP0000000000B1"), "installed");
  EXPECT_EQ(f.phone("SEP0000000000B1")["certificates"][0]["key"], "RSA-2048");
  // EC only and no EC on the phone: refused, with the reason recorded.
  EXPECT_EQ(result_of(summary, "SEP0000000000B2"), "refused");
  auto p = f.phone("SEP0000000000B2");
  EXPECT_EQ(p["status"], "failed");
  EXPECT_NE(p["status_reason"].get<std::string>().find("could not generate a key"), std::string::npos);
  EXPECT_EQ(p["operation"], "Install/Upgrade");  // still armed for the next attempt
}

TEST(Enrollment, KeyGenerationAttemptsGiveTheOperationUpUntilReArmed) {
  Fleet f;
  ASSERT_EQ(cli({"config", "set", "keygen-attempts", "2", "--data-dir", f.data}).exit_code, 0);
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000D1,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  // First session: the phone cannot make an EC key; attempt 1 of 2, still armed.
  EXPECT_EQ(result_of(f.sim_csv(csv, {"--no-ec"}), "SEP0000000000D1"), "refused");
  auto p = f.phone("SEP0000000000D1");
  EXPECT_EQ(p["keygen_failures"], 1);
  EXPECT_NE(p["status_reason"].get<std::string>().find("attempt 1 of 2"), std::string::npos) << p.dump();
  // Second: attempt 2 of 2, given up.
  EXPECT_EQ(result_of(f.sim_csv(csv, {"--no-ec"}), "SEP0000000000D1"), "refused");
  p = f.phone("SEP0000000000D1");
  EXPECT_EQ(p["keygen_failures"], 2);
  EXPECT_NE(p["status_reason"].get<std::string>().find("given up until re-armed"), std::string::npos) << p.dump();
  // Third: refused before any key is asked for, even by a phone that could make it now.
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP0000000000D1"), "refused");
  p = f.phone("SEP0000000000D1");
  EXPECT_EQ(p["keygen_failures"], 2);
  EXPECT_FALSE(p.contains("lsc") && p["lsc"].is_object() && !p["lsc"].empty()) << p.dump();
  auto audit = cli({"audit", "list", "--json", "--data-dir", f.data});
  EXPECT_NE(audit.out.find("keygen.given_up"), std::string::npos);
  EXPECT_NE(audit.out.find("keygen.refused"), std::string::npos);
  // Re-arming (a new import of the row) clears the count; a capable phone then installs.
  ASSERT_EQ(f.import(csv).exit_code, 0);
  EXPECT_EQ(f.phone("SEP0000000000D1")["keygen_failures"], 0);
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP0000000000D1"), "installed");
  EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file("SEP0000000000D1"), f.ca_file, "SEP0000000000D1"), "");
}

TEST(Enrollment, JabberStyleClientWithVersionTwoAndNoPassword) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000C1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP0000000000C2,DP-HQ,Install/Upgrade,By Authentication String,4321,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto summary = f.sim_csv(csv, {"--jabber-every", "1"});
  EXPECT_EQ(result_of(summary, "SEP0000000000C1"), "installed");
  // Jabber sends no PASSWORD, so string mode cannot authenticate it.
  EXPECT_EQ(result_of(summary, "SEP0000000000C2"), "refused");
}
