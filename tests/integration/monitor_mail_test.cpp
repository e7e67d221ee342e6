// Certificate monitoring end to end: a daemon, enrolled phones, a trust entry, and a real SMTP
// server on loopback that receives the expiry notices — once per certificate per threshold,
// not again after a restart.
#include <gtest/gtest.h>

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
