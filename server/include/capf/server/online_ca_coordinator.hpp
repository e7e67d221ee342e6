// The Online CA coordinator (capf-protocol.md §11): sends a phone's CSR or polls for it, one
// caller per CSR at a time, records the CA's answers in the CSR ledger, accepts issued
// certificates by the one rule for CA-issued LSCs (crypto/lsc_rule.hpp) and follows up the
// CSRs left with the CA. A CSR's changes are made under its device's claim; no claim or
// lock is held while the CA is asked.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "capf/core/breaker.hpp"
#include "capf/core/csr.hpp"
#include "capf/core/issuer.hpp"
#include "capf/core/service_params.hpp"
#include "capf/core/session_hook.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::server {

/// What became of a CSR after one exchange with the online CA.
struct OnlineStep {
  std::optional<crypto::Certificate> certificate;  ///< issued and recorded
  std::optional<CertificateRecord> record;         ///< … as it was recorded
  bool waiting = false;                            ///< still with the CA (pending, or retry later)
  std::string reason;                              ///< in words, for the log
};

class OnlineCaCoordinator {
 public:
  /// `trust` returns CAPF-trust as it is now (every issued certificate must chain to it).
  OnlineCaCoordinator(store::Store& store, const util::Clock& clock,
                      std::function<std::shared_ptr<const crypto::TrustStore>()> trust);

  /// The Online CA and its timing parameters (nullptr: none configured).
  void configure(std::shared_ptr<OnlineCa> online, OnlineCaParams params);
  /// The daemon's breakers (docs/arch/breakers.md): retryable failures of the Online CA in a row,
  /// across devices, open its breaker; while it is open only one CSR at a time (the probe) goes
  /// to the CA, the others wait with their tries not counted, and the first answer closes it.
  /// Without breakers (tests, the CLI) every CSR goes.
  void set_breakers(std::shared_ptr<Breakers> breakers, BreakerSettings settings);
  /// The configured CA's name ("adcs", "cfssl"), "" when none.
  std::string ca_name() const;
  void set_hook(SessionHook* hook) { hook_ = hook; }

  /// A new Online CA CSR to follow.
  void track(const std::string& csr_id);
  /// One submission, or one poll when the CA holds the CSR under a handle; records the outcome
  /// durably (the `submitting` mark is durable before the request leaves). One caller at a
  /// time per CSR: another call for it returns at once, waiting, so the CA never receives it
  /// twice. A certificate that breaks the acceptance rule rejects the CSR with the reason.
  OnlineStep work(const std::string& csr_id);
  /// CSRs due for work: at start one full scan finds the waiting ones, and the ones a crash
  /// left `submitting` (their outcome is unknown, so they are not sent again: they end
  /// `rejected`, needs an administrator, and their device's job is told). Later rounds read
  /// only the CSRs known to be with the Online CA.
  std::vector<CsrRecord> due(bool at_start);

  /// Checks `pem` (with `chain_pem`, the CA's intermediates) by the acceptance rule against
  /// `csr`, then records it `issued` (certificate record + CSR) in one durable write. The
  /// caller holds the device's claim.
  Result<std::pair<crypto::Certificate, CertificateRecord>> accept(CsrRecord& csr, const std::string& pem,
                                                                   const std::vector<std::string>& chain_pem);

 private:
  /// The CSR ends `rejected` with `cls` and `reason`; its device's job is told. Claims the device.
  void fail(const CsrRecord& csr, CaErrorClass cls, const std::string& reason);
  /// The same, with the device's claim held by the caller.
  void fail_claimed(CsrRecord csr, CaErrorClass cls, const std::string& reason);
  /// Records one answer of the CA; the caller holds the device's claim.
  OnlineStep record_answer(CsrRecord& csr, const CaOutcome& answer, const OnlineCaParams& params, bool given_back);
  /// Tells the breaker of one answer; true when a retryable failure is the outage's, not the CSR's.
  bool note_answer(Breakers* breakers, const std::string& device, const CaOutcome& answer);

  store::Store& store_;
  store::CsrLedger ledger_;
  const util::Clock& clock_;
  std::function<std::shared_ptr<const crypto::TrustStore>()> trust_;
  mutable std::mutex mutex_;
  std::shared_ptr<OnlineCa> online_;
  OnlineCaParams params_;
  std::set<std::string> tracked_;  ///< CSRs with the Online CA (pending, submitting, submitted)
  std::set<std::string> working_;  ///< CSRs inside work() now
  SessionHook* hook_ = nullptr;
  std::shared_ptr<Breakers> breakers_;
  BreakerSettings breaker_settings_;
};

}  // namespace capf::server
