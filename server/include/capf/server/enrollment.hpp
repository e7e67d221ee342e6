// What the daemon decides and records for a phone during a CAPF session, kept apart from the
// wire so the flows can be read in one place. Every method may block (signing, synced
// RocksDB writes) and runs on the worker pool, never on an I/O thread.
#pragma once

#include <functional>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "capf/core/csr.hpp"
#include "capf/core/device.hpp"
#include "capf/core/issuer.hpp"
#include "capf/core/service_params.hpp"
#include "capf/core/session_hook.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/protocol/messages.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::server {

/// What the session does after AUTH_RESPONSE.
struct Decision {
  enum class Kind {
    end_no_action,   ///< END_SESSION reason 0 (nothing scheduled, expired)
    end_unknown,     ///< END_SESSION reason 9
    end_refused,     ///< END_SESSION reason 7
    install,         ///< key generation, then store
    fetch,           ///< FETCH_CERTIFICATE_REQUEST
    delete_lsc,      ///< DELETE_CERTIFICATE_REQUEST
    deliver,         ///< CA modes: STORE_CERTIFICATE_REQUEST with the LSC the CA issued for the stored CSR
  };
  Kind kind = Kind::end_refused;
  std::string device;
  std::vector<KeySpec> key_plan;  ///< install: keys to ask for, in Key Order
  std::string reason;             ///< for the log (never a secret)
  std::vector<std::uint8_t> certificate_der;  ///< deliver: the LSC
  IssuerKind issuer = IssuerKind::capf;       ///< install: who signs (CA modes ask the phone for a CSR)
};

/// What became of a CSR after one exchange with the online CA.
struct OnlineStep {
  std::optional<crypto::Certificate> certificate;  ///< issued and recorded
  bool waiting = false;                            ///< still with the CA (pending, or retry later)
  std::string reason;                              ///< in words, for the log
};

/// Decisions and state transitions of CAPF sessions.
class EnrollmentService {
 public:
  EnrollmentService(store::Store& store, const crypto::CertificateAuthority& ca, crypto::TrustStore capf_trust,
                    int validity_days, const util::Clock& clock);

  /// Looks the device up, checks its deadline and authenticates the phone by the armed
  /// Authentication Mode. Records failures (and the lockout) durably. On kinds install/fetch/
  /// delete the device is claimed for this session until release().
  Decision authenticate(const protocol::AuthResponse& auth, std::uint32_t session_id);

  /// Issues an LSC for the key the phone returned (SPKI DER, or a PKCS#10 CSR) after checking it
  /// is the key that was asked for; records the certificate as issued, and any earlier
  /// undelivered one as stale, in one durable write.
  Result<crypto::Certificate> issue(const std::string& device, std::span<const std::uint8_t> public_key,
                                    const KeySpec& requested);

  /// The phone answered STORE_CERTIFICATE_RESPONSE with `reason`.
  void delivered(const std::string& device, const crypto::Certificate& lsc, std::uint8_t reason);
  /// The phone answered FETCH_CERTIFICATE_RESPONSE.
  void fetched(const std::string& device, const std::optional<std::vector<std::uint8_t>>& der, std::uint8_t reason);
  /// The phone answered DELETE_CERTIFICATE_RESPONSE.
  void deleted(const std::string& device, std::uint8_t reason);
  /// The session failed before the operation completed; the operation stays armed.
  void failed(const std::string& device, const std::string& reason);
  /// The phone could make none of the keys it was asked for (`tried` names them). Counts the
  /// failure; at the "Maximum Allowable Attempts for Key Generation" the operation is given up
  /// (the job is told not to retry) and later sessions are refused until it is re-armed.
  void keygen_failed(const std::string& device, const std::string& tried);
  /// Ends this session's claim on the device.
  void release(const std::string& device);
  /// The job engine's hook; its job-device records go into the same writes. Set before serving.
  void set_hook(SessionHook* hook) { hook_ = hook; }

  /// CAPF-trust as it is now (existing-certificate authentication); safe while sessions run.
  void set_trust(std::shared_ptr<const crypto::TrustStore> trust);
  /// "Duration Of Certificate Validity" for LSCs the CAPF CA signs from now on.
  void set_validity_days(int days) { validity_days_.store(days); }
  /// "Maximum Allowable Attempts for Key Generation" (1–100) from now on.
  void set_keygen_attempts(int attempts) { keygen_attempts_.store(attempts < 1 ? 1 : attempts); }
  /// "Certificate Issuer to Endpoint" and, for Online CA, the CA and its timing parameters.
  void set_issuer(IssuerKind kind, std::shared_ptr<OnlineCa> online, OnlineCaParams params);
  IssuerKind issuer() const;

  // --- CA modes (capf-protocol.md §11) ---
  /// Checks the phone's CSR (it parses, its signature verifies, its key is the PUBLIC_KEY the
  /// phone sent and the kind asked for) and stores it `pending`; the device's older unanswered
  /// CSRs become `stale`. One durable write.
  Result<CsrRecord> accept_csr(const std::string& device, std::span<const std::uint8_t> csr_der,
                               std::span<const std::uint8_t> public_key, const KeySpec& requested, IssuerKind issuer);
  /// Online CA: one submission, or one poll when the CA holds the CSR under a handle; records
  /// the outcome durably (the `submitting` mark is written before the request leaves). One
  /// caller at a time per CSR: while the CA worker or a phone's session works a CSR, another
  /// call for it returns at once, waiting, so the CA never receives it twice.
  OnlineStep work_online(const std::string& csr_id);
  /// The session ends with the CSR waiting for the CA: the device's job moves to pending-ca.
  void deferred(const std::string& device, const CsrRecord& csr);
  /// A certificate an external CA issued for `csr`: checks that it carries the CSR's key, the
  /// device's name, digitalSignature + keyEncipherment and a current validity, then records it
  /// `issued` (certificate record + CSR) in one durable write. `chain` is kept for the record.
  Result<crypto::Certificate> accept_ca_certificate(const CsrRecord& csr, const std::string& pem);
  /// Online CSRs the worker owns: waiting ones (pending, submitted). At start one full scan
  /// finds them, and the ones a crash left `submitting`: their outcome is unknown, so they are
  /// not sent again; they end `rejected` (needs an administrator) and their device's job is
  /// told. Later rounds read only the CSRs known to be with the Online CA.
  std::vector<CsrRecord> online_work(bool at_start);
  /// The newest CSR of a device, if any.
  std::optional<CsrRecord> latest_csr(const std::string& device) const;
  /// The CSR with this id, if it is stored and reads.
  std::optional<CsrRecord> csr_by_id(const std::string& id) const;

 private:
  Decision authenticate_locked(Device& d, const protocol::AuthResponse& auth, std::uint32_t session_id);
  Result<void> check_certificate_auth(const Device& d, const protocol::AuthResponse& auth);
  Result<void> persist(store::Transition t);
  /// What a failed session leaves on its device: `mark` sets the reason (and any count) on the
  /// device, still in progress, and says whether the job may retry and the audit action.
  struct FailureMark {
    bool retryable = true;
    const char* action = "session.failed";
  };
  void record_failed(const std::string& device, const std::function<FailureMark(Device&)>& mark);
  /// Tells the hook (when the device belongs to a job) and adds its record to `t`; call before
  /// the device itself is added, since the hook may change it.
  void notify(store::Transition& t, Device& d, SessionEvent::Kind kind, const std::string& reason,
              bool retryable = true, const std::string& serial = "");
  void audit(store::Transition& t, const std::string& actor, const std::string& action, const std::string& subject,
             const std::string& detail);

  Decision ca_mode_decision(const Device& d);
  void csr_failed(const CsrRecord& csr, CaErrorClass cls, const std::string& reason);
  std::shared_ptr<const crypto::TrustStore> trust() const;

  store::Store& store_;
  const crypto::CertificateAuthority& ca_;
  mutable std::mutex config_mutex_;
  std::shared_ptr<const crypto::TrustStore> trust_;
  std::atomic<int> validity_days_;
  std::atomic<int> keygen_attempts_{3};
  IssuerKind issuer_ = IssuerKind::capf;
  std::shared_ptr<OnlineCa> online_;
  OnlineCaParams online_params_;
  std::set<std::string> online_ids_;  ///< CSRs with the Online CA (pending, submitting, submitted)
  std::set<std::string> online_working_;  ///< CSRs inside work_online now
  const util::Clock& clock_;
  std::mutex mutex_;
  std::set<std::string> claimed_;  ///< devices with a session in progress
  SessionHook* hook_ = nullptr;
};

/// The keys to ask for, in the device's Key Order.
std::vector<KeySpec> key_plan(const Device& d);

}  // namespace capf::server
