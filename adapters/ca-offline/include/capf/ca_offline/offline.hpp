// The Offline CA ("Certificate Issuer to Endpoint" = Offline CA): phones' CSRs go out to
// another team's CA in numbered export rounds, and the certificates it signs come back through
// an import that matches each one to its CSR by public key. Also the listings that go with
// external CAs: pending CSRs and stale LSCs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capf/core/csr.hpp"
#include "capf/core/device.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::offline {

/// One export round (store family `rounds`, keyed by the zero-padded number).
struct Round {
  int number = 0;
  util::UnixTime created_at = 0;
  std::size_t count = 0;
  std::string directory;  ///< "<out>/round-NNN"
  bool again = false;     ///< re-exported CSRs that were still unanswered
  std::string actor;
};
std::string encode_round(const Round& r);
Result<Round> decode_round(std::string_view json);

/// One CSR as it goes out.
struct ExportedCsr {
  std::string id;      ///< SHA-256 of the CSR DER, hex
  std::string device;
  std::string job;
  std::string key;     ///< "RSA-2048"
  util::UnixTime created_at = 0;
  std::string file;    ///< file name inside the round directory: "<device>.csr.pem"
  std::string pem;
};

struct ExportResult {
  Round round;                   ///< number 0 when there was nothing to export
  std::vector<ExportedCsr> csrs;
};

/// Picks every Offline CA CSR in state pending that is in no round yet (with `again`: every
/// pending one, exported or not) and records them as the next round — the round record and
/// each CSR's `round` in one transition, audited. CSRs stay pending until answered. Nothing to
/// export → round.number 0 and nothing written.
Result<ExportResult> record_export(store::Store& store, const std::string& out_dir, bool again,
                                   const std::string& actor, util::UnixTime now);

/// The manifest of a round: CSV (device,job,csr_sha256,created_at,key,file) and JSON.
std::string manifest_csv(const ExportResult& r);
std::string manifest_json(const ExportResult& r);

/// Writes a round's files into r.round.directory (created 0755): one PEM per CSR, then
/// manifest.csv and manifest.json last, so a manifest means the round is complete.
Result<void> write_round_files(const ExportResult& r);

/// Every round, oldest first.
Result<std::vector<Round>> list_rounds(const store::Store& store);

/// A file handed to the import.
struct InputFile {
  std::string name;  ///< as the administrator named it (path)
  std::vector<std::uint8_t> data;
};

/// One problem of the import: which file, which certificate, why.
struct Problem {
  std::string file;
  std::string subject;  ///< "" when the file could not be read as certificates
  std::string reason;
};

struct ImportReport {
  std::size_t imported = 0;
  std::size_t already = 0;   ///< the same certificate was imported before (harmless)
  std::size_t failed = 0;    ///< certificates (or unreadable files) refused
  std::vector<Problem> problems;
  std::vector<std::string> devices;                         ///< devices whose certificate arrived
  std::vector<std::pair<std::string, std::string>> issued;  ///< (device, serial) imported now
};

/// Imports signed certificates: each end-entity certificate in the files is matched to an
/// Offline CA CSR by public key (SHA-256 of the SubjectPublicKeyInfo), and must chain to
/// `capf_trust` (CA certificates from the same file may serve as intermediates), carry
/// keyUsage digitalSignature + keyEncipherment, be valid at `now`, and name the device as its
/// Common Name. Accepted: CertificateRecord (issued) + CSR issued with its serial + an audit
/// entry, `batch` certificates per transition. Refused: reported, and the reason kept on the
/// device's pending CSR (its `error`) when the certificate could be tied to one. Errors only
/// for store failures (certificates of earlier batches are then already in; importing again
/// is harmless).
Result<ImportReport> import_certificates(store::Store& store, const crypto::TrustStore& capf_trust,
                                         const std::vector<InputFile>& files, const std::string& actor,
                                         util::UnixTime now, std::size_t batch = 1000);

/// Expands files and directories (recursively, in name order) into file paths; a path that
/// does not exist is an error naming it.
Result<std::vector<std::string>> expand_paths(const std::vector<std::string>& paths);

/// CSRs of any issuer, oldest first; `state` nullopt = every state.
Result<std::vector<CsrRecord>> list_csrs(const store::Store& store, std::optional<CsrState> state);

/// Certificates in state stale (issued in answer to a CSR, superseded before delivery).
Result<std::vector<CertificateRecord>> stale_lscs(const store::Store& store);
/// Removes every stale LSC record in one transition with an audit entry each; returns them.
Result<std::vector<CertificateRecord>> delete_stale_lscs(store::Store& store, const std::string& actor,
                                                         util::UnixTime now);

}  // namespace capf::offline
