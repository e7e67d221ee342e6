// CSRs on their way through an external CA (Online CA, Offline CA): what capf keeps about each,
// from the phone's key generation until the certificate is delivered to the phone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf {

/// Where one CSR is.
enum class CsrState : std::uint8_t {
  pending,     ///< stored; waiting for the CA (offline: export/import; online: first submission)
  submitting,  ///< online: written before the request leaves; after a crash its outcome is unknown
  submitted,   ///< online: the CA holds it under `handle` (pending approval); poll it
  issued,      ///< the certificate arrived; waiting for the phone's next session to take it
  delivered,   ///< final: the phone stored the certificate
  rejected,    ///< final: the CA denied it, or it needs an administrator (see error_class)
  stale,       ///< final: the device made a newer CSR before this one was answered
};
std::string_view to_string(CsrState s);
std::optional<CsrState> parse_csr_state(std::string_view s);
/// delivered, rejected, stale.
bool is_final(CsrState s);

/// What happens to a CSR on its way (the CSR ledger's events).
enum class CsrEvent : std::uint8_t {
  sending,     ///< online: the request is about to leave (durable before it does)
  held,        ///< online: the CA holds it for approval under a handle
  retry,       ///< online: a transient failure; it is tried again later
  issued,      ///< a certificate for it arrived and passed the acceptance rule
  rejected,    ///< the CA denied it, it needs an administrator, or its certificate broke the rule
  delivered,   ///< the phone stored its certificate
  superseded,  ///< the device made a newer CSR before this one was delivered
};
std::string_view to_string(CsrEvent e);
/// The CSR state machine, pure (table in tests/core/csr_fsm_test.cpp): the state `from` goes
/// to on `e`, or Errc::invalid_argument naming both when `e` cannot happen in `from` (a final
/// CSR never moves again).
Result<CsrState> next_csr_state(CsrState from, CsrEvent e);

/// How an external CA's failure is to be handled (CRAFT.md's adapter error classes).
enum class CaErrorClass : std::uint8_t {
  none,         ///< no error
  retryable,    ///< transient: 5xx, timeouts, refused connections, "RPC unavailable"; back off and retry
  needs_admin,  ///< configuration or credentials (401, TLS/host name, template); no retry loop
  permanent,    ///< the CA denied this request; a new CSR is needed
  internal,     ///< capf's own fault (unreadable answer, store error)
};
std::string_view to_string(CaErrorClass c);
std::optional<CaErrorClass> parse_ca_error_class(std::string_view s);

/// One CSR and its journey. Keyed in the store by `id` (lower-case hex SHA-256 of the DER).
struct CsrRecord {
  std::string id;          ///< SHA-256 of csr_der, hex
  std::string device;
  std::string job;         ///< job that armed the device, "" if none
  IssuerKind issuer = IssuerKind::offline_ca;
  std::string key;         ///< "RSA-2048"
  std::string csr_der_hex;
  std::string spki_sha256; ///< SHA-256 of the CSR's SubjectPublicKeyInfo DER, hex (matching on import)
  util::UnixTime created_at = 0;
  util::UnixTime updated_at = 0;
  CsrState state = CsrState::pending;
  int round = 0;           ///< offline export round it went out in; 0 = not exported yet
  std::string handle;      ///< online CA's request id ("ReqID"), "" until it gave one
  std::string ca;          ///< which online CA ("adcs", "cfssl"), "" for offline
  int submissions = 0;     ///< requests that carried this CSR to the CA
  int attempts = 0;        ///< failed tries in a row (transient errors)
  util::UnixTime next_try_at = 0;  ///< online: not before this (backoff, poll interval)
  CaErrorClass error_class = CaErrorClass::none;
  std::string error;       ///< last error in words (never a secret)
  std::string serial;      ///< serial of the certificate issued for it, once issued
};

/// JSON text of a record and back (for the store's csrs family). Decoding names the missing
/// or mistyped field.
std::string encode_csr(const CsrRecord& r);
Result<CsrRecord> decode_csr(std::string_view json);

}  // namespace capf
