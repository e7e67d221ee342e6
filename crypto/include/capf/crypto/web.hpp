// What the web dashboard needs from OpenSSL: an HTTPS server certificate signed by the CAPF
// CA, and salted password hashes (PBKDF2-HMAC-SHA256) for its users.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/crypto.hpp"

namespace capf::crypto {

/// A certificate with its private key, both PEM (the key PKCS#8, unencrypted: 0600 files only).
struct IssuedIdentity {
  std::string cert_pem;  ///< the leaf followed by the issuing CA
  std::string key_pem;
};

/// Issues a TLS server certificate from `ca` for a fresh EC P-256 key: CN = first DNS name (or
/// first IP), subjectAltName DNS:`dns_names` and IP:`ip_addresses` (IPv4 or IPv6 literals),
/// EKU serverAuth, keyUsage digitalSignature, valid from now-5 min for `validity_days`.
/// Names must be plain host names ([A-Za-z0-9.-]); an error names a bad one.
Result<IssuedIdentity> issue_tls_server_identity(const CertificateAuthority& ca, const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses, int validity_days,
                                                 util::UnixTime now);

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, `iterations` rounds, `length` bytes.
Result<Bytes> pbkdf2_sha256(std::string_view password, ByteView salt, int iterations, std::size_t length);

}  // namespace capf::crypto
