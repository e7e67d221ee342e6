// Typed CAPF messages on top of wire.hpp: build what the server and phone send, parse what
// they receive, with an error that names the missing or malformed element.
#pragma once

#include <optional>
#include <string>

#include "capf/protocol/wire.hpp"

namespace capf::protocol {

/// 1 AUTH_REQUEST (server → phone).
struct AuthRequest {
  std::uint8_t version = kServerVersion;
  std::optional<WireAuthType> auth_type = WireAuthType::unspecified;  ///< CUCM omits it
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const AuthRequest&, const AuthRequest&) = default;
};
Message build(const AuthRequest& m, std::uint32_t session_id);
Result<AuthRequest> parse_auth_request(const Message& m);

/// 2 AUTH_RESPONSE (phone → server).
struct AuthResponse {
  std::uint8_t version = kServerVersion;
  std::string device_name;
  std::optional<std::uint8_t> reason = 1;
  std::optional<std::string> password;       ///< absent for Jabber-style clients
  std::optional<Bytes> certificate_der;      ///< existing-certificate authentication
  std::optional<Bytes> signed_data;          ///< SHA-1 signature
  std::optional<Sha2Signature> sha2_signed;  ///< SHA-512 signature
  std::optional<SudiData> sudi;
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const AuthResponse&, const AuthResponse&) = default;
};
Message build(const AuthResponse& m, std::uint32_t session_id);
/// Requires VERSION in 1–3 and a non-empty DEVICE_NAME; everything else optional.
Result<AuthResponse> parse_auth_response(const Message& m);

/// 3 KEY_GENERATE_REQUEST (server → phone).
struct KeyGenerateRequest {
  WireKeyType key_type = WireKeyType::rsa;
  std::uint16_t key_size = 2048;  ///< RSA
  WireCurve curve = WireCurve::p256;  ///< EC
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const KeyGenerateRequest&, const KeyGenerateRequest&) = default;
};
Message build(const KeyGenerateRequest& m, std::uint32_t session_id);
/// KEY_TYPE absent means RSA (CUCM).
Result<KeyGenerateRequest> parse_key_generate_request(const Message& m);

/// 4 KEY_GENERATE_RESPONSE (phone → server).
struct KeyGenerateResponse {
  std::optional<Bytes> public_key;  ///< SPKI DER, or a DER PKCS#10 (§11.1)
  std::optional<std::uint8_t> reason;
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const KeyGenerateResponse&, const KeyGenerateResponse&) = default;
};
Message build(const KeyGenerateResponse& m, std::uint32_t session_id);
Result<KeyGenerateResponse> parse_key_generate_response(const Message& m);

/// 9 STORE_CERTIFICATE_REQUEST (server → phone).
struct StoreCertificateRequest {
  CertificateType type = CertificateType::lsc;
  Bytes certificate_der;
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const StoreCertificateRequest&, const StoreCertificateRequest&) = default;
};
Message build(const StoreCertificateRequest& m, std::uint32_t session_id);
Result<StoreCertificateRequest> parse_store_certificate_request(const Message& m);

/// 10/12/14 responses carrying a REASON (and for 12 maybe a certificate).
struct CertificateResponse {
  std::uint8_t reason = 1;
  std::optional<Bytes> certificate_der;  ///< FETCH only
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const CertificateResponse&, const CertificateResponse&) = default;
};
Message build_store_response(const CertificateResponse& m, std::uint32_t session_id);
Message build_fetch_response(const CertificateResponse& m, std::uint32_t session_id);
Message build_delete_response(const CertificateResponse& m, std::uint32_t session_id);
/// REASON absent → error; CERTIFICATE malformed → error.
Result<CertificateResponse> parse_certificate_response(const Message& m);

/// 11 FETCH / 13 DELETE requests and 17 REQUEST_IN_PROGRESS have empty bodies.
Message build_empty(Command c, std::uint32_t session_id);

/// 15 END_SESSION.
Message build_end_session(Reason reason, std::uint32_t session_id);
Result<Reason> parse_end_session(const Message& m);

/// 22 SIGN_CERTIFICATE_REQUEST {CSR_SUBJECT = DER Name} (§11.1).
Message build_sign_request(ByteView subject_der, std::uint32_t session_id);
Result<Bytes> parse_sign_request(const Message& m);
/// 23 SIGN_CERTIFICATE_RESPONSE {REASON, CSR}.
struct SignResponse {
  std::uint8_t reason = 1;
  std::optional<Bytes> csr_der;
  /// Field-wise equality (tests and round-trip checks).
  friend bool operator==(const SignResponse&, const SignResponse&) = default;
};
Message build(const SignResponse& m, std::uint32_t session_id);
Result<SignResponse> parse_sign_response(const Message& m);

}  // namespace capf::protocol
