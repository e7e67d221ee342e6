// The one rule by which capf accepts a certificate an external CA (Online CA or Offline CA)
// issued as a phone's LSC. A certificate that breaks it is never recorded or delivered.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/crypto.hpp"

namespace capf::crypto {

/// What can be checked without the request it answers: within its validity at `now`, key
/// usage digitalSignature + keyEncipherment (phones need both), and a chain to CAPF-trust
/// (`intermediates`, e.g. those the CA sent with it, help build the chain). The error
/// (Errc::crypto) says which part failed, in words an administrator can act on.
Result<void> check_ca_lsc(const Certificate& lsc, const TrustStore& capf_trust,
                          const std::vector<Certificate>& intermediates, util::UnixTime now);

/// What the rule needs of a certificate to match it to its request.
struct LscIdentity {
  std::string cn;           ///< subject Common Name
  std::string spki_sha256;  ///< SHA-256 of its SubjectPublicKeyInfo DER, lower-case hex
};
LscIdentity identity_of(const Certificate& lsc);

/// What needs the request: the certificate carries the request's key (the CSR's
/// `spki_sha256`) and names the device (CN, case-insensitive).
Result<void> check_lsc_answers(const LscIdentity& lsc, std::string_view csr_spki_sha256, std::string_view device);

/// The whole rule: check_ca_lsc, then check_lsc_answers.
Result<void> accept_ca_lsc(const Certificate& lsc, std::string_view csr_spki_sha256, std::string_view device,
                           const TrustStore& capf_trust, const std::vector<Certificate>& intermediates,
                           util::UnixTime now);

}  // namespace capf::crypto
