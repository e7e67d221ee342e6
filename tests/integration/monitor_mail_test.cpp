// Certificate monitoring end to end: a daemon, enrolled phones, a trust entry, and a real SMTP
// server on loopback that receives the expiry notices — once per certificate per threshold,
// not again after a restart.
#include <gtest/gtest.h>

#include <cctype>

#include "capf/util/time.hpp"
#include "lifecycle_support.hpp"

using namespace capf::it;

namespace {

std::size_t count_with(const std::vector<std::string>& messages, const std::string& text) {
  std::size_t n = 0;
  for (const auto& m : messages) n += m.find(text) != std::string::npos;
  return n;
}

}  // namespace

TEST(MonitorMail, NoticesArriveAtTheSmtpServerOncePerCertificate) {
  // LSCs valid 9 days, notices 30 days ahead: both phones' LSCs are due at once. Days are
  // counted up to whole days, as the thresholds count them: "9 days" at every second of the
  // first day, however soon after the issue the check runs (it used to read "8 days" unless the
  // check fell in the very second the LSC was issued, which a fast machine manages).
  Fleet f({"--validity-days", "9", "--monitor-first-check", "3600"});
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000003A1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP0000000003A2,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 2);
  const std::string serial = f.phone("SEP0000000003A1")["lsc"]["serial"];

  SmtpServer smtp(f.dir / "maildir");
  ASSERT_EQ(f.daemon->stop(), 0);
  set_service_params(f.data, [&](capf::ServiceParams& p) {
    p.expiry_notice_days = 30;
    p.notify_email = "pki-team@example.com";
    p.smtp_url = smtp.url();
    p.smtp_from = "capf@example.com";
  });
  f.daemon->restart();

  auto run = cli({"monitor", "run-now", "--json", "--data-dir", f.data});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["notices_sent"], 2) << run.out;
  // Two LSCs, the CAPF CA and the MIC root the daemon put in CAPF-trust (`--mic-root`).
  EXPECT_EQ(report["certificates_checked"], 4) << run.out;

  auto mail = smtp.messages();
  ASSERT_EQ(mail.size(), 2u) << "messages at the SMTP server";
  EXPECT_EQ(count_with(mail, "Subject: [capf] LSC of SEP0000000003A1 expires in 9 days"), 1u) << mail[0];
  EXPECT_EQ(count_with(mail, "Subject: [capf] LSC of SEP0000000003A2 expires in 9 days"), 1u) << mail[1];
  // The count agrees with the report's own times: at most 9 days were left at the check.
  for (const auto& n : report["notices"]) {
    const auto left = *capf::util::parse_iso8601(n["not_after"].get<std::string>()) -
                      *capf::util::parse_iso8601(report["at"].get<std::string>());
    EXPECT_GT(left, 8 * 86400) << n.dump();
    EXPECT_LE(left, 9 * 86400) << n.dump();
  }
  EXPECT_EQ(count_with(mail, "serial:     " + serial), 1u);
  EXPECT_EQ(count_with(mail, "30-day notice"), 2u);
  EXPECT_EQ(count_with(mail, "To: pki-team@example.com"), 2u);
  EXPECT_EQ(count_with(mail, "From: capf@example.com"), 2u);
  EXPECT_EQ(count_with(mail, "capf job submit --where 'name = SEP0000000003A1'"), 1u);

  // Again, and after a restart: nothing new reaches the server.
  run = cli({"monitor", "run-now", "--json", "--data-dir", f.data});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["already_notified"], 2);
  f.daemon->restart();
  run = cli({"monitor", "run-now", "--data-dir", f.data});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("0 notices sent, 2 already sent earlier"), std::string::npos) << run.out;
  EXPECT_EQ(smtp.messages().size(), 2u);

  // The status route shows the last check of the running daemon.
  auto status = cli({"monitor", "status", "--json", "--data-dir", f.data});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["already_notified"], 2);
}

TEST(MonitorMail, AnUnreachableSmtpServerFailsRunNowAndTheNoticeIsSentLater) {
  Fleet f({"--validity-days", "2", "--monitor-first-check", "3600"});
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) + "SEP0000000003B1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 1);
  const int dead_port = free_port();
  ASSERT_EQ(f.daemon->stop(), 0);
  set_service_params(f.data, [&](capf::ServiceParams& p) {
    p.expiry_notice_days = 7;
    p.notify_email = "pki-team@example.com";
    p.smtp_url = "smtp://127.0.0.1:" + std::to_string(dead_port);
  });
  f.daemon->restart();
  auto run = cli({"monitor", "run-now", "--data-dir", f.data});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_NE(run.out.find("NOT SENT"), std::string::npos) << run.out;

  SmtpServer smtp(f.dir / "maildir");
  ASSERT_EQ(f.daemon->stop(), 0);
  set_service_params(f.data, [&](capf::ServiceParams& p) { p.smtp_url = smtp.url(); });
  f.daemon->restart();
  run = cli({"monitor", "run-now", "--data-dir", f.data});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  auto mail = smtp.messages();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("Subject: [capf] LSC of SEP0000000003B1 expires in 2 days"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("7-day notice"), std::string::npos) << mail[0];
}

// Issue 19 item 7: the seed's monitor "revokes the certificates after expiration" — capf does it
// only when `revoke-expired-lscs` is on (off by default); the Notification Frequency sets when
// the next check runs. The daemon's monitor runs two days ahead here, so 1-day LSCs are expired.
TEST(MonitorRevocation, ExpiredLscsGoOnTheCrlOnlyWhenTheParameterIsOn) {
  Fleet f({"--validity-days", "1", "--monitor-first-check", "3600", "--test-monitor-clock-offset", "172800"});
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) +
      "SEP0000000003C1,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
      "SEP0000000003C2,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 2);
  const std::string s1 = f.phone("SEP0000000003C1")["lsc"]["serial"];
  const std::string s2 = f.phone("SEP0000000003C2")["lsc"]["serial"];

  // Off by default: the expired LSCs are reported (their notices cannot be sent: no SMTP
  // server here) and stay as they are.
  auto run = cli({"monitor", "run-now", "--json", "--data-dir", f.data});
  auto report = nlohmann::json::parse(run.out);
  EXPECT_TRUE(report["revoked_expired"].empty()) << run.out;
  EXPECT_EQ(f.phone("SEP0000000003C1")["certificates"][0]["state"], "delivered");
  EXPECT_EQ(*capf::util::parse_iso8601(report["next_check"].get<std::string>()) -
                *capf::util::parse_iso8601(report["at"].get<std::string>()),
            86400) << "daily by default";

  ASSERT_EQ(cli({"config", "set", "revoke-expired-lscs", "true", "--data-dir", f.data}).exit_code, 0);
  ASSERT_EQ(cli({"config", "set", "monitor-frequency", "6h", "--data-dir", f.data}).exit_code, 0);
  EXPECT_EQ(cli({"config", "set", "monitor-frequency", "fortnightly", "--data-dir", f.data}).exit_code, 2);
  run = cli({"monitor", "run-now", "--data-dir", f.data});
  EXPECT_NE(run.out.find("revoked expired LSC " + s1 + " of SEP0000000003C1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("revoked expired LSC " + s2 + " of SEP0000000003C2"), std::string::npos) << run.out;
  report = nlohmann::json::parse(cli({"monitor", "status", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(*capf::util::parse_iso8601(report["next_check"].get<std::string>()) -
                *capf::util::parse_iso8601(report["at"].get<std::string>()),
            6 * 3600) << report.dump();
  for (const char* d : {"SEP0000000003C1", "SEP0000000003C2"})
    EXPECT_EQ(f.phone(d)["certificates"][0]["state"], "revoked") << d;

  // On the signed CRL with the reason, audited as the monitor's doing; never twice.
  ASSERT_EQ(cli({"crl", "export", "--out", f.dir / "crl.pem", "--data-dir", f.data}).exit_code, 0);
  auto crl = shell("openssl crl -in '" + f.dir / "crl.pem" + "' -CAfile '" + f.ca_file + "' -noout -text 2>&1").out;
  for (const auto& s : {s1, s2}) {
    std::string upper = s;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_NE(crl.find(upper), std::string::npos) << crl;
  }
  EXPECT_NE(crl.find("Cessation Of Operation"), std::string::npos) << crl;
  auto audit = nlohmann::json::parse(
      cli({"audit", "list", "--action", "lsc.revoked", "--json", "--data-dir", f.data}).out);
  ASSERT_EQ(audit.size(), 2u) << audit.dump();
  for (const auto& a : audit) EXPECT_EQ(a["actor"], "monitor") << a.dump();
  report = nlohmann::json::parse(cli({"monitor", "run-now", "--json", "--data-dir", f.data}).out);
  EXPECT_TRUE(report["revoked_expired"].empty()) << report.dump();
}
