// Existing-certificate authentication refuses a revoked or expired certificate (issue 6,
// certificate monitoring and revocation). Kept out of enrollment.cpp: one call from there.
#pragma once

#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::server {

/// Meta key holding the revocation details ({"reason", "time", "actor"}) of an LSC; written by
/// `capf lsc revoke` (monitor/), read here for the refusal's wording.
std::string revocation_meta_key(const std::string& serial_hex);

/// An error (Errc::auth_failed) naming why `cert` may not authenticate at `now`: it is past its
/// notAfter (any certificate, MIC or LSC), or it is an LSC this CAPF issued (same serial and
/// same DER in the certificate records, whichever CAPF CA signed it) that was revoked.
Result<void> check_not_revoked_or_expired(const store::Store& store, const crypto::Certificate& cert,
                                          util::UnixTime now);

}  // namespace capf::server
