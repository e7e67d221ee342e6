// Certificates as administrators hand them over (PEM, DER, PKCS#7 bundles), CSRs as PEM for an
// offline CA, base64 for carrying files through the admin API, and a general certificate
// builder for test PKIs (wrong key usage, expired, intermediate CAs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"

namespace capf::crypto {

/// Every certificate in a file's bytes, whatever its form: PEM (CERTIFICATE and PKCS7 blocks,
/// other blocks skipped), DER X.509, or DER PKCS#7 (a "certs-only" .p7b/.p7c). Errors
/// (Errc::crypto) say which forms were tried, e.g. "not a PEM, DER or PKCS#7 certificate file".
Result<std::vector<Certificate>> certificates_from_bytes(ByteView data);

/// A DER PKCS#7 "certs-only" bundle holding `certs` (what `openssl crl2pkcs7 -nocrl` writes).
Result<Bytes> pkcs7_der(const std::vector<Certificate>& certs);

/// "-----BEGIN CERTIFICATE REQUEST-----" text of a DER PKCS#10 request.
std::string csr_pem(ByteView der);

// base64_encode / base64_decode: capf/crypto/codec.hpp (one implementation for the whole project).

/// What to put in a certificate built by issue_certificate.
struct IssueRequest {
  std::string common_name;
  std::string organization;                 ///< "" → no O
  ByteView subject_public_key;              ///< DER SubjectPublicKeyInfo
  util::UnixTime not_before = 0;
  util::UnixTime not_after = 0;
  bool ca = false;                          ///< basicConstraints CA:TRUE (no path length)
  std::string key_usage;                    ///< OpenSSL config text, e.g. "critical,digitalSignature"; "" → none
  std::string ext_key_usage;                ///< e.g. "serverAuth,clientAuth"; "" → none
};

/// Builds a certificate signed by `issuer` (its key signs; its subject is the issuer name), or
/// self-signed when `issuer` is null and `self_key` is given. SHA-256, random 128-bit serial,
/// SKI and AKI. Meant for test PKIs and tools; capf's own LSCs come from CertificateAuthority.
Result<Certificate> issue_certificate(const IssueRequest& request, const CertificateAuthority* issuer,
                                      const PrivateKey* self_key = nullptr);

}  // namespace capf::crypto
