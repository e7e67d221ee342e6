// Revocation and CAPF CA regeneration end to end: `capf lsc revoke`, the CRL checked with
// `openssl crl`, a revoked LSC refused (END_SESSION 7), `capf ca regenerate`, the phones on the
// retired CA listed and re-enrolled through a job.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>

#include "lifecycle_support.hpp"

using namespace capf::it;

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

const char* const kLscCsvHeader = "Device Name,Certificate Operation,Authentication Mode\n";

}  // namespace

TEST(Revocation, RevokedLscIsInTheSignedCrlAndRefusedForExistingCertificateAuthentication) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
                                            "SEP0000000004A1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000004A2,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 2);
  const std::string serial = f.phone("SEP0000000004A1")["lsc"]["serial"];

  auto r = cli({"lsc", "revoke", serial, "--reason", "key-compromise", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("revoked LSC " + serial + " of SEP0000000004A1 (keyCompromise)"), std::string::npos) << r.out;
  r = cli({"lsc", "revoke", serial, "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already revoked"), std::string::npos) << r.err;
  EXPECT_EQ(cli({"lsc", "revoke", "abcdef", "--data-dir", f.data}).exit_code, 1);
  EXPECT_EQ(cli({"lsc", "revoke", serial, "--reason", "because", "--data-dir", f.data}).exit_code, 1);
  EXPECT_EQ(cli({"lsc", "revoke", "--data-dir", f.data}).exit_code, 2);

  // The CRL: signed by the CAPF CA, with the serial, its reason and a nextUpdate.
  ASSERT_EQ(cli({"crl", "export", "--out", f.dir / "crl.pem", "--data-dir", f.data}).exit_code, 0);
  ASSERT_EQ(cli({"crl", "export", "--der", "--out", f.dir / "crl.der", "--data-dir", f.data}).exit_code, 0);
  auto text = shell("openssl crl -in '" + f.dir / "crl.pem" + "' -CAfile '" + f.ca_file + "' -noout -text");
  EXPECT_EQ(text.exit_code, 0) << text.err;
  const auto all = text.out + text.err;
  EXPECT_NE(all.find("verify OK"), std::string::npos) << all;
  EXPECT_NE(all.find(upper(serial)), std::string::npos) << all;
  EXPECT_NE(all.find("Key Compromise"), std::string::npos) << all;
  EXPECT_NE(all.find("Next Update"), std::string::npos) << all;
  auto der = shell("openssl crl -inform DER -in '" + f.dir / "crl.der" + "' -CAfile '" + f.ca_file + "' -noout");
  EXPECT_NE((der.out + der.err).find("verify OK"), std::string::npos) << der.out << der.err;
  // openssl agrees the LSC is revoked.
  auto v = shell("openssl verify -crl_check -CAfile '" + f.ca_file + "' -CRLfile '" + f.dir / "crl.pem" + "' '" +
                 f.lsc_file("SEP0000000004A1") + "'");
  EXPECT_NE(v.exit_code, 0);
  EXPECT_NE((v.out + v.err).find("revoked"), std::string::npos) << v.out << v.err;

  // Both phones come back to re-enroll by existing certificate (LSC): the revoked one is refused.
  const auto again =
      f.write_csv("again.csv", std::string(kLscCsvHeader) +
                                   "SEP0000000004A1,Install/Upgrade,By Existing Certificate (Precedence to LSC)\n"
                                   "SEP0000000004A2,Install/Upgrade,By Existing Certificate (Precedence to LSC)\n");
  ASSERT_EQ(f.import(again).exit_code, 0);
  auto s = f.sim_csv(again);
  EXPECT_EQ(result_of(s, "SEP0000000004A1"), "refused");
  EXPECT_EQ(result_of(s, "SEP0000000004A2"), "installed");
  for (const auto& p : s["phones"]) {
    if (p["device"] == "SEP0000000004A1") {
      EXPECT_EQ(p["reason"], 7);
    }
  }
  auto p = f.phone("SEP0000000004A1");
  EXPECT_EQ(p["status"], "failed");
  EXPECT_NE(p["status_reason"].get<std::string>().find("was revoked (keyCompromise"), std::string::npos) << p.dump();
  EXPECT_NE(f.daemon->log().find("presented LSC " + serial + " was revoked"), std::string::npos) << f.daemon->log();
}

// Issue 19 item 12: a serial is taken as administrators copy it — openssl's `-serial` (upper
// case, padded to whole bytes, "serial=" in front), the colon form of `-text`, leading zeros.
TEST(Revocation, SerialsAreAcceptedInEveryFormOpensslPrintsThem) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
                                            "SEP0000000004C1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000004C2,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000004C3,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 3);
  auto state_of = [&](const std::string& device) {
    return f.phone(device)["certificates"][0]["state"].get<std::string>();
  };

  // 1. Exactly what `openssl x509 -serial -noout` prints, "serial=" and all.
  auto printed = shell("openssl x509 -serial -noout -in '" + f.lsc_file("SEP0000000004C1") + "'");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::string openssl_serial = printed.out.substr(0, printed.out.find('\n'));
  ASSERT_EQ(openssl_serial.rfind("serial=", 0), 0u) << openssl_serial;
  auto r = cli({"lsc", "revoke", openssl_serial, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(state_of("SEP0000000004C1"), "revoked");

  // 2. The colon form of `openssl x509 -text` (the line after "Serial Number:").
  auto text = shell("openssl x509 -text -noout -in '" + f.lsc_file("SEP0000000004C2") +
                    "' | sed -n '/Serial Number:/{n;p}' | tr -d ' '");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const std::string colons = text.out.substr(0, text.out.find('\n'));
  ASSERT_NE(colons.find(':'), std::string::npos) << colons;
  r = cli({"lsc", "revoke", colons, "--reason", "superseded", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(state_of("SEP0000000004C2"), "revoked");

  // 3. Leading zeros and upper case on capf's own form.
  const std::string serial3 = f.phone("SEP0000000004C3")["lsc"]["serial"];
  r = cli({"lsc", "revoke", "000" + upper(serial3), "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(state_of("SEP0000000004C3"), "revoked");

  // The CRL lists all three; a malformed serial is named as typed, not URL-encoded.
  ASSERT_EQ(cli({"crl", "export", "--out", f.dir / "crl.pem", "--data-dir", f.data}).exit_code, 0);
  auto crl = shell("openssl crl -in '" + f.dir / "crl.pem" + "' -noout -text").out;
  for (const char* d : {"SEP0000000004C1", "SEP0000000004C2", "SEP0000000004C3"})
    EXPECT_NE(crl.find(upper(f.phone(d)["lsc"]["serial"].get<std::string>())), std::string::npos) << d << crl;
  r = cli({"lsc", "revoke", "34:57:zz", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("\"34:57:zz\" is not a serial"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("%3a"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("%3A"), std::string::npos) << r.err;
  // The CA serial of `crl export --ca` takes the same forms.
  const std::string ca_serial =
      nlohmann::json::parse(cli({"ca", "show", "--json", "--data-dir", f.data}).out)["serial"];
  r = cli({"crl", "export", "--ca", "00:" + upper(ca_serial), "--json", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["revoked"], 3) << r.out;
}

TEST(CaLifecycle, RegenerateRetiresTheOldCaAndAJobReEnrollsThePhonesOnIt) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
                                            "SEP0000000005A1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000005A2,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 2);
  const auto old_ca = cli({"ca", "show", "--json", "--data-dir", f.data});
  const std::string old_subject = nlohmann::json::parse(old_ca.out)["subject"];

  auto none = cli({"ca", "phones-on-old", "--data-dir", f.data});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("no CAPF CA was ever retired"), std::string::npos) << none.out;
  EXPECT_EQ(cli({"ca", "regenerate", "--key", "rsa-1024", "--data-dir", f.data}).exit_code, 1);

  auto regen = cli({"ca", "regenerate", "--key", "ec-p256", "--data-dir", f.data});
  ASSERT_EQ(regen.exit_code, 0) << regen.err;
  EXPECT_NE(regen.out.find("RESTART REQUIRED"), std::string::npos) << regen.out;
  EXPECT_NE(regen.out.find("retired CAPF CA: " + old_subject), std::string::npos) << regen.out;
  f.daemon->restart();
  const auto new_ca = nlohmann::json::parse(cli({"ca", "show", "--json", "--data-dir", f.data}).out);
  EXPECT_NE(new_ca["subject"], old_subject);
  EXPECT_EQ(new_ca["key"], "EC-P256");
  auto retired = nlohmann::json::parse(cli({"ca", "retired", "--json", "--data-dir", f.data}).out);
  ASSERT_EQ(retired["retired"].size(), 1u);
  EXPECT_EQ(retired["retired"][0]["subject"], old_subject);

  auto on_old = cli({"ca", "phones-on-old", "--json", "--data-dir", f.data});
  ASSERT_EQ(on_old.exit_code, 0) << on_old.err;
  auto listed = nlohmann::json::parse(on_old.out);
  ASSERT_EQ(listed["phones"].size(), 2u) << on_old.out;
  EXPECT_EQ(listed["retired_subjects"][0], old_subject);

  // The phones trust the new CA too (their trust list is updated), then a job re-enrolls them by
  // their old LSC, which the retired CA in CAPF-trust still vouches for.
  const std::string bundle = cli({"ca", "show", "--pem", "--data-dir", f.data}).out;
  {
    std::ofstream out(f.ca_file, std::ios::app);
    out << bundle;
  }
  std::ofstream(f.dir / "new-ca.pem") << bundle;
  auto job = cli({"ca", "phones-on-old", "--submit-job", "--data-dir", f.data});
  ASSERT_EQ(job.exit_code, 0) << job.out << job.err;
  EXPECT_NE(job.out.find("2 phones selected by lsc_issuer in"), std::string::npos) << job.out;
  const auto lsc_csv =
      f.write_csv("lsc.csv", std::string(kLscCsvHeader) +
                                 "SEP0000000005A1,Install/Upgrade,By Existing Certificate (Precedence to LSC)\n"
                                 "SEP0000000005A2,Install/Upgrade,By Existing Certificate (Precedence to LSC)\n");
  auto s = f.sim_csv(lsc_csv);
  EXPECT_EQ(result_of(s, "SEP0000000005A1"), "installed");
  EXPECT_EQ(result_of(s, "SEP0000000005A2"), "installed");
  for (const char* name : {"SEP0000000005A1", "SEP0000000005A2"})
    EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file(name), f.dir / "new-ca.pem", name), "");
  auto after = nlohmann::json::parse(cli({"ca", "phones-on-old", "--json", "--data-dir", f.data}).out);
  EXPECT_TRUE(after["phones"].empty()) << after.dump();

  // Deleting the retired CA takes it out of CAPF-trust at the next start.
  const std::string old_serial = retired["retired"][0]["serial"];
  ASSERT_EQ(cli({"ca", "retired", "delete", old_serial, "--data-dir", f.data}).exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(cli({"ca", "retired", "--json", "--data-dir", f.data}).out)["retired"].empty());
}
