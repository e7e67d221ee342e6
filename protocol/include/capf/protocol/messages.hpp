// Typed CAPF messages on top of wire.hpp: build what the server and phone send, parse what
// they receive, with an error that names the missing or malformed element.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/protocol/wire.hpp"

namespace capf::protocol {

/// 1 AUTH_REQUEST (server → phone).
struct AuthRequest {
  std::uint8_t version = kServerVersion;                              ///< VERSION (tag 7)
  std::optional<WireAuthType> auth_type = WireAuthType::unspecified;  ///< CUCM omits it
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const AuthRequest&, const AuthRequest&) = default;
};
/// VERSION, then AUTH_TYPE when set (§9: `07 0001 03  08 0001 00`).
Message build(const AuthRequest& m, std::uint32_t session_id);
/// Requires VERSION (any value); AUTH_TYPE optional, any value kept.
Result<AuthRequest> parse_auth_request(const Message& m);

/// 2 AUTH_RESPONSE (phone → server).
struct AuthResponse {
  std::uint8_t version = kServerVersion;     ///< VERSION (tag 7), 1–3 accepted
  std::string device_name;                   ///< DEVICE_NAME without its NUL, e.g. "SEP001122334455"
  std::optional<std::uint8_t> reason = 1;    ///< REASON; 1 = "update certificate"
  std::optional<std::string> password;       ///< absent for Jabber-style clients
  std::optional<Bytes> certificate_der;      ///< existing-certificate authentication
  std::optional<Bytes> signed_data;          ///< SHA-1 signature
  std::optional<Sha2Signature> sha2_signed;  ///< SHA-512 signature
  std::optional<SudiData> sudi;              ///< SUDI_DATA (§5.3)
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const AuthResponse&, const AuthResponse&) = default;
};
/// §9 order: VERSION, DEVICE_NAME, REASON, PASSWORD, then CERTIFICATE (wrapped as LSC),
/// SIGNED_DATA, SUDI_DATA, SHA2_SIGNED_DATA; optional fields only when set.
Message build(const AuthResponse& m, std::uint32_t session_id);
/// Requires VERSION in 1–3 and a non-empty DEVICE_NAME; everything else optional.
/// A DEVICE_NAME with an embedded NUL, or a present but malformed element, is an error.
Result<AuthResponse> parse_auth_response(const Message& m);

/// 3 KEY_GENERATE_REQUEST (server → phone).
struct KeyGenerateRequest {
  WireKeyType key_type = WireKeyType::rsa;  ///< KEY_TYPE (tag 17)
  std::uint16_t key_size = 2048;            ///< RSA
  WireCurve curve = WireCurve::p256;        ///< EC
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const KeyGenerateRequest&, const KeyGenerateRequest&) = default;
};
/// The request for a key of `spec`: RSA and its size, or EC and its curve.
KeyGenerateRequest key_generate_request(const KeySpec& spec);
/// RSA: KEY_SIZE, KEY_TYPE(0) (`0a 0002 0800  11 0001 00`); EC: KEY_TYPE(1), CURVE.
Message build(const KeyGenerateRequest& m, std::uint32_t session_id);
/// KEY_TYPE absent means RSA (CUCM). RSA needs a non-zero KEY_SIZE, EC a CURVE 0–2; the
/// fields of the other key type are not read and keep their defaults.
Result<KeyGenerateRequest> parse_key_generate_request(const Message& m);

/// 4 KEY_GENERATE_RESPONSE (phone → server).
struct KeyGenerateResponse {
  std::optional<Bytes> public_key;     ///< SPKI DER, or a DER PKCS#10 (§11.1)
  std::optional<std::uint8_t> reason;  ///< REASON, usually absent on success
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const KeyGenerateResponse&, const KeyGenerateResponse&) = default;
};
/// REASON (when set), then PUBLIC_KEY (when set).
Message build(const KeyGenerateResponse& m, std::uint32_t session_id);
/// Both elements optional (a phone that failed sends no key); an empty PUBLIC_KEY is an error.
Result<KeyGenerateResponse> parse_key_generate_response(const Message& m);

/// 9 STORE_CERTIFICATE_REQUEST (server → phone).
struct StoreCertificateRequest {
  CertificateType type = CertificateType::lsc;  ///< CERTIFICATE_TYPE, also written into the wrap
  Bytes certificate_der;                        ///< unwrapped DER
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const StoreCertificateRequest&, const StoreCertificateRequest&) = default;
};
/// CERTIFICATE_TYPE, then CERTIFICATE = wrap(DER, type) (§9).
Message build(const StoreCertificateRequest& m, std::uint32_t session_id);
/// Requires CERTIFICATE; CERTIFICATE_TYPE absent means LSC, values other than 1/2 are errors.
Result<StoreCertificateRequest> parse_store_certificate_request(const Message& m);

/// 10/12/14 responses carrying a REASON (and for 12 maybe a certificate).
struct CertificateResponse {
  std::uint8_t reason = 1;               ///< REASON; 1 = done
  std::optional<Bytes> certificate_der;  ///< FETCH only
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const CertificateResponse&, const CertificateResponse&) = default;
};
/// 10 STORE_CERTIFICATE_RESPONSE {REASON}; certificate_der is ignored.
Message build_store_response(const CertificateResponse& m, std::uint32_t session_id);
/// 12 FETCH_CERTIFICATE_RESPONSE {REASON [, CERTIFICATE]}.
Message build_fetch_response(const CertificateResponse& m, std::uint32_t session_id);
/// 14 DELETE_CERTIFICATE_RESPONSE {REASON}; certificate_der is ignored.
Message build_delete_response(const CertificateResponse& m, std::uint32_t session_id);
/// Accepts commands 10, 12 and 14. REASON absent → error; CERTIFICATE malformed → error.
/// CERTIFICATE is read for 12 only.
Result<CertificateResponse> parse_certificate_response(const Message& m);

/// One certificate in a FETCH_CERTIFICATE_RESPONSE.
struct FetchedCertificate {
  /// 1 = LSC, 2 = MIC (the record's inner type, else a CERTIFICATE_TYPE element before it);
  /// 0 when neither says.
  std::uint8_t type = 0;
  Bytes der;  ///< non-empty; not checked to be a certificate here
  /// Same type and bytes.
  friend bool operator==(const FetchedCertificate&, const FetchedCertificate&) = default;
};
/// 12 FETCH_CERTIFICATE_RESPONSE as Troubleshoot reads it: every certificate the phone returned.
struct FetchResponse {
  std::optional<std::uint8_t> reason;            ///< REASON; absent is allowed
  std::vector<FetchedCertificate> certificates;  ///< in wire order
  /// What was skipped and why ("CERTIFICATE (tag 4) #2: 4 trailing bytes"), for the log; a
  /// rebuilt message has none, so equality ignores it.
  std::vector<std::string> skipped;
  /// Same reason and certificates.
  friend bool operator==(const FetchResponse& a, const FetchResponse& b) {
    return a.reason == b.reason && a.certificates == b.certificates;
  }
};
/// REASON (when set), then one CERTIFICATE element per certificate, wrapped with its type.
Message build(const FetchResponse& m, std::uint32_t session_id);
/// Lenient, because how a phone returns a MIC, or two certificates, is not confirmed
/// (capf-protocol.md §3, §5.5): every CERTIFICATE element is read; one element may hold several
/// wrapped records back to back; a value starting with 0x30 is taken as a bare DER certificate
/// (type 0); the inner type u16 1/2 names LSC/MIC, else a preceding CERTIFICATE_TYPE element
/// does. A record whose lengths do not fit is skipped with its reason in `skipped`, never an
/// error. Only a malformed REASON is an error.
Result<FetchResponse> parse_fetch_response(const Message& m);

/// 11 FETCH / 13 DELETE requests and 17 REQUEST_IN_PROGRESS have empty bodies.
Message build_empty(Command c, std::uint32_t session_id);

/// 15 END_SESSION {REASON}.
Message build_end_session(Reason reason, std::uint32_t session_id);
/// Requires REASON; values outside §6 are passed through.
Result<Reason> parse_end_session(const Message& m);

/// 22 SIGN_CERTIFICATE_REQUEST {CSR_SUBJECT = DER Name} (§11.1).
Message build_sign_request(ByteView subject_der, std::uint32_t session_id);
/// The CSR_SUBJECT bytes; missing or empty is an error.
Result<Bytes> parse_sign_request(const Message& m);
/// 23 SIGN_CERTIFICATE_RESPONSE {REASON, CSR}.
struct SignResponse {
  std::uint8_t reason = 1;       ///< REASON; ≠ 1 when the phone cannot make a CSR
  std::optional<Bytes> csr_der;  ///< CSR (tag 22), DER PKCS#10
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const SignResponse&, const SignResponse&) = default;
};
/// REASON, then CSR when set.
Message build(const SignResponse& m, std::uint32_t session_id);
/// REASON absent reads as 1; reason 1 requires a non-empty CSR.
Result<SignResponse> parse_sign_response(const Message& m);

}  // namespace capf::protocol
