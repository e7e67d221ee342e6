// The trust stores an administrator manages (the seed's "Certificate Purpose"): CAPF-trust,
// which CAPF verifies phones' existing certificates and external CAs' certificates against,
// and CallManager-trust, kept for the call-control side. Entries live in the store's trust
// family, keyed "<store>/<SHA-256 fingerprint>".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::trust {

/// Which trust store ("Certificate Purpose").
enum class Kind : std::uint8_t { capf_trust, callmanager_trust };
/// "CAPF-trust", "CallManager-trust".
std::string_view to_string(Kind k);
/// Case-insensitive: "capf-trust", "callmanager-trust" (also "capf", "callmanager").
std::optional<Kind> parse_kind(std::string_view text);

/// How an entry got there.
enum class Origin : std::uint8_t {
  upload,    ///< `capf trust upload`
  mic_root,  ///< a manufacturer root given to `capf serve --mic-root` (deletable; re-added by upload)
};
std::string_view to_string(Origin o);

/// One trusted certificate in one store.
struct Entry {
  std::string id;           ///< first 16 hex digits of the fingerprint
  Kind store = Kind::capf_trust;
  std::string subject;      ///< RFC 2253
  std::string issuer;
  std::string serial;       ///< lower-case hex
  util::UnixTime not_before = 0;
  util::UnixTime not_after = 0;
  std::string fingerprint;  ///< SHA-256 of the DER, lower-case hex
  bool ca = false;          ///< basicConstraints CA:TRUE
  std::string description;
  std::string pem;
  util::UnixTime added_at = 0;
  std::string added_by;
  Origin origin = Origin::upload;
};

/// JSON text of an entry and back.
std::string encode_entry(const Entry& e);
Result<Entry> decode_entry(std::string_view json);
/// Store key of an entry: "CAPF-trust/<fingerprint>".
std::string entry_key(Kind k, const std::string& fingerprint);

/// The common name fragment the seed reserves for CAPF's own certificates.
inline constexpr std::string_view kReservedCn = "CAPF-";

/// What an upload did.
struct UploadResult {
  std::vector<Entry> added;
  std::vector<Entry> already;       ///< in this store before: left as they were
  std::vector<std::string> notes;   ///< the seed's advice (e.g. "upload the root to callmanager-trust too")
};

/// Uploads one certificate or a chain (PEM bundle, DER, PKCS#7) with a description, in one
/// write with an audit entry. The whole file is refused (Errc::invalid_argument, nothing
/// written) when it holds no certificate, a certificate is expired or not yet valid at `now`,
/// or a CA certificate's Common Name contains "CAPF-" (reserved for CAPF certificates).
/// Certificates already in the store are left alone ("already").
Result<UploadResult> upload(store::Store& store, Kind kind, crypto::ByteView file, const std::string& description,
                            const std::string& actor, util::UnixTime now);

/// Entries of one store or both, in store then subject order.
Result<std::vector<Entry>> list(const store::Store& store, std::optional<Kind> kind = std::nullopt);

/// Deletes the entry whose id (or full fingerprint) is `id`, from `kind` or whichever store
/// holds it; audited. Errors: not_found; invalid_argument when both stores hold it and no
/// store was named.
Result<Entry> remove(store::Store& store, const std::string& id, std::optional<Kind> kind, const std::string& actor,
                     util::UnixTime now);

/// Puts the daemon's MIC roots into CAPF-trust (origin mic-root) the first time each is seen;
/// a root an administrator deleted stays deleted across restarts (a meta marker remembers it
/// was seeded). Returns how many were added.
Result<std::size_t> add_mic_roots(store::Store& store, const std::vector<crypto::Certificate>& roots,
                                  util::UnixTime now);

/// One of the MIC roots the seed names, found in a trust store, with the seed's advice for it.
struct SeedMicRoot {
  std::string name;    ///< as the seed names it: "CAP-RTP-001", "CAP-RTP-002", "Cisco_Manufacturing_CA", "Cisco_Root_CA_2048"
  std::string advice;  ///< what the seed says to do with it in this store
};

/// The seed's MIC root an entry is, recognised by the Common Name of its subject (any case, '_'
/// and ' ' alike: "Cisco Manufacturing CA" is Cisco_Manufacturing_CA), or nullopt.
std::optional<SeedMicRoot> seed_mic_root(const Entry& e);

/// The certificates of one store.
Result<std::vector<crypto::Certificate>> certificates(const store::Store& store, Kind kind);

/// What the daemon verifies phones' existing certificates against: every CAPF-trust entry
/// plus the CAPF CA (when given).
Result<crypto::TrustStore> capf_trust(const store::Store& store, const crypto::Certificate* capf_ca = nullptr);

}  // namespace capf::trust
