// The CAPF CA's life on disk (regeneration, retired CAs) and the CRL it signs. Kept apart from
// crypto.hpp so the certificate-monitoring work does not collide with the CA modes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/crypto.hpp"

namespace capf::crypto {

/// Loads `dir/capf-ca.pem` + `dir/capf-ca.key` and never creates them: Errc::not_found when the
/// CA was never created (start `capf serve` once).
Result<CertificateAuthority> load_ca(const std::string& dir);

/// A retired CAPF CA kept in `dir/retired/<serial>.{pem,key}`.
struct RetiredCa {
  Certificate certificate;
  std::string pem_path;
};

/// What regenerate_ca did.
struct Regenerated {
  CertificateAuthority old_ca;
  CertificateAuthority new_ca;
  std::string retired_pem_path;  ///< where the old CA's certificate now lives
};

/// Creates a new CAPF CA in `dir` and keeps the current one as `dir/retired/<serial>.pem`
/// (0644) and `.key` (0600). The retired copies are written before the new CA replaces the
/// current files, so a crash never loses the old key. Errors: no current CA (not_found),
/// unsupported options (invalid_argument), file errors (io), each naming the file.
Result<Regenerated> regenerate_ca(const std::string& dir, const CaOptions& options);

/// The retired CAs in `dir/retired`, oldest file name first; a missing directory is none.
/// An unreadable file is an error naming it.
Result<std::vector<RetiredCa>> retired_cas(const std::string& dir);

/// Removes `dir/retired/<serial>.{pem,key}`; Errc::not_found when there is no such retired CA.
Result<void> delete_retired_ca(const std::string& dir, const std::string& serial_hex);

/// CRL reason codes (RFC 5280 §5.3.1).
enum class RevocationReason : std::uint8_t {
  unspecified = 0,
  key_compromise = 1,
  ca_compromise = 2,
  affiliation_changed = 3,
  superseded = 4,
  cessation_of_operation = 5,
  certificate_hold = 6,
  privilege_withdrawn = 9,
};
/// "keyCompromise", … (the RFC 5280 / openssl names).
std::string_view to_string(RevocationReason r);
/// Accepts the RFC names case-insensitively and kebab-case ("key-compromise").
std::optional<RevocationReason> parse_revocation_reason(std::string_view text);
/// Every accepted name, for usage texts.
std::string revocation_reason_names();

/// One revoked certificate in a CRL.
struct RevokedEntry {
  std::string serial_hex;  ///< lower-case hex as in Certificate::serial_hex()
  util::UnixTime revoked_at = 0;
  RevocationReason reason = RevocationReason::unspecified;
};

/// A version-2 CRL signed by `ca` with SHA-256: issuer = the CA's subject, thisUpdate,
/// nextUpdate, cRLNumber and authorityKeyIdentifier extensions, one entry per revoked
/// certificate with its reasonCode (omitted for "unspecified", as RFC 5280 asks). Returns DER.
Result<Bytes> make_crl(const CertificateAuthority& ca, const std::vector<RevokedEntry>& revoked,
                       std::uint64_t crl_number, util::UnixTime this_update, util::UnixTime next_update);
/// PEM ("-----BEGIN X509 CRL-----") of a DER CRL.
std::string crl_pem(ByteView der);

}  // namespace capf::crypto
