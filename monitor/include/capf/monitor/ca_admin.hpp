// The CAPF CA's lifecycle as an administrator sees it: regenerate it, list retired CAs, find
// the phones whose LSC a retired CA issued, and revoke LSCs with a CRL per CA.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/crypto/ca_lifecycle.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::monitor {

/// Store meta key: JSON array of the subjects (RFC 2253, as Certificate::subject()) of every
/// retired CAPF CA, oldest first. Other layers (renewal policies) read it.
inline constexpr const char* kRetiredSubjectsKey = "retired_ca_subjects";
/// Store meta key prefix of a CA's current CRL: "crl/<ca serial>" → {"number", "this_update",
/// "next_update", "der_hex", "issuer"}.
inline constexpr const char* kCrlKeyPrefix = "crl/";
/// How long a CRL is valid (nextUpdate − thisUpdate); the monitor re-signs it at half-life.
inline constexpr util::UnixTime kCrlValiditySeconds = 7 * 86400;

/// The retired subjects from the store ([] when none).
Result<std::vector<std::string>> retired_subjects(const store::Store& store);

/// "rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384" (also "rsa2048", "p256", …).
Result<KeySpec> parse_ca_key(const std::string& text);

/// What regenerate() did.
struct RegenerateResult {
  std::string old_subject, old_serial;
  std::string new_subject, new_serial, new_key, new_not_after;
  std::string retired_pem;
};

/// Creates a new CAPF CA in `ca_dir` (the old one kept in ca_dir/retired/), records the old
/// subject in kRetiredSubjectsKey and audits "ca.regenerated", all recorded in one transition
/// after the files are in place.
Result<RegenerateResult> regenerate(store::Store& store, const std::string& ca_dir, const KeySpec& key,
                                    const std::string& actor, const util::Clock& clock);

/// Devices holding an LSC (lsc_serial set) whose issuer is a retired CAPF CA's subject.
Result<std::vector<Device>> phones_on_old(const store::Store& store);
/// The job query selecting those devices: lsc_issuer in ("…", …); "" when no CA was retired.
std::string phones_on_old_query(const std::vector<std::string>& subjects);

/// The CA (current or retired, from ca_dir) whose subject is `issuer_subject`; not_found if
/// none of them.
Result<crypto::CertificateAuthority> signer_for(const std::string& ca_dir, const std::string& issuer_subject);

/// A CA's current CRL as kept in the store.
struct CrlState {
  std::string ca_serial;
  std::string issuer;
  std::uint64_t number = 0;
  util::UnixTime this_update = 0, next_update = 0;
  crypto::Bytes der;
  std::size_t revoked = 0;
};

/// What revoke() did.
struct RevokeResult {
  CertificateRecord record;
  CrlState crl;
};

/// Marks LSC `serial` revoked, keeps its reason and time (meta "revocation/<serial>"),
/// re-signs the CRL of the CA that issued it and audits "lsc.revoked", in one transition.
/// Errors: unknown serial (not_found), already revoked (already_exists), the issuing CA's
/// key is gone (not_found).
Result<RevokeResult> revoke(store::Store& store, const std::string& ca_dir, const std::string& serial,
                            crypto::RevocationReason reason, const std::string& actor, const util::Clock& clock);

/// What revoke_expired() did.
struct ExpiredRevocations {
  std::vector<CertificateRecord> revoked;  ///< as they are now (state revoked)
  std::vector<std::string> errors;         ///< per issuing CA that could not sign (its key is gone, …)
};

/// The seed's "revoke the certificates after expiration": every delivered LSC past its notAfter
/// is revoked (reason cessationOfOperation, actor `actor`), one transition and one new CRL per
/// issuing CA. Used by the certificate monitor when `revoke-expired-lscs` is on.
Result<ExpiredRevocations> revoke_expired(store::Store& store, const std::string& ca_dir, const std::string& actor,
                                          util::UnixTime now);

/// The CRL of CA `ca_serial` ("" = the current CAPF CA); signed afresh (and stored) when there
/// is none yet or, with `refresh`, when less than half its validity is left.
Result<CrlState> crl_of(store::Store& store, const std::string& ca_dir, const std::string& ca_serial, bool refresh,
                        const util::Clock& clock);

}  // namespace capf::monitor
