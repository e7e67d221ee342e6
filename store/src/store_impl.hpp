// Private to store/src: the RocksDB handles behind Store, the column family table and the
// key layouts. Nothing outside store/src includes this file.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capf/store/store.hpp"

namespace capf::store {

/// Column families, in the order of Impl::cf. "default" must exist in every RocksDB.
// clang-format off
enum class Cf : std::size_t {
  default_, devices, certificates, certs_by_device, audit, meta, jobs, job_devices,
  // Families of documents (store::Family, same order).
  csrs, trust, params, templates, policies, rounds, csr_by_device,
  // An LSC's DER under its serial, written once when it is issued (schema 3).
  certificate_der, count_
};
// clang-format on
/// Column family of a document family.
inline Cf family_cf(Family f) {
  return static_cast<Cf>(static_cast<std::size_t>(Cf::csrs) + static_cast<std::size_t>(f));
}

/// Names of the column families, indexed by Cf; the one place they are declared.
// clang-format off
inline constexpr std::array<std::string_view, static_cast<std::size_t>(Cf::count_)> kCfNames{
    "default", "devices", "certificates", "certs_by_device", "audit", "meta", "jobs", "job_devices",
    "csrs", "trust", "params", "templates", "policies", "rounds", "csr_by_device", "certificate_der"};
// clang-format on

/// Meta key holding the value-encoding version of the whole store.
inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
/// Meta key holding the first audit sequence number not yet handed out by any process.
inline constexpr std::string_view kMetaAuditReserved = "audit_sequence_reserved";

/// The state behind a Store.
struct Store::Impl {
  std::string path;
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<std::size_t>(Cf::count_)> cf{};

  /// Next audit sequence number to hand out.
  std::atomic<std::uint64_t> next_audit_seq{1};
  /// Sequence numbers below this are durably reserved in meta; guarded by reserve_mutex.
  std::atomic<std::uint64_t> audit_reserved{1};
  std::mutex reserve_mutex;

  ClaimTable claims;
  /// Set only when opened with OpenOptions::statistics.
  std::shared_ptr<rocksdb::Statistics> statistics;
  std::function<void(const Transition&)> before_write;  ///< OpenOptions::before_write

  /// Handle of a column family.
  rocksdb::ColumnFamilyHandle* handle(Cf c) const { return cf[static_cast<std::size_t>(c)]; }

  /// Closes the database; safe to call twice.
  void close();
  ~Impl() { close(); }
};

/// Writes `devices` (and the audit entries, already keyed and encoded) as sorted table files
/// under `<store>/bulk` and ingests them into their column families in one atomic step.
Result<void> ingest(Store::Impl& impl, const DeviceBatch& devices,
                    const std::vector<std::pair<std::string, std::string>>& audit);
/// Removes table files a crashed ingest left under `<store>/bulk`.
void remove_bulk_leftovers(const std::string& store_path);

/// Name of a column family, for messages.
inline std::string cf_name(Cf c) {
  return std::string(kCfNames[static_cast<std::size_t>(c)]);
}

/// Audit key: 8-byte big-endian time then 8-byte big-endian sequence.
std::string audit_key(std::int64_t time, std::uint64_t seq);
/// Sequence part of an audit key; 0 when the key is not 16 bytes.
std::uint64_t audit_key_seq(std::string_view key);

/// certs_by_device key: device, NUL, serial.
std::string device_index_key(std::string_view device, std::string_view serial);

/// job_devices key: job id, NUL, device name.
std::string job_device_key(std::string_view job, std::string_view device);

/// Printable form of a key for messages: as is when printable, else hex.
std::string printable_key(std::string_view key);

/// An Errc::io error for a failed RocksDB call on the store at `path`.
Error status_error(const std::string& path, std::string_view doing, const rocksdb::Status& s);

/// An Errc::io error for a stored value that does not decode.
Error decode_error(const std::string& path, Cf c, std::string_view key, const Error& e);

}  // namespace capf::store
