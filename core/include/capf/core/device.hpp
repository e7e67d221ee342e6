// Value types kept in the store: devices, certificate records, audit entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/util/time.hpp"

namespace capf {

/// What a certificate on a phone is, by the type the phone gave it (capf-protocol.md §3).
enum class PhoneCertificateKind : std::uint8_t {
  lsc,      ///< Locally Significant Certificate
  mic,      ///< Manufacturer Installed Certificate
  unknown,  ///< the phone did not say
};
/// "LSC", "MIC", "unknown".
std::string_view to_string(PhoneCertificateKind k);
std::optional<PhoneCertificateKind> parse_phone_certificate_kind(std::string_view s);

/// A certificate a phone showed CAPF: one its last Troubleshoot returned, or the MIC it
/// presented at authentication (By Existing Certificate).
struct PhoneCertificate {
  PhoneCertificateKind kind = PhoneCertificateKind::unknown;
  bool at_authentication = false;  ///< presented at authentication, not returned by Troubleshoot
  util::UnixTime retrieved_at = 0;
  std::vector<std::uint8_t> der;   ///< the certificate; parsed as X.509 before it was kept
  /// Same kind, source, time and bytes.
  friend bool operator==(const PhoneCertificate&, const PhoneCertificate&) = default;
};

/// Troubleshoot keeps at most this many certificates of one answer; the rest are refused.
inline constexpr std::size_t kMaxTroubleshootCertificates = 4;
/// A certificate a phone shows is kept only up to this many DER bytes (the protocol's element
/// limit, capf-protocol.md §11.3).
inline constexpr std::size_t kMaxPhoneCertificateBytes = 8192;

/// A phone or other endpoint and its CAPF settings ("Certification Authority Proxy Function
/// (CAPF) Information" of the phone configuration page).
struct Device {
  std::string name;              ///< SEP + 12 hex digits, or another endpoint name
  std::string description;
  std::string device_type;       ///< e.g. "Cisco 8841"
  std::string device_pool;       ///< e.g. "DP-HQ"
  std::string security_profile;  ///< e.g. "Cisco 8841 - Standard SIP Non-Secure Profile"
  /// "Device Security Mode" of that profile: from the CSV column, `phone set --security-mode`,
  /// or derived from the profile name (security_mode_from_profile) when neither gives it.
  SecurityMode security_mode = SecurityMode::non_secure;

  CertificateOperation operation = CertificateOperation::none;
  AuthMode auth_mode = AuthMode::null_string;
  /// Stored in the 0700 data directory so CAPF can compare it; never logged or printed.
  std::string auth_string;
  int rsa_key_bits = 2048;
  KeyOrder key_order = KeyOrder::rsa_only;
  int ec_key_bits = 256;
  std::optional<util::UnixTime> completes_by;  ///< "Operation Completes By"
  std::string ipv4;
  std::string ipv6;

  OperationStatus status = OperationStatus::none;
  std::string status_reason;      ///< why it failed, in words
  int auth_failures = 0;          ///< consecutive wrong authentication strings
  /// Sessions of this operation in which the phone could make none of the keys asked for; at
  /// the "Maximum Allowable Attempts for Key Generation" the operation is given up until re-armed.
  int keygen_failures = 0;
  util::UnixTime last_seen = 0;   ///< last CAPF session, 0 if never

  std::string lsc_serial;         ///< hex serial of the LSC on the phone, empty if none
  std::string lsc_issuer;         ///< issuer DN of that LSC
  util::UnixTime lsc_not_after = 0;
  /// Troubleshoot's one certificate, as builds before issue 19 kept it; cleared by the next
  /// Troubleshoot, which fills phone_certificates instead.
  std::string fetched_cert_pem;
  /// The certificates of the last Troubleshoot (at most kMaxTroubleshootCertificates), then the
  /// MIC the phone last presented at authentication (at most one).
  std::vector<PhoneCertificate> phone_certificates;

  util::UnixTime updated_at = 0;
  std::string job_id;             ///< the job whose operation is armed, empty if none

  /// True when the device has an operation waiting for the phone.
  bool armed() const { return operation != CertificateOperation::none; }
};

/// Where an issued certificate is in its life.
enum class CertificateState : std::uint8_t {
  issued,     ///< signed, not yet confirmed stored on the phone
  delivered,  ///< the phone confirmed it stored the certificate
  stale,      ///< issued but superseded before delivery
  replaced,   ///< was delivered, later replaced by a newer LSC
  deleted,    ///< removed from the phone by a Delete operation
  revoked,    ///< revoked by an administrator
};
std::string_view to_string(CertificateState s);
std::optional<CertificateState> parse_certificate_state(std::string_view s);

/// Store meta key prefix of a revocation: "revocation/<serial>" holds its reason and time, and
/// its presence is what makes an LSC revoked for queries (lsc_status = revoked).
inline constexpr std::string_view kRevocationMetaPrefix = "revocation/";

/// One certificate CAPF issued (keyed by serial).
struct CertificateRecord {
  std::string serial;     ///< lower-case hex
  std::string device;
  std::string issuer;     ///< issuer DN
  std::string key;        ///< "RSA-2048", "EC-P256"
  util::UnixTime issued_at = 0;
  util::UnixTime delivered_at = 0;  ///< 0 until delivered
  util::UnixTime not_after = 0;
  CertificateState state = CertificateState::issued;
  std::string der_hex;    ///< the certificate itself (hex DER), for re-delivery and export
};

/// One line of the audit trail: who did what, when.
struct AuditEntry {
  util::UnixTime time = 0;
  std::string actor;   ///< "admin", "phone:SEP…", "daemon"
  std::string action;  ///< "phones.import", "lsc.issued", "auth.failed", …
  std::string subject; ///< device name, serial, file …
  std::string detail;  ///< free text; never secrets
};

}  // namespace capf
