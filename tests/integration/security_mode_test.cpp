// Issue 19 item 3: devices have an explicit Device Security Mode (Non Secure, Authenticated,
// Encrypted) from a CSV column — derived from the profile name only when the column is absent —
// and By Authentication String is refused for Authenticated and Encrypted devices at import,
// `phone set`, templates, policies and job submit, each with a message that says why.
#include <gtest/gtest.h>

#include "job_fleet.hpp"

using namespace capf::it;

namespace {

const char* const kWhy = "By Authentication String cannot work with Device Security Mode";

std::string mode_of(const Fleet& f, const std::string& device) {
  return f.phone(device)["security_mode"].get<std::string>();
}

}  // namespace

TEST(SecurityMode, TheColumnWinsTheProfileNameOnlyStandsInWhenItIsAbsent) {
  Fleet f;
  // With the column: the mode as given, whatever the profile says; By Authentication String on
  // an Encrypted device is refused by line, a bad mode by line and column.
  const auto with =
      f.write_csv("with.csv",
                  "Device Name,Device Security Profile,Device Security Mode,Certificate Operation,Authentication Mode,"
                  "Authentication String\n"
                  "SEP00000019C001,Cisco 8841 - Standard SIP Secure Profile,Non Secure,Install/Upgrade,By "
                  "Authentication String,13579\n"
                  "SEP00000019C002,Cisco 8841 - Standard SIP Non-Secure Profile,Encrypted,Install/Upgrade,By "
                  "Authentication String,24680\n"
                  "SEP00000019C003,Lab,Authenticated,Install/Upgrade,By Null String,\n"
                  "SEP00000019C004,Lab,Secure-ish,Install/Upgrade,By Null String,\n"
                  "SEP00000019C005,Cisco 8841 - Standard SIP Secure Profile,,Install/Upgrade,By Null String,\n");
  auto r = f.import(with);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("with.csv:3:0: " + std::string(kWhy) + " Encrypted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("with.csv:5:3: unknown Device Security Mode \"Secure-ish\""), std::string::npos) << r.err;
  EXPECT_EQ(mode_of(f, "SEP00000019C001"), "Non Secure");
  EXPECT_EQ(mode_of(f, "SEP00000019C003"), "Authenticated");
  EXPECT_EQ(mode_of(f, "SEP00000019C005"), "Encrypted");  // an empty cell: the profile's name speaks
  EXPECT_EQ(cli({"phone", "show", "SEP00000019C002", "--data-dir", f.data}).exit_code, 1);  // not imported

  // Without the column: the documented rule on the profile name.
  const auto without = f.write_csv("without.csv",
                                   "Device Name,Device Security Profile\n"
                                   "SEP00000019C011,Cisco 8841 - Standard SIP Secure Profile\n"
                                   "SEP00000019C012,Cisco 8841 - Standard SIP Non-Secure Profile\n"
                                   "SEP00000019C013,Universal Device Template - Authenticated\n"
                                   "SEP00000019C014,Branch - Encrypted TFTP\n"
                                   "SEP00000019C015,Plain\n");
  ASSERT_EQ(f.import(without).exit_code, 0);
  EXPECT_EQ(mode_of(f, "SEP00000019C011"), "Encrypted");
  EXPECT_EQ(mode_of(f, "SEP00000019C012"), "Non Secure");
  EXPECT_EQ(mode_of(f, "SEP00000019C013"), "Authenticated");
  EXPECT_EQ(mode_of(f, "SEP00000019C014"), "Encrypted");
  EXPECT_EQ(mode_of(f, "SEP00000019C015"), "Non Secure");
  // A later row that only renames the profile takes that name's mode; the query language knows it.
  ASSERT_EQ(f.import(f.write_csv("rename.csv", "Device Name,Device Security Profile\nSEP00000019C015,Lab Secure\n"))
                .exit_code,
            0);
  EXPECT_EQ(mode_of(f, "SEP00000019C015"), "Encrypted");
  auto listed = nlohmann::json::parse(
      cli({"phones", "list", "--where", "security_mode = encrypted", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(listed["matched"], 4) << listed.dump(2);  // C005, C011, C014, C015
}

TEST(SecurityMode, AuthenticationStringsAreRefusedOnSecureDevicesEverywhere) {
  JobFleet f;
  f.import_rows(
      "Device Name,Device Pool,Device Security Mode\n"
      "SEP00000019D001,DP-SEC,Encrypted\n"
      "SEP00000019D002,DP-SEC,Non Secure\n"
      "SEP00000019D003,DP-OPEN,Non Secure\n");

  // phone set: refused while Encrypted, accepted once the device is Non Secure.
  auto r = cli({"phone", "set", "SEP00000019D001", "--operation", "install", "--auth-mode", "string", "--auth-string",
                "1234", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("SEP00000019D001: ") + kWhy + " Encrypted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not register until the CAPF session ends"), std::string::npos) << r.err;
  r = cli({"phone", "set", "SEP00000019D001", "--security-mode", "bogus", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown Device Security Mode \"bogus\""), std::string::npos) << r.err;

  // Templates and policies: refused when their query matches a secure device.
  r = cli({"template", "create", "sec", "--where", "device_pool = DP-SEC", "--auth-mode", "string", "--string-policy",
           "unique", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("template sec: " + std::string(kWhy) + " Encrypted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SEP00000019D001"), std::string::npos) << r.err;
  ASSERT_EQ(cli({"template", "create", "held", "--where", "device_pool = DP-OPEN", "--auth-mode", "string",
                 "--auth-string", "86420", "--data-dir", f.data})
                .exit_code,
            0);
  r = cli({"policy", "create", "nightly", "--where", "device_pool = DP-SEC", "--template", "held", "--window",
           "0 1 * * * 4h UTC", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("policy nightly (template held): " + std::string(kWhy)), std::string::npos) << r.err;
  EXPECT_EQ(cli({"policy", "create", "open", "--where", "device_pool = DP-OPEN", "--template", "held", "--window",
                 "0 1 * * * 4h UTC", "--data-dir", f.data})
                .exit_code,
            0);

  // Job submit: the secure device is refused by name, the others can run it.
  r = cli({"job", "submit", "--where", "all", "--operation", "install", "--auth-mode", "string", "--string-policy",
           "unique", "--dry-run", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("SEP00000019D001: ") + kWhy + " Encrypted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 can run it"), std::string::npos) << r.out;

  // Made Non Secure (the seed: install the LSC first, then make the device secure), it can.
  ASSERT_EQ(cli({"phone", "set", "SEP00000019D001", "--security-mode", "Non Secure", "--data-dir", f.data}).exit_code,
            0);
  r = cli({"phone", "set", "SEP00000019D001", "--operation", "install", "--auth-mode", "string", "--auth-string",
           "1234", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}
