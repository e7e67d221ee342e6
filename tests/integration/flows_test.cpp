// Protocol flows other than a first install: fetch, delete, nothing scheduled, unknown device,
// wrong strings and the lockout, deadlines, restarts.
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>

#include "harness.hpp"

using namespace capf::it;

TEST(Flows, TroubleshootFetchesTheLscAndDeleteRemovesIt) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000D1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(result_of(f.sim_csv(csv), "SEP0000000000D1"), "installed");
  const std::string serial = f.phone("SEP0000000000D1")["lsc"]["serial"];

  ASSERT_EQ(f.phone_set("SEP0000000000D1", {"--operation", "troubleshoot"}).exit_code, 0);
  auto s = f.sim_csv(csv);
  EXPECT_EQ(result_of(s, "SEP0000000000D1"), "fetched");
  auto p = f.phone("SEP0000000000D1");
  EXPECT_EQ(p["status"], "success");
  ASSERT_EQ(p["retrieved_certificates"].size(), 1u) << p.dump(2);
  const auto fetched = f.dir / "fetched.pem";
  shell("printf '%s' '" + p["retrieved_certificates"][0]["pem"].get<std::string>() + "' > '" + fetched + "'");
  auto serial_out = shell("openssl x509 -noout -serial -in '" + fetched + "'").out;
  std::string upper = serial;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_NE(serial_out.find(upper), std::string::npos);

  ASSERT_EQ(f.phone_set("SEP0000000000D1", {"--operation", "delete"}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP0000000000D1"), "deleted");
  p = f.phone("SEP0000000000D1");
  EXPECT_TRUE(p["lsc"].is_null());
  EXPECT_EQ(p["certificates"][0]["state"], "deleted");
  EXPECT_FALSE(std::ifstream(f.lsc_file("SEP0000000000D1")).good()) << "the phone still holds an LSC file";

  // Troubleshoot on a phone without an LSC: the phone answers reason 7, which is an answer too.
  ASSERT_EQ(f.phone_set("SEP0000000000D1", {"--operation", "troubleshoot"}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP0000000000D1"), "no-action");
  p = f.phone("SEP0000000000D1");
  EXPECT_EQ(p["status"], "success");
  EXPECT_EQ(p["status_reason"], "no certificate on the phone");
  EXPECT_TRUE(p["retrieved_certificates"].empty());
}

TEST(Flows, NothingScheduledIsReasonZeroAndUnknownDeviceIsReasonNine) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000E1,DP-HQ,No Pending Operation,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const auto both = f.write_csv("both.csv", std::string(kCsvHeader) +
      "SEP0000000000E1,DP-HQ,No Pending Operation,By Null String,,2048,RSA Only,\n"
      "SEP0000000000E2,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  auto s = f.sim_csv(both);
  EXPECT_EQ(result_of(s, "SEP0000000000E1"), "no-action");
  EXPECT_EQ(result_of(s, "SEP0000000000E2"), "unknown-device");
  for (const auto& p : s["phones"]) {
    if (p["device"] == "SEP0000000000E1") { EXPECT_EQ(p["reason"], 0); }
    if (p["device"] == "SEP0000000000E2") { EXPECT_EQ(p["reason"], 9); }
  }
  EXPECT_NE(f.phone("SEP0000000000E1")["last_seen"], nullptr);
}

TEST(Flows, WrongAuthenticationStringIsReasonSevenAndLocksAfterFive) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000000F1,DP-HQ,Install/Upgrade,By Authentication String,111111,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const auto wrong = f.write_csv("wrong.csv", std::string(kCsvHeader) +
      "SEP0000000000F1,DP-HQ,Install/Upgrade,By Authentication String,222222,2048,RSA Only,\n");
  for (int attempt = 1; attempt <= 5; ++attempt) {
    auto s = f.sim_csv(wrong);
    ASSERT_EQ(result_of(s, "SEP0000000000F1"), "refused") << "attempt " << attempt;
    EXPECT_EQ(s["phones"][0]["reason"], 7);
    auto p = f.phone("SEP0000000000F1");
    EXPECT_EQ(p["auth_failures"], attempt);
    EXPECT_EQ(p["status"], attempt < 5 ? "failed" : "locked");
  }
  // Locked: even the right string is refused until an administrator re-arms the device.
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP0000000000F1"), "refused");
  EXPECT_EQ(f.phone("SEP0000000000F1")["status"], "locked");
  // Re-arm with a new string; the phone's user types the new one.
  ASSERT_EQ(f.phone_set("SEP0000000000F1", {"--auth-string", "333333"}).exit_code, 0);
  const auto fixed = f.write_csv("fixed.csv", std::string(kCsvHeader) +
      "SEP0000000000F1,DP-HQ,Install/Upgrade,By Authentication String,333333,2048,RSA Only,\n");
  EXPECT_EQ(result_of(f.sim_csv(fixed), "SEP0000000000F1"), "installed");
  EXPECT_EQ(f.phone("SEP0000000000F1")["status"], "success");
  // The strings never reach the log.
  const auto log = f.daemon->log();
  for (const char* secret : {"111111", "222222", "333333"}) EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  EXPECT_NE(log.find("wrong authentication string"), std::string::npos);
}

TEST(Flows, OperationPastItsDeadlineExpiresAndVoidsTheString) {
  Fleet f;
  const auto csv = f.write_csv("p.csv",
      "Device Name,Certificate Operation,Authentication Mode,Authentication String,Operation Completes By\n"
      "SEP000000000101,Install/Upgrade,By Authentication String,5555,2020-01-01\n"
      "SEP000000000102,Install/Upgrade,By Authentication String,6666,2099-01-01\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto s = f.sim_csv(csv);
  EXPECT_EQ(result_of(s, "SEP000000000101"), "no-action");
  EXPECT_EQ(result_of(s, "SEP000000000102"), "installed");
  auto p = f.phone("SEP000000000101");
  EXPECT_EQ(p["status"], "expired");
  EXPECT_EQ(p["auth_string_set"], false);
  EXPECT_EQ(p["operation"], "No Pending Operation");
}

TEST(Flows, RestartKeepsDevicesCertificatesAndTheCa) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP000000000201,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP000000000202,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 2);
  const auto before = f.phone("SEP000000000201");
  const auto ca_before = cli({"ca", "show", "--pem", "--data-dir", f.data}).out;

  ASSERT_EQ(f.daemon->stop(), 0);
  // Stopped: the CLI reads the store directly and sees the same state.
  EXPECT_EQ(f.phone("SEP000000000201"), before);
  f.daemon->kill();
  f.daemon->restart();
  EXPECT_EQ(f.phone("SEP000000000201"), before);
  EXPECT_EQ(cli({"ca", "show", "--pem", "--data-dir", f.data}).out, ca_before);

  // SIGKILL in the middle of nothing, then the fleet carries on with the same CA.
  f.daemon->kill();
  f.daemon->restart();
  EXPECT_EQ(f.phone("SEP000000000202")["certificates"][0]["state"], "delivered");
  ASSERT_EQ(f.phone_set("SEP000000000201", {"--operation", "install"}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(csv), "SEP000000000201"), "installed");
  EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file("SEP000000000201"), f.ca_file, "SEP000000000201"), "");
}

TEST(Flows, DualStackListenerServesIpv4AndIpv6Phones) {
  Fleet f({"--listen", "[::]:0"});
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP000000000301,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP000000000302,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const auto v4 = f.write_csv("v4.csv", std::string(kCsvHeader) + "SEP000000000301,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  const auto v6 = f.write_csv("v6.csv", std::string(kCsvHeader) + "SEP000000000302,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  const std::string port = std::to_string(f.daemon->port());
  for (const auto& [server, file, device] :
       {std::tuple{"127.0.0.1:" + port, v4, "SEP000000000301"}, std::tuple{"[::1]:" + port, v6, "SEP000000000302"}}) {
    auto r = cli({"sim", "--server", server, "--ca", f.ca_file, "--csv", file, "--state", f.sim_state, "--expect",
                  "installed"});
    EXPECT_EQ(r.exit_code, 0) << server << ": " << r.out << r.err;
    EXPECT_EQ(f.phone(device)["status"], "success") << server;
  }
}
