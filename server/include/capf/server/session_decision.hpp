// What a CAPF session does after AUTH_RESPONSE, as a pure decision over facts about the
// device (table in tests/server/session_decision_test.cpp). EnrollmentService gathers the
// facts under the device's claim, asks decide_auth, and applies the row it gets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/issuer.hpp"
#include "capf/core/session_hook.hpp"

namespace capf::server {

/// What the session does after AUTH_RESPONSE.
struct Decision {
  enum class Kind {
    end_no_action,  ///< END_SESSION reason 0 (nothing scheduled, expired)
    end_unknown,    ///< END_SESSION reason 9
    end_refused,    ///< END_SESSION reason 7
    install,        ///< key generation, then store
    fetch,          ///< FETCH_CERTIFICATE_REQUEST
    delete_lsc,     ///< DELETE_CERTIFICATE_REQUEST
    deliver,        ///< CA modes: STORE_CERTIFICATE_REQUEST with the LSC the CA issued for the stored CSR
  };
  Kind kind = Kind::end_refused;
  std::string device;
  std::vector<KeySpec> key_plan;                ///< install: keys to ask for, in Key Order
  std::string reason;                           ///< for the log (never a secret)
  std::vector<std::uint8_t> certificate_der{};  ///< deliver: the LSC
  CertificateRecord lsc_record{};               ///< deliver: its record
  IssuerKind issuer = IssuerKind::capf;         ///< install: who signs (CA modes ask the phone for a CSR)
  bool await_durable = false;                   ///< the decision's write must be synced before the phone is answered
};

/// The phone's credentials against the armed Authentication Mode.
enum class Credentials {
  unchecked,  ///< not looked at yet
  valid,
  wrong_string,  ///< Authentication String mode: missing or wrong string (counted; locks at the limit)
  refused,       ///< existing-certificate modes: the certificate or its signature did not pass
};

/// CA modes, for an install: where the device's newest CSR stands.
enum class CaStep {
  unknown,  ///< not looked at yet
  none,     ///< CAPF signs, or no open CSR: ask the phone for a new key
  deliver,  ///< a certificate the CA issued waits for the phone
  wait,     ///< the CSR of this operation is still with the CA
};

/// What is known when the session decides.
struct AuthFacts {
  bool known = true;             ///< the device exists
  bool busy = false;             ///< another session holds the device
  bool armed = false;            ///< a Certificate Operation is set
  bool deadline_passed = false;  ///< Operation Completes By is past
  bool keygen_given_up = false;  ///< an install reached the Maximum Allowable Attempts for Key Generation
  bool locked = false;           ///< locked after kMaxAuthFailures wrong strings
  int auth_failures = 0;         ///< wrong strings in a row before this attempt
  CertificateOperation operation = CertificateOperation::none;
  Credentials credentials = Credentials::unchecked;
  CaStep ca = CaStep::unknown;
};

/// The verdicts, one per row of the table.
enum class Verdict {
  check_credentials,  ///< not final: fill AuthFacts::credentials and decide again
  look_up_csr,        ///< not final: fill AuthFacts::ca and decide again
  unknown_device,
  busy,
  idle,  ///< nothing armed
  expired,
  keygen_given_up,
  locked,
  wrong_string,  ///< counted; `locks` says whether this one reaches the limit
  credentials_refused,
  wait_for_ca,
  proceed,
};

/// One row: what the session says, what the device record gets, and how it is written.
struct AuthRow {
  Verdict verdict = Verdict::check_credentials;
  Decision::Kind kind = Decision::Kind::end_refused;
  bool write = false;      ///< the device record (last_seen at least) is written
  bool synced = false;     ///< … durably before the phone hears the answer
  bool locks = false;      ///< wrong_string: this attempt reaches kMaxAuthFailures
  bool has_event = false;  ///< the job engine is told `event`
  SessionEvent::Kind event = SessionEvent::Kind::started;
  bool retryable = true;   ///< for a failed event: may the job try again
  const char* audit = "";  ///< the audit action, "" for none
};

/// The decision table. Input that only an unauthenticated phone controls never costs a synced
/// write: only a counted wrong string is written durably before the phone is answered (the
/// lockout must survive a crash); idle, expired and refused sessions are written unsynced, so
/// they reach the disk with the next synced write. An authenticated session's start is not
/// synced either: the write that guards the next action (the LSC before
/// STORE_CERTIFICATE_REQUEST) is.
AuthRow decide_auth(const AuthFacts& f);

std::string_view to_string(Verdict v);

}  // namespace capf::server
