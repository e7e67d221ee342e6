// Issue 19 item 5: Troubleshoot (the seed: "retrieves the LSC and/or the MIC") records every
// certificate the phone returns by its type, with its dates; the MIC a phone presents at
// authentication is recorded too; a phone with no certificate ends "no certificate on the
// phone", not failed; a phone that returns too many or broken ones is capped, with a log line.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "capf/crypto/crypto.hpp"
#include "job_fleet.hpp"
#include "raw_phone.hpp"

using namespace capf::it;

namespace {

const std::string kLsc = "LSC", kMic = "MIC";

/// The phone's retrieved certificates from `capf phone show --json`.
nlohmann::json retrieved(const Fleet& f, const std::string& device) {
  return f.phone(device)["retrieved_certificates"];
}

/// Writes the PEM of a retrieved certificate and returns the file.
std::string pem_file(const Fleet& f, const nlohmann::json& c, const std::string& name) {
  const auto path = f.dir / name;
  std::ofstream(path) << c["pem"].get<std::string>();
  return path;
}

/// `openssl x509 -dates -serial` of a PEM, as "notBefore=… notAfter=… serial=…" in capf's form
/// (ISO 8601 with a T, lower-case serial without leading zeros).
std::string openssl_facts(const std::string& pem) {
  auto out = shell("openssl x509 -noout -dates -serial -dateopt iso_8601 -in '" + pem + "'").out;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string capf_facts(const nlohmann::json& c) {
  auto iso = [](std::string t) {
    t[10] = ' ';
    for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return t;
  };
  std::string serial = c["serial"];
  return "notbefore=" + iso(c["not_before"]) + "\nnotafter=" + iso(c["not_after"]) +
         "\nserial=" + (serial.size() % 2 ? "0" : "") + serial + "\n";
}

/// Imports `device` with an Install/Upgrade armed in `mode` and lets the simulated phone install its LSC.
void install(const Fleet& f, const std::string& device, const std::string& mode = "By Null String") {
  const auto csv =
      f.write_csv("p.csv", std::string(kCsvHeader) + device + ",DP-HQ,Install/Upgrade," + mode + ",,2048,RSA Only,\n");
  EXPECT_EQ(f.import(csv).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(csv), device), "installed");
}

}  // namespace

TEST(Troubleshoot, ThePhonesLscIsRecordedAsAnLscWithItsDatesAndShown) {
  const std::string dev = "SEP00000019E501";
  Fleet f;
  install(f, dev);
  const std::string serial = f.phone(dev)["lsc"]["serial"];
  ASSERT_EQ(f.phone_set(dev, {"--operation", "troubleshoot"}).exit_code, 0);
  auto s = f.sim_csv(f.dir / "p.csv");
  EXPECT_EQ(result_of(s, dev), "fetched");

  auto p = f.phone(dev);
  EXPECT_EQ(p["status"], "success");
  EXPECT_EQ(p["status_reason"], "");
  EXPECT_EQ(p["operation"], "No Pending Operation");
  ASSERT_EQ(p["retrieved_certificates"].size(), 1u) << p.dump(2);
  const auto& c = p["retrieved_certificates"][0];
  EXPECT_EQ(c["type"], kLsc);
  EXPECT_EQ(c["retrieved_by"], "troubleshoot");
  EXPECT_EQ(c["serial"], serial);
  EXPECT_NE(c["subject"].get<std::string>().find("CN=" + dev), std::string::npos) << c.dump(2);
  // The certificate itself: chains to the CAPF CA, and its dates and serial are what capf shows.
  const auto pem = pem_file(f, c, "retrieved-lsc.pem");
  EXPECT_EQ(verify_lsc_with_openssl(pem, f.ca_file, dev), "");
  EXPECT_EQ(openssl_facts(pem), capf_facts(c));
  EXPECT_EQ(shell("cmp -s '" + pem + "' '" + f.lsc_file(dev) + "'").exit_code, 0) << "not the phone's LSC";

  // `capf phone show` lists it, with its dates.
  auto shown = cli({"phone", "show", dev, "--data-dir", f.data});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("retrieved: LSC by troubleshoot at " + c["retrieved_at"].get<std::string>() + ", serial " +
                           serial + ", subject " + c["subject"].get<std::string>() + ", issuer " +
                           c["issuer"].get<std::string>() + ", valid " + c["not_before"].get<std::string>() + " to " +
                           c["not_after"].get<std::string>()),
            std::string::npos)
      << shown.out;
  // The audit trail names what was retrieved.
  auto audit = cli({"audit", "--json", "--data-dir", f.data}).out;
  EXPECT_NE(audit.find("certificate.fetched"), std::string::npos) << audit;
  EXPECT_NE(audit.find("type=LSC serial=" + serial), std::string::npos) << audit;
}

TEST(Troubleshoot, AnLscAndAMicAreBothRecordedWithTheirTypesInEitherForm) {
  const std::string dev = "SEP00000019E502";
  Fleet f;
  install(f, dev);
  const std::string serial = f.phone(dev)["lsc"]["serial"];
  for (const std::string form : {"both", "both-in-one"}) {
    SCOPED_TRACE(form);
    ASSERT_EQ(f.phone_set(dev, {"--operation", "troubleshoot"}).exit_code, 0);
    EXPECT_EQ(result_of(f.sim_csv(f.dir / "p.csv", {"--troubleshoot", form}), dev), "fetched");
    auto list = retrieved(f, dev);
    ASSERT_EQ(list.size(), 2u) << list.dump(2);  // the last Troubleshoot's, not added to the one before
    EXPECT_EQ(list[0]["type"], kLsc);
    EXPECT_EQ(list[0]["serial"], serial);
    EXPECT_EQ(list[1]["type"], kMic);
    EXPECT_EQ(list[1]["retrieved_by"], "troubleshoot");
    // The MIC chains to the manufacturer's CA, not to CAPF's.
    const auto mic = pem_file(f, list[1], "mic.pem");
    EXPECT_EQ(shell("openssl verify -CAfile '" + f.mic_root + "' '" + mic + "'").exit_code, 0);
    EXPECT_NE(shell("openssl verify -CAfile '" + f.ca_file + "' '" + mic + "' 2>&1").exit_code, 0);
    EXPECT_EQ(openssl_facts(mic), capf_facts(list[1]));
    EXPECT_EQ(f.phone(dev)["status_reason"], "");
  }
  // The MIC alone: recorded, and the phone is said to have no LSC.
  ASSERT_EQ(f.phone_set(dev, {"--operation", "troubleshoot"}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(f.dir / "p.csv", {"--troubleshoot", "mic"}), dev), "fetched");
  auto p = f.phone(dev);
  ASSERT_EQ(p["retrieved_certificates"].size(), 1u) << p.dump(2);
  EXPECT_EQ(p["retrieved_certificates"][0]["type"], kMic);
  EXPECT_EQ(p["status"], "success");
  EXPECT_EQ(p["status_reason"], "no LSC on the phone; it returned: MIC");
}

TEST(Troubleshoot, APhoneWithoutAnLscEndsNoCertificateOnThePhoneNotFailedAndTheJobSaysSo) {
  JobFleet f;
  const auto csv = f.import_rows(
      "Device Name,Device Pool,Authentication Mode\n"
      "SEP00000019E503,DP-TS,By Null String\n");
  f.start_sim(csv);  // the phone has only its MIC and answers Troubleshoot as capfc does: REASON 7
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-TS", "--operation", "troubleshoot", "--max-attempts",
                  "1", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);
  auto j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << f.daemon->log();
  EXPECT_EQ(j["counts"].value("succeeded", 0), 1) << j.dump(2);
  EXPECT_EQ(j["counts"].value("failed", 0), 0) << j.dump(2);
  auto report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  ASSERT_EQ(report["devices"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report["devices"][0]["state"], "succeeded");
  EXPECT_EQ(report["devices"][0]["reason"], "no certificate on the phone");
  auto p = nlohmann::json::parse(cli({"phone", "show", "SEP00000019E503", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(p["status"], "success");
  EXPECT_EQ(p["status_reason"], "no certificate on the phone");
  EXPECT_EQ(p["operation"], "No Pending Operation");
  EXPECT_TRUE(p["retrieved_certificates"].empty()) << p.dump(2);
}

TEST(Troubleshoot, TheMicPresentedAtAuthenticationIsRecorded) {
  const std::string dev = "SEP00000019E504";
  Fleet f;
  install(f, dev, "By Existing Certificate (Precedence to MIC)");
  auto list = retrieved(f, dev);
  ASSERT_EQ(list.size(), 1u) << list.dump(2);
  EXPECT_EQ(list[0]["type"], kMic);
  EXPECT_EQ(list[0]["retrieved_by"], "authentication");
  const auto mic = pem_file(f, list[0], "presented-mic.pem");
  EXPECT_EQ(shell("openssl verify -CAfile '" + f.mic_root + "' '" + mic + "'").exit_code, 0);
  EXPECT_EQ(openssl_facts(mic), capf_facts(list[0]));

  // A Troubleshoot later (the phone authenticates with its MIC again): its LSC comes first, the
  // MIC presented at authentication stays beside it.
  ASSERT_EQ(f.phone_set(dev, {"--operation", "troubleshoot"}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(f.dir / "p.csv"), dev), "fetched");
  list = retrieved(f, dev);
  ASSERT_EQ(list.size(), 2u) << list.dump(2);
  EXPECT_EQ(list[0]["type"], kLsc);
  EXPECT_EQ(list[0]["retrieved_by"], "troubleshoot");
  EXPECT_EQ(list[1]["type"], kMic);
  EXPECT_EQ(list[1]["retrieved_by"], "authentication");
  auto shown = cli({"phone", "show", dev, "--data-dir", f.data}).out;
  EXPECT_NE(shown.find("retrieved: MIC by authentication at "), std::string::npos) << shown;

  // An LSC presented at authentication is no MIC: nothing is added.
  ASSERT_EQ(f.phone_set(dev, {"--operation", "install", "--auth-mode", "lsc"}).exit_code, 0);
  f.write_csv("lsc.csv", std::string(kCsvHeader) + dev +
                             ",DP-HQ,Install/Upgrade,By Existing Certificate (Precedence to LSC),,2048,RSA Only,\n");
  EXPECT_EQ(result_of(f.sim_csv(f.dir / "lsc.csv"), dev), "installed");
  auto after = retrieved(f, dev);
  ASSERT_EQ(after.size(), 2u) << after.dump(2);
  EXPECT_EQ(after[1], list[1]) << "the MIC presented before is kept as it was";
}

TEST(Troubleshoot, AHostilePhoneIsCappedAndBrokenCertificatesAreRefusedWithALogLine) {
  const std::string dev = "SEP00000019E505";
  Fleet f;
  const auto csv =
      f.write_csv("p.csv", std::string(kCsvHeader) + dev + ",DP-HQ,Troubleshoot,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  std::ifstream in(f.ca_file);
  const std::string ca_pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto ca = capf::crypto::Certificate::from_pem(ca_pem);
  ASSERT_TRUE(ca.ok());
  const auto der = ca->to_der();

  // Answers Troubleshoot with `certs`, returns END_SESSION's reason.
  auto answer = [&](const std::vector<capf::protocol::FetchedCertificate>& certs) {
    RawPhone p(f.daemon->port(), ca_pem);
    const auto sid = p.read().session_id;
    capf::protocol::AuthResponse auth;
    auth.device_name = dev;
    auth.password = "";
    send_message(p, capf::protocol::build(auth, sid));
    EXPECT_EQ(p.read().command, static_cast<int>(capf::protocol::Command::fetch_certificate_request));
    send_message(p, capf::protocol::build(capf::protocol::FetchResponse{1, certs, {}}, sid));
    return p.read().u8(capf::protocol::Tag::reason).value_or(255);
  };
  // Six certificates and a type the phone names wrongly: four kept, the rest refused and logged.
  std::vector<capf::protocol::FetchedCertificate> six(6, {1, der});
  six[1].type = 9;
  EXPECT_EQ(answer(six), 0);
  auto list = retrieved(f, dev);
  ASSERT_EQ(list.size(), 4u) << list.dump(2);
  EXPECT_EQ(list[1]["type"], "unknown");
  EXPECT_NE(f.daemon->log().find("device=" + dev +
                                 " Troubleshoot: refused certificate 5 of 6: over the 4 a Troubleshoot keeps"),
            std::string::npos)
      << f.daemon->log();

  // Only broken certificates: nothing kept, the operation failed and says why; the last
  // Troubleshoot's certificates stay.
  ASSERT_EQ(f.phone_set(dev, {"--operation", "troubleshoot"}).exit_code, 0);
  EXPECT_EQ(answer({{1, {0x30, 0x03, 0x02, 0x01, 0x01}}}), 0);
  auto p = f.phone(dev);
  EXPECT_EQ(p["status"], "failed");
  EXPECT_NE(p["status_reason"].get<std::string>().find(
                "the phone's certificates were refused: certificate 1 of 1 does not parse"),
            std::string::npos)
      << p.dump(2);
  EXPECT_EQ(p["retrieved_certificates"].size(), 4u);
}
