// The certificate monitor: which certificates are near expiry, which notices are due, and the
// e-mail that tells the administrator.
#include "capf/monitor/monitor.hpp"

#include <algorithm>
#include <random>

#include "capf/crypto/ca_lifecycle.hpp"
#include "capf/monitor/ca_admin.hpp"
#include "capf/net/http_client.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"

namespace capf::monitor {

namespace {

constexpr util::UnixTime kDay = 86400;
constexpr util::UnixTime kHour = 3600;

const util::ModuleLogger log{"monitor"};

/// One certificate to look at.
struct Watched {
  std::string kind, id, owner, subject, serial;
  util::UnixTime not_after = 0;
};

/// Where the SMTP server's breaker is kept between starts.
const std::string kSmtpBreakerKey = "breaker:smtp";

std::string sent_key(const Watched& w, int threshold) {
  return "notice/" + w.kind + "/" + w.id + "/" + std::to_string(threshold);
}

// Whole days and hours rounded up, the way the thresholds count (a certificate is due for its
// 7-day notice once at most 7 days are left, and that notice says "7 days"): an LSC valid 9
// days reads "expires in 9 days" at every second of its first day, not 9 in the second it was
// issued and 8 from the next one on.
std::string when_text(util::UnixTime remaining) {
  if (remaining <= 0) return "expired";
  if (remaining >= kDay) {
    const auto days = (remaining + kDay - 1) / kDay;
    return "expires in " + std::to_string(days) + (days == 1 ? " day" : " days");
  }
  const auto hours = (remaining + kHour - 1) / kHour;
  return "expires in " + std::to_string(hours) + (hours == 1 ? " hour" : " hours");
}

std::string advice(const Watched& w) {
  if (w.kind == "LSC")
    return "Re-enroll the phone before then, e.g.:\n  capf job submit --where 'name = " + w.owner +
           "' --operation install --auth-mode lsc\n";
  if (w.kind == "CAPF CA")
    return "Regenerate the CAPF CA (capf ca regenerate), restart the daemon, then re-enroll the phones it "
           "issued (capf ca phones-on-old --submit-job).\n";
  if (w.kind == "retired CAPF CA")
    return "Phones whose LSC it issued cannot authenticate with that LSC after this date: re-enroll them "
           "(capf ca phones-on-old --submit-job), then remove it (capf ca retired delete " +
           w.serial + ").\n";
  return "Upload a renewed certificate to the trust store (capf trust upload) and delete this one.\n";
}

Notice make_notice(const Watched& watched, int threshold, util::UnixTime now) {
  // Owners and subjects come from phones and uploaded certificates: escaped before they reach a mail.
  Watched w = watched;
  for (std::string* text : {&w.kind, &w.owner, &w.subject, &w.serial}) *text = util::escape_control(*text);
  Notice n{w.kind, w.id, w.owner, w.subject, w.serial, w.not_after, threshold, "", "", false, ""};
  const std::string what =
      w.kind == "LSC" ? "LSC of " + w.owner : w.kind + " " + (w.owner.empty() ? w.subject : w.owner);
  const auto remaining = w.not_after - now;
  n.mail_subject = "[capf] " + what + " " + when_text(remaining) + " (" + util::format_iso8601(w.not_after) + ")";
  n.mail_body = "The certificate monitor of capf found a certificate " +
                std::string(remaining <= 0 ? "that has expired" : "close to its expiry") + ".\n\n" +
                "  kind:       " + w.kind + "\n" + (w.owner.empty() ? "" : "  owner:      " + w.owner + "\n") +
                "  subject:    " + w.subject + "\n  serial:     " + w.serial +
                "\n  not after:  " + util::format_iso8601(w.not_after) + "\n  status:     " + when_text(remaining) +
                "\n  notice:     " + (threshold == 0 ? std::string("expired") : std::to_string(threshold) + "-day") +
                " notice\n\n" + advice(w) + "\nThis notice is sent once for this threshold.\n";
  return n;
}

/// Everything the monitor looks at: delivered LSCs, the current and retired CAPF CAs and the
/// certificates of the trust stores' documents.
std::vector<Watched> collect(const store::Store& store, const std::string& ca_dir, std::vector<std::string>& errors) {
  std::vector<Watched> out;
  auto scan = store.for_each_certificate([&](const CertificateRecord& c) {
    if (c.state == CertificateState::delivered)
      out.push_back({"LSC", c.serial, c.device, "CN=" + c.device, c.serial, c.not_after});
    return true;
  });
  if (!scan) errors.push_back("reading the certificate records: " + scan.error().message);
  if (auto ca = crypto::load_ca(ca_dir)) {
    const auto& cert = ca->certificate();
    out.push_back({"CAPF CA", cert.serial_hex(), "", cert.subject(), cert.serial_hex(), cert.not_after()});
  } else if (ca.error().code != Errc::not_found) {
    errors.push_back("CAPF CA: " + ca.error().message);
  }
  if (auto retired = crypto::retired_cas(ca_dir)) {
    for (const auto& r : *retired)
      out.push_back({"retired CAPF CA", r.certificate.serial_hex(), "", r.certificate.subject(),
                     r.certificate.serial_hex(), r.certificate.not_after()});
  } else {
    errors.push_back("retired CAPF CAs: " + retired.error().message);
  }
  // Trust stores (documents of Family::trust, JSON with "pem"; the trust layer owns the rest).
  auto trust = store.for_each_doc(store::Family::trust, "", [&](const std::string& key, const std::string& json) {
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (!j.is_object() || !j.contains("pem") || !j["pem"].is_string()) return true;
    auto certs = crypto::Certificate::all_from_pem(j["pem"].get<std::string>());
    if (!certs) {
      errors.push_back("trust entry " + key + ": " + certs.error().message);
      return true;
    }
    std::string kind = j.value("store", std::string("trust store"));
    if (kind.empty()) kind = "trust store";
    const std::string description = j.value("description", key);
    for (std::size_t i = 0; i < certs->size(); ++i) {
      const auto& c = (*certs)[i];
      out.push_back({kind, key + (certs->size() > 1 ? "#" + std::to_string(i) : ""), description, c.subject(),
                     c.serial_hex(), c.not_after()});
    }
    return true;
  });
  if (!trust) errors.push_back("reading the trust stores: " + trust.error().message);
  return out;
}

// The seed's monitor "revokes the certificates after expiration" (`revoke-expired-lscs`).
void revoke_expired_lscs(store::Store& store, const std::string& ca_dir, util::UnixTime now, CheckReport& report) {
  auto done = revoke_expired(store, ca_dir, "monitor", now);
  if (!done) {
    report.errors.push_back("revoking expired LSCs: " + done.error().message);
    return;
  }
  for (const auto& r : done->revoked) {
    report.revoked_expired.emplace_back(r.serial, r.device);
    log()->info("expired LSC {} of {} revoked (revoke-expired-lscs)", r.serial, r.device);
  }
  report.errors.insert(report.errors.end(), done->errors.begin(), done->errors.end());
}

}  // namespace

ServiceParams load_params(const store::Store& store) {
  auto doc = store.get_doc(store::Family::params, "service");
  if (!doc || !doc->has_value()) return ServiceParams{};
  auto p = decode_params(**doc);
  if (!p) {
    log()->warn("service parameters unreadable, using defaults: {}", p.error().message);
    return ServiceParams{};
  }
  return *p;
}

std::vector<int> notice_thresholds(int notice_days) {
  std::vector<int> t;
  for (int d : {notice_days, 7, 1, 0})
    if (d >= 0 && d <= notice_days && std::find(t.begin(), t.end(), d) == t.end()) t.push_back(d);
  if (t.empty()) t.push_back(0);
  std::sort(t.rbegin(), t.rend());
  return t;
}

std::optional<int> due_threshold(const std::vector<int>& thresholds, util::UnixTime remaining) {
  std::optional<int> due;
  for (int t : thresholds) {
    const bool crossed = t == 0 ? remaining <= 0 : remaining <= static_cast<util::UnixTime>(t) * kDay;
    if (crossed) due = t;  // descending: the last one crossed is the most urgent
  }
  return due;
}

nlohmann::json CheckReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  std::size_t sent = 0;
  for (const auto& n : notices) {
    sent += n.sent;
    list.push_back({{"kind", n.kind},
                    {"id", n.id},
                    {"owner", n.owner},
                    {"subject", n.subject},
                    {"serial", n.serial},
                    {"not_after", util::format_iso8601(n.not_after)},
                    {"threshold_days", n.threshold_days},
                    {"mail_subject", n.mail_subject},
                    {"sent", n.sent},
                    {"error", n.error}});
  }
  nlohmann::json revoked = nlohmann::json::array();
  for (const auto& [serial, device] : revoked_expired) revoked.push_back({{"serial", serial}, {"device", device}});
  return {{"at", util::format_iso8601(at)},
          {"certificates_checked", certificates_checked},
          {"notices", list},
          {"notices_sent", sent},
          {"already_notified", already_notified},
          {"crls_refreshed", crls_refreshed},
          {"revoked_expired", revoked},
          {"errors", errors},
          {"waiting", waiting.empty() ? nlohmann::json() : nlohmann::json(waiting)},
          {"next_check", util::format_iso8601(next_check)}};
}

CertificateMonitor::CertificateMonitor(store::Store& store, std::string ca_dir, const util::Clock& clock,
                                       MailSender send)
    : store_(store), ca_dir_(std::move(ca_dir)), clock_(clock), send_(std::move(send)) {}

CertificateMonitor::~CertificateMonitor() {
  stop();
}

void CertificateMonitor::set_breakers(std::shared_ptr<Breakers> breakers, const BreakerSettings& settings) {
  std::lock_guard lock(check_mutex_);
  breakers_ = std::move(breakers);
  breaker_settings_ = settings;
}

void CertificateMonitor::restore_breaker(const std::string& endpoint) {
  breakers_->configure(Dependency::smtp, breaker_settings_, endpoint);
  if (breaker_restored_) return;
  breaker_restored_ = true;
  auto saved = store_.get_meta(kSmtpBreakerKey);
  if (!saved || !saved->has_value()) return;
  auto status = CircuitBreaker::decode(**saved);
  if (!status || status->endpoint != endpoint || status->closed()) return;
  breakers_->restore(Dependency::smtp, *status);
  log()->warn("{} (as before the restart)", breakers_->status(Dependency::smtp).describe());
}

Result<void> CertificateMonitor::send_guarded(const net::MailMessage& m, const std::string& key, util::UnixTime now) {
  constexpr auto kSmtp = Dependency::smtp;
  restore_breaker(net::redact_url(m.smtp_url));
  if (breakers_->gate(kSmtp, key, now) == CircuitBreaker::Gate::wait)
    return make_error(Errc::unavailable, "waiting: " + breakers_->status(kSmtp).describe());
  auto sent = send_(m);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto change = CircuitBreaker::Change::none;
  if (sent)
    change = breakers_->success(kSmtp, now);
  else if (sent.error().code == Errc::unavailable || sent.error().code == Errc::timeout)
    change =
        breakers_->failure(kSmtp, key, sent.error().message, now, std::uniform_real_distribution<double>(0, 1)(rng));
  if (change == CircuitBreaker::Change::none) return sent;
  const auto status = breakers_->status(kSmtp);
  store::Transition t;
  t.put_meta.emplace_back(kSmtpBreakerKey, breakers_->encode(kSmtp));
  if (change == CircuitBreaker::Change::opened) {
    log()->warn("{}: notices wait for it", status.describe());
    t.audit.push_back(AuditEntry{now, "capf", "dependency.down", "smtp", status.describe()});
  } else if (change == CircuitBreaker::Change::closed) {
    log()->info("SMTP server {} answers again", status.endpoint);
    t.audit.push_back(
        AuditEntry{now, "capf", "dependency.up", "smtp", "SMTP server " + status.endpoint + " answers again"});
  }
  if (auto w = store_.apply(t); !w) log()->error("recording the SMTP server's state: {}", w.error().message);
  return sent;
}

void CertificateMonitor::send_notice(Notice& n, const std::string& key, const std::string& target,
                                     const ServiceParams& params, util::UnixTime now,
                                     std::vector<std::string>& errors) {
  const auto recipients = net::split_addresses(params.notify_email);
  if (recipients.empty() || params.smtp_url.empty()) {
    n.error = "no notice recipients or SMTP server configured (service parameters notify_email, smtp_url)";
    return;
  }
  net::MailMessage m;
  m.smtp_url = params.smtp_url;
  m.user = params.smtp_user;
  m.password = params.smtp_password;
  m.allow_plain = params.smtp_allow_plain;
  m.from = params.smtp_from;
  m.to = recipients;
  m.subject = n.mail_subject;
  m.body = n.mail_body;
  m.date = now;
  if (auto r = send_guarded(m, key, now); !r) {
    n.error = r.error().message;
    return;
  }
  // Remembered at once, one write per notice: a crash after sending resends at most this one.
  store::Transition t;
  nlohmann::json j{{"time", now}, {"to", params.notify_email}, {"subject", n.mail_subject}};
  t.put_meta.emplace_back(key, j.dump());
  t.audit.push_back(AuditEntry{now, "capf", "monitor.notice", target, n.mail_subject + " → " + params.notify_email});
  if (auto wr = store_.apply(t); !wr) errors.push_back("recording notice " + key + ": " + wr.error().message);
  n.sent = true;
}

void CertificateMonitor::refresh_crls(util::UnixTime now, CheckReport& report) {
  auto refresh = [&](const std::string& serial) {
    auto crl = crl_of(store_, ca_dir_, serial, true, clock_);
    if (!crl) {
      if (crl.error().code != Errc::not_found) report.errors.push_back("CRL: " + crl.error().message);
      return;
    }
    if (crl->this_update == now) ++report.crls_refreshed;
  };
  if (crypto::load_ca(ca_dir_)) refresh("");
  if (auto retired = crypto::retired_cas(ca_dir_))
    for (const auto& r : *retired)
      if (auto s = store_.get_meta(kCrlKeyPrefix + r.certificate.serial_hex()); s && s->has_value())
        refresh(r.certificate.serial_hex());
}

CheckReport CertificateMonitor::check() {
  std::lock_guard check_lock(check_mutex_);
  CheckReport report;
  const auto now = clock_.now();
  report.at = now;
  const ServiceParams params = load_params(store_);
  const auto thresholds = notice_thresholds(params.expiry_notice_days);
  auto watched = collect(store_, ca_dir_, report.errors);
  report.certificates_checked = watched.size();
  bool within_a_day = false;
  for (const auto& w : watched) {
    const auto remaining = w.not_after - now;
    if (remaining > 0 && remaining <= kDay) within_a_day = true;
    auto due = due_threshold(thresholds, remaining);
    if (!due) continue;
    const std::string key = sent_key(w, *due);
    auto sent = store_.get_meta(key);
    if (!sent) {
      report.errors.push_back("reading " + key + ": " + sent.error().message);
      continue;
    }
    if (sent->has_value()) {
      ++report.already_notified;
      continue;
    }
    Notice n = make_notice(w, *due, now);
    send_notice(n, key, w.kind + " " + w.serial, params, now, report.errors);
    if (!n.sent)
      log()->warn("expiry notice not sent: {} — {}", n.mail_subject, n.error);
    else
      log()->info("expiry notice sent: {}", n.mail_subject);
    report.notices.push_back(std::move(n));
  }
  // Keep the CRLs fresh: re-signed at half their validity (only those that exist).
  refresh_crls(now, report);
  if (params.revoke_expired_lscs) revoke_expired_lscs(store_, ca_dir_, now, report);
  const util::UnixTime every = std::max<util::UnixTime>(1, params.monitor_frequency_h) * kHour;
  report.next_check = now + (within_a_day ? std::min(every, kHour) : every);
  const bool unsent =
      std::any_of(report.notices.begin(), report.notices.end(), [](const Notice& n) { return !n.sent; });
  if (const auto smtp = breakers_->status(Dependency::smtp); !smtp.closed() && unsent) {
    // Notices wait for the SMTP server: the next check is its probe.
    report.waiting = "waiting: " + smtp.describe();
    report.next_check = std::min(report.next_check, std::max(now + 1, smtp.next_probe));
  }
  for (const auto& e : report.errors) log()->error("certificate monitor: {}", e);
  {
    std::lock_guard lock(state_mutex_);
    last_ = report;
    ++checks_;
  }
  cv_.notify_all();
  return report;
}

void CertificateMonitor::start(int first_delay_s) {
  std::lock_guard lock(state_mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, first_delay_s] { loop(first_delay_s); });
}

void CertificateMonitor::stop() {
  {
    std::lock_guard lock(state_mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::optional<CheckReport> CertificateMonitor::last() const {
  std::lock_guard lock(state_mutex_);
  return last_;
}

void CertificateMonitor::loop(int first_delay_s) {
  // Wall-clock due times, waited for in slices of at most a minute so a changed clock is
  // noticed; any check (this loop's or a manual `capf monitor run-now`) sets the next one.
  util::UnixTime due = clock_.now() + first_delay_s;
  std::unique_lock lock(state_mutex_);
  std::uint64_t seen = checks_;
  while (!stopping_) {
    if (checks_ != seen && last_) {
      seen = checks_;
      due = last_->next_check;
    }
    const auto now = clock_.now();
    if (now >= due) {
      lock.unlock();
      const bool checked = util::contain("monitor", "the certificate monitor's check", [&] {
        util::fault_point_for_test("monitor");
        check();
      });
      lock.lock();
      if (!checked) due = now + kHour;  // tried again later, not in a tight loop
      continue;
    }
    const auto wait = std::min<util::UnixTime>(due - now, 60);
    cv_.wait_for(lock, std::chrono::seconds(wait), [&] { return stopping_ || checks_ != seen; });
  }
}

}  // namespace capf::monitor
