// The certificate monitor: thresholds, one notice per certificate per threshold (also across
// restarts), a failed send retried, hourly checks within a day of expiry, trust documents.
#include "capf/monitor/monitor.hpp"

#include <map>
#include <nlohmann/json.hpp>

#include "capf/core/service_params.hpp"
#include "capf/monitor/ca_admin.hpp"
#include "monitor_support.hpp"

namespace capf::monitor::test {
namespace {

constexpr util::UnixTime kDay = 86400;

TEST(Thresholds, AreTheNoticeDaysSevenOneAndExpired) {
  EXPECT_EQ(notice_thresholds(30), (std::vector<int>{30, 7, 1, 0}));
  EXPECT_EQ(notice_thresholds(7), (std::vector<int>{7, 1, 0}));
  EXPECT_EQ(notice_thresholds(3), (std::vector<int>{3, 1, 0}));
  EXPECT_EQ(notice_thresholds(0), (std::vector<int>{0}));
  const auto t = notice_thresholds(30);
  EXPECT_FALSE(due_threshold(t, 31 * kDay));
  EXPECT_EQ(due_threshold(t, 30 * kDay), 30);
  EXPECT_EQ(due_threshold(t, 6 * kDay), 7);
  EXPECT_EQ(due_threshold(t, 3600), 1);
  EXPECT_EQ(due_threshold(t, 0), 0);
  EXPECT_EQ(due_threshold(t, -5 * kDay), 0);
}

struct Outbox {
  std::vector<net::MailMessage> sent;
  bool fail = false;
  MailSender sender() {
    return [this](const net::MailMessage& m) -> Result<void> {
      if (fail) return make_error(Errc::unavailable, "SMTP server down");
      sent.push_back(m);
      return ok();
    };
  }
};

void set_params(store::Store& s, int notice_days) {
  ServiceParams p;
  p.expiry_notice_days = notice_days;
  p.notify_email = "pki@example.com, ops@example.com";
  p.smtp_url = "smtp://127.0.0.1:1";
  p.smtp_from = "capf@example.com";
  store::Transition t;
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  ASSERT_TRUE(s.apply(t).ok());
}

TEST(Monitor, SendsOneNoticePerCertificatePerThresholdAndRemembersThemAcrossRestarts) {
  Fixture f;
  set_params(*f.store, 30);
  const auto now = f.clock.now();
  // A trust store entry that expires in 2 days (a document of the trust layer: JSON with "pem").
  crypto::CaOptions short_lived;
  short_lived.common_name = "Lab Root";
  short_lived.validity_days = 2;
  auto root = crypto::CertificateAuthority::create(short_lived);
  ASSERT_TRUE(root.ok());
  store::Transition t;
  t.put_certificates = {f.lsc("aa01", "SEP000000000001", now + 10 * kDay),
                        f.lsc("aa02", "SEP000000000002", now + 40 * kDay),
                        f.lsc("aa03", "SEP000000000003", now + 5 * kDay, CertificateState::replaced)};
  nlohmann::json doc{
      {"store", "callmanager-trust"}, {"description", "lab root"}, {"pem", root->certificate().to_pem()}};
  t.put_docs.push_back({store::Family::trust, "t1", doc.dump()});
  t.put_docs.push_back({store::Family::trust, "t2", R"({"note": "no pem here"})"});
  ASSERT_TRUE(f.store->apply(t).ok());

  Outbox box;
  {
    CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
    auto r = m.check();
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    // 2 delivered LSCs, the CAPF CA, the trust entry (the replaced LSC is not watched).
    EXPECT_EQ(r.certificates_checked, 4u);
    ASSERT_EQ(box.sent.size(), 2u);
    EXPECT_EQ(box.sent[0].subject.rfind("[capf] LSC of SEP000000000001 expires in 10 days", 0), 0u)
        << box.sent[0].subject;
    EXPECT_NE(box.sent[0].body.find("serial:     aa01"), std::string::npos) << box.sent[0].body;
    EXPECT_NE(box.sent[0].body.find("30-day notice"), std::string::npos);
    EXPECT_EQ(box.sent[0].to, (std::vector<std::string>{"pki@example.com", "ops@example.com"}));
    EXPECT_EQ(box.sent[0].from, "capf@example.com");
    EXPECT_EQ(box.sent[1].subject.rfind("[capf] callmanager-trust lab root expires in", 0), 0u) << box.sent[1].subject;
    EXPECT_NE(box.sent[1].body.find("7-day notice"), std::string::npos);
    EXPECT_EQ(r.next_check, now + kDay);

    // The same check again: nothing new.
    r = m.check();
    EXPECT_EQ(box.sent.size(), 2u);
    EXPECT_EQ(r.already_notified, 2u);
  }
  // A restart (store reopened, new monitor): still nothing new.
  f.reopen();
  {
    CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
    m.check();
    EXPECT_EQ(box.sent.size(), 2u);
  }
  // 4 days on: the LSC crossed 7 days, the trust entry expired — while SMTP is down.
  f.clock.advance(4 * kDay);
  CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
  box.fail = true;
  auto r = m.check();
  ASSERT_EQ(r.notices.size(), 2u);
  EXPECT_FALSE(r.notices[0].sent);
  EXPECT_NE(r.notices[0].error.find("SMTP server down"), std::string::npos);
  box.fail = false;
  r = m.check();
  ASSERT_EQ(box.sent.size(), 4u);
  EXPECT_EQ(box.sent[2].subject.rfind("[capf] LSC of SEP000000000001 expires in 6 days", 0), 0u) << box.sent[2].subject;
  EXPECT_NE(box.sent[3].subject.find("expired"), std::string::npos) << box.sent[3].subject;
  // Within a day of expiry: hourly.
  f.clock.advance(5 * kDay + 12 * 3600);
  r = m.check();
  EXPECT_EQ(r.next_check, f.clock.now() + 3600);
  ASSERT_EQ(box.sent.size(), 5u);
  EXPECT_NE(box.sent[4].subject.find("expires in 12 hours"), std::string::npos) << box.sent[4].subject;
  // The audit trail names every notice.
  auto audit = f.store->list_audit();
  std::size_t notices = 0;
  for (const auto& a : *audit) notices += a.action == "monitor.notice";
  EXPECT_EQ(notices, 5u);
}

TEST(Monitor, WithoutRecipientsNothingIsSentOrRememberedAndTheReportSaysWhy) {
  Fixture f;
  store::Transition t;
  t.put_certificates = {f.lsc("bb01", "SEP0000000000B1", f.clock.now() + 3 * kDay)};
  ASSERT_TRUE(f.store->apply(t).ok());
  Outbox box;
  CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
  auto r = m.check();
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_FALSE(r.notices[0].sent);
  EXPECT_NE(r.notices[0].error.find("notify_email"), std::string::npos);
  EXPECT_TRUE(box.sent.empty());
  set_params(*f.store, 30);
  m.check();
  EXPECT_EQ(box.sent.size(), 1u);
}

TEST(Monitor, PeerTextIsEscapedInTheMailAndTheSmtpCredentialsGoAlong) {
  Fixture f;
  ServiceParams p;
  p.notify_email = "pki@example.com";
  p.smtp_url = "smtp://127.0.0.1:1";
  p.smtp_user = "notices";
  p.smtp_password = "Sm7p-Pa55";
  store::Transition t;
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  // A device name as a phone could send it: the newline must not start a line of the mail.
  t.put_certificates = {f.lsc("cc01", "SEPC0FFEE\nBcc: victim@example.com", f.clock.now() + 3 * kDay)};
  ASSERT_TRUE(f.store->apply(t).ok());
  Outbox box;
  CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
  m.check();
  ASSERT_EQ(box.sent.size(), 1u);
  const auto& mail = box.sent[0];
  EXPECT_EQ(mail.body.find("\nBcc:"), std::string::npos) << mail.body;
  EXPECT_NE(mail.body.find("SEPC0FFEE\\nBcc: victim@example.com"), std::string::npos) << mail.body;
  EXPECT_EQ(mail.subject.find('\n'), std::string::npos) << mail.subject;
  EXPECT_EQ(mail.user, "notices");
  EXPECT_EQ(mail.password, "Sm7p-Pa55");
  EXPECT_FALSE(mail.allow_plain);
}

TEST(Monitor, DaysAreCountedUpToWholeDaysTheWayTheThresholdsCount) {
  // Issue 19 item 11: the same words at every second of a day, whatever second the LSC was
  // issued in.
  Fixture f;
  set_params(*f.store, 30);
  const auto now = f.clock.now();
  store::Transition t;
  t.put_certificates = {
      f.lsc("dc01", "SEP0000000000D1", now + 9 * kDay),     f.lsc("dc02", "SEP0000000000D2", now + 9 * kDay - 1),
      f.lsc("dc03", "SEP0000000000D3", now + 8 * kDay + 1), f.lsc("dc04", "SEP0000000000D4", now + 8 * kDay),
      f.lsc("dc05", "SEP0000000000D5", now + 3600 + 1),     f.lsc("dc06", "SEP0000000000D6", now + 60)};
  ASSERT_TRUE(f.store->apply(t).ok());
  Outbox box;
  CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
  m.check();
  std::map<std::string, std::string> said;
  for (const auto& mail : box.sent) said[mail.subject.substr(0, mail.subject.find(" ("))] = mail.subject;
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D1 expires in 9 days"));
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D2 expires in 9 days"));
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D3 expires in 9 days"));
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D4 expires in 8 days"));
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D5 expires in 2 hours"));
  EXPECT_TRUE(said.count("[capf] LSC of SEP0000000000D6 expires in 1 hour"));
  EXPECT_EQ(box.sent.size(), 6u);
}

TEST(Monitor, NotificationFrequencySetsTheNextCheckAndAnExpiryWithinADayMakesItHourly) {
  Fixture f;
  ServiceParams p;
  p.monitor_frequency_h = 168;
  store::Transition t;
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  ASSERT_TRUE(f.store->apply(t).ok());
  CertificateMonitor m(*f.store, f.ca_dir, f.clock);
  auto r = m.check();
  EXPECT_EQ(r.next_check, f.clock.now() + 7 * kDay);
  p.monitor_frequency_h = 6;
  t = {};
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  t.put_certificates = {f.lsc("fe01", "SEP0000000000F1", f.clock.now() + 12 * 3600)};
  ASSERT_TRUE(f.store->apply(t).ok());
  r = m.check();
  EXPECT_EQ(r.next_check, f.clock.now() + 3600);
}

TEST(Monitor, ExpiredLscsAreRevokedOntoTheCrlOnlyWhenAskedTo) {
  Fixture f;
  const auto now = f.clock.now();
  store::Transition t;
  t.put_certificates = {f.lsc("e001", "SEP0000000000E1", now - 10),                                 // expired
                        f.lsc("e002", "SEP0000000000E2", now + kDay),                               // valid
                        f.lsc("e003", "SEP0000000000E3", now - kDay, CertificateState::replaced)};  // not on a phone
  ASSERT_TRUE(f.store->apply(t).ok());
  CertificateMonitor m(*f.store, f.ca_dir, f.clock);
  auto r = m.check();
  EXPECT_TRUE(r.revoked_expired.empty());  // off by default
  EXPECT_EQ(f.store->get_certificate("e001").value()->state, CertificateState::delivered);

  ServiceParams p;
  p.revoke_expired_lscs = true;
  t = {};
  t.put_docs.push_back({store::Family::params, "service", encode_params(p)});
  ASSERT_TRUE(f.store->apply(t).ok());
  r = m.check();
  ASSERT_EQ(r.revoked_expired.size(), 1u);
  EXPECT_EQ(r.revoked_expired[0], (std::pair<std::string, std::string>{"e001", "SEP0000000000E1"}));
  EXPECT_EQ(f.store->get_certificate("e001").value()->state, CertificateState::revoked);
  EXPECT_EQ(f.store->get_certificate("e002").value()->state, CertificateState::delivered);
  EXPECT_EQ(f.store->get_certificate("e003").value()->state, CertificateState::replaced);
  auto crl = crl_of(*f.store, f.ca_dir, "", false, f.clock);
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  EXPECT_EQ(crl->revoked, 1u);
  auto meta = f.store->get_meta("revocation/e001").value();
  ASSERT_TRUE(meta.has_value());
  EXPECT_NE(meta->find("cessationOfOperation"), std::string::npos) << *meta;
  EXPECT_NE(meta->find("\"actor\":\"monitor\""), std::string::npos) << *meta;
  r = m.check();
  EXPECT_TRUE(r.revoked_expired.empty());  // once
}

TEST(Monitor, LoopRunsTheFirstCheckAndStops) {
  Fixture f;
  Outbox box;
  CertificateMonitor m(*f.store, f.ca_dir, f.clock, box.sender());
  m.start(0);
  for (int i = 0; i < 500 && !m.last(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m.stop();
  ASSERT_TRUE(m.last().has_value());
  EXPECT_EQ(m.last()->certificates_checked, 1u);  // the CAPF CA
}

}  // namespace
}  // namespace capf::monitor::test
