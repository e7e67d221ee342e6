// The certificate monitor: a check at the Notification Frequency (daily by default; hourly once
// anything is within a day of expiry) of the delivered LSCs, the CAPF CA (current and retired)
// and the trust stores' certificates; e-mail notices before expiry, one per certificate per
// threshold, remembered in the store; optionally expired LSCs revoked onto the CRL.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capf/core/breaker.hpp"
#include "capf/core/service_params.hpp"
#include "capf/net/smtp.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::monitor {

/// One certificate that reached a notice threshold.
struct Notice {
  std::string kind;     ///< "LSC", "CAPF CA", "retired CAPF CA", "capf-trust", …
  std::string id;       ///< serial (LSC) or store id; part of the "sent" key
  std::string owner;    ///< device name for an LSC, description for a trust entry
  std::string subject;  ///< certificate subject
  std::string serial;
  util::UnixTime not_after = 0;
  int threshold_days = 0;  ///< 0 = expired
  std::string mail_subject, mail_body;
  bool sent = false;
  std::string error;  ///< why it was not sent
};

/// The result of one check.
struct CheckReport {
  util::UnixTime at = 0;
  std::size_t certificates_checked = 0;
  std::vector<Notice> notices;       ///< due this check (sent or not)
  std::size_t already_notified = 0;  ///< due, but sent by an earlier check
  std::size_t crls_refreshed = 0;
  /// Expired LSCs this check put on the CRL (`revoke-expired-lscs`): serial and device.
  std::vector<std::pair<std::string, std::string>> revoked_expired;
  std::vector<std::string> errors;
  /// "waiting: SMTP server … unreachable since …, next probe at …" while its breaker is open;
  /// the next check is then at the probe time.
  std::string waiting;
  util::UnixTime next_check = 0;
  nlohmann::json to_json() const;
};

/// The thresholds for `notice_days`: notice_days, 7, 1 and 0 (expired), those ≤ notice_days, in
/// descending order.
std::vector<int> notice_thresholds(int notice_days);
/// The smallest threshold `remaining` seconds has crossed, or nullopt when none.
std::optional<int> due_threshold(const std::vector<int>& thresholds, util::UnixTime remaining);

/// Sends one message; net::send_mail in the daemon.
using MailSender = std::function<Result<void>(const net::MailMessage&)>;

class CertificateMonitor {
 public:
  CertificateMonitor(store::Store& store, std::string ca_dir, const util::Clock& clock,
                     MailSender send = net::send_mail);
  ~CertificateMonitor();

  /// One check now (thread-safe; a second caller waits for the first). Reads the service
  /// parameters afresh, so `capf config set` applies without a restart.
  CheckReport check();
  /// Starts the background loop: the first check after `first_delay_s`, then at each report's
  /// next_check.
  void start(int first_delay_s = 60);
  /// Stops the loop (idempotent).
  void stop();
  /// The last report, if any check ran.
  std::optional<CheckReport> last() const;
  /// The daemon's breakers (the SMTP server's is used) and its settings; by default the
  /// monitor has breakers of its own. Call before start().
  void set_breakers(std::shared_ptr<Breakers> breakers, const BreakerSettings& settings);

 private:
  void loop(int first_delay_s);
  /// Sends one message through the SMTP server's breaker: refused while it is open (unless this
  /// message is the probe); a refused or timed-out send counts towards opening it.
  Result<void> send_guarded(const net::MailMessage& m, const std::string& key, util::UnixTime now);
  /// Mails notice `n` (due under the "sent" key `key`, about `target`) to the Notice Recipients
  /// and remembers it as sent; otherwise n.error says why it was not sent.
  void send_notice(Notice& n, const std::string& key, const std::string& target, const ServiceParams& params,
                   util::UnixTime now, std::vector<std::string>& errors);
  /// Re-signs the CRLs that exist (the CAPF CA's, the retired CAs') at half their validity.
  void refresh_crls(util::UnixTime now, CheckReport& report);
  /// The breaker state saved before a restart, for the SMTP server configured now.
  void restore_breaker(const std::string& endpoint);

  store::Store& store_;
  std::string ca_dir_;
  const util::Clock& clock_;
  MailSender send_;
  std::mutex check_mutex_;
  mutable std::mutex state_mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::optional<CheckReport> last_;
  std::uint64_t checks_ = 0;  ///< checks done, so the loop notices a manual one
  std::thread thread_;
  std::shared_ptr<Breakers> breakers_ = std::make_shared<Breakers>();
  BreakerSettings breaker_settings_;
  bool breaker_restored_ = false;  ///< under check_mutex_
};

/// The service parameters from the store (defaults when absent or unreadable).
ServiceParams load_params(const store::Store& store);

}  // namespace capf::monitor
