// What the daemon records for a phone during a CAPF session, kept apart from the wire so the
// flows read in one place: each step claims the device (one owner per device), reads its
// current record, applies the session decision (session_decision.hpp) or the phone's answer,
// and writes — durably only where the write guards the next action. No service-wide lock is
// held across a write. The steps of an enrollment (authenticate, issue, delivered) never wait
// for the disk: they write `Sync::later`, run on the session's I/O thread, and the session
// waits for the group commit of its I/O loop's turn (group_sync.hpp) before the action the
// write guards. The other methods write synced and may wait on the network (CA modes): they
// run on the worker pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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
#include "capf/server/online_ca_coordinator.hpp"
#include "capf/server/session_decision.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::server {

/// An LSC on its way to the phone, as recorded: the certificate and its record.
struct IssuedLsc {
  crypto::Certificate certificate;
  CertificateRecord record;
  bool from_csr = false;  ///< CA modes: the CSR it answered is marked delivered with it
};

/// The session steps of CAPF sessions and what they record.
class EnrollmentService {
 public:
  EnrollmentService(store::Store& store, const crypto::CertificateAuthority& ca, crypto::TrustStore capf_trust,
                    int validity_days, const util::Clock& clock);

  /// Decides after AUTH_RESPONSE (decide_auth) on the current device record: deadline,
  /// lockout, the armed Authentication Mode. A wrong string is counted exactly under the
  /// device's claim, however many sessions send one at once, and durably once the caller's
  /// sync_wal() follows (`Decision::await_durable`). On kinds install/fetch/delete/deliver the
  /// device is held for this session until release().
  Decision authenticate(const protocol::AuthResponse& auth, std::uint32_t session_id);

  /// Issues an LSC for the key the phone returned (SPKI DER, or a PKCS#10 CSR) after checking it
  /// is the key that was asked for; records the certificate as issued, and any earlier
  /// undelivered one as stale, in one `Sync::later` write: the caller syncs before
  /// STORE_CERTIFICATE_REQUEST.
  Result<IssuedLsc> issue(const std::string& device, std::span<const std::uint8_t> public_key,
                          const KeySpec& requested);

  /// The phone answered STORE_CERTIFICATE_RESPONSE with `reason` (a `Sync::later` write: the
  /// caller syncs before it ends the session).
  void delivered(const std::string& device, const IssuedLsc& lsc, std::uint8_t reason);
  /// The phone answered FETCH_CERTIFICATE_RESPONSE (Troubleshoot). Its certificates replace
  /// the last Troubleshoot's on the device, each by its type (LSC, MIC, unknown) with the time;
  /// at most kMaxTroubleshootCertificates of at most kMaxPhoneCertificateBytes that parse as
  /// X.509 are kept, the rest refused with a log line. No certificate at all ends the
  /// operation done, "no certificate on the phone"; only certificates that were all refused
  /// fail it.
  void fetched(const std::string& device, const protocol::FetchResponse& answer);
  /// The phone answered DELETE_CERTIFICATE_RESPONSE.
  void deleted(const std::string& device, std::uint8_t reason);
  /// The session failed before the operation completed; the operation stays armed.
  void failed(const std::string& device, const std::string& reason);
  /// The phone could make none of the keys it was asked for (`tried` names them). Counts the
  /// failure; at the "Maximum Allowable Attempts for Key Generation" the operation is given up
  /// (the job is told not to retry) and later sessions are refused until it is re-armed.
  void keygen_failed(const std::string& device, const std::string& tried);
  /// Ends this session's hold on the device.
  void release(const std::string& device);
  /// Makes every write so far durable (store::Store::sync_wal): one fdatasync.
  Result<void> sync_wal() { return store_.sync_wal(); }
  /// The job engine's hook; its job-device records go into the same writes. Set before serving.
  void set_hook(SessionHook* hook);

  /// CAPF-trust as it is now (existing-certificate authentication, CA-issued LSCs); safe while sessions run.
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
  /// CSR becomes `stale`. One durable write.
  Result<CsrRecord> accept_csr(const std::string& device, std::span<const std::uint8_t> csr_der,
                               std::span<const std::uint8_t> public_key, const KeySpec& requested, IssuerKind issuer);
  /// The session ends with the CSR waiting for the CA: the device's job moves to pending-ca.
  void deferred(const std::string& device, const CsrRecord& csr);
  /// The Online CA coordinator (the session sends its CSR once through it; the CA worker follows up).
  OnlineCaCoordinator& online() { return online_; }
  /// The CSR ledger over this store.
  const store::CsrLedger& csrs() const { return ledger_; }

 private:
  /// Fills the facts decide_auth asks for, one at a time, and returns its final row.
  /// A MIC that passed existing-certificate authentication is put into `presented_mic`.
  AuthRow decide(const Device& d, const protocol::AuthResponse& auth, Decision& out,
                 std::optional<PhoneCertificate>& presented_mic);
  /// Applies a final row to the device and writes it; the caller holds the device's claim.
  Decision apply(Device& d, const AuthRow& row, Decision decision, std::uint32_t session_id,
                 std::optional<PhoneCertificate> presented_mic);
  /// Checks existing-certificate authentication; on success says whether the certificate was
  /// a MIC (not an LSC recorded for this device), to be kept on the device.
  Result<bool> check_certificate_auth(const Device& d, const protocol::AuthResponse& auth);
  CaStep ca_step(const Device& d, Decision& out);
  /// What a failed session leaves on its device: `mark` sets the reason (and any count) on the
  /// device, still in progress, and says whether the job may retry and the audit action.
  struct FailureMark {
    bool retryable = true;
    const char* action = "session.failed";
  };
  void record_failed(const std::string& device, const std::function<FailureMark(Device&)>& mark);
  /// Claims `device`, reads it and calls `fn` with the current record and a transition to fill;
  /// writes the transition (synced unless `fn` says otherwise) when `fn` returns true.
  void update(const std::string& device, const std::function<bool(Device&, store::Transition&)>& fn,
              store::Sync sync = store::Sync::yes);
  std::shared_ptr<const crypto::TrustStore> trust() const;
  bool busy(const std::string& device);

  store::Store& store_;
  store::CsrLedger ledger_;
  const crypto::CertificateAuthority& ca_;
  mutable std::mutex config_mutex_;
  std::shared_ptr<const crypto::TrustStore> trust_;
  std::atomic<int> validity_days_;
  std::atomic<int> keygen_attempts_{3};
  IssuerKind issuer_ = IssuerKind::capf;
  const util::Clock& clock_;
  OnlineCaCoordinator online_;
  std::mutex sessions_mutex_;
  std::set<std::string> in_session_;  ///< devices with a session in progress
  SessionHook* hook_ = nullptr;
};

/// The keys to ask for, in the device's Key Order.
std::vector<KeySpec> key_plan(const Device& d);

}  // namespace capf::server
