// The only RocksDB user. Devices, certificates, audit trail and metadata live in their own
// column families; every transition is one synced WriteBatch (RocksDB groups concurrent
// synced writers into one fsync). No rocksdb:: type leaves store/src.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/job.hpp"
#include "capf/store/claims.hpp"
#include "capf/util/result.hpp"

namespace capf::store {

/// Record families other layers define and encode themselves (as JSON text): the store keeps
/// them in their own column families, behind the same schema byte, written in the same
/// atomic transitions as everything else.
enum class Family : std::uint8_t {
  csrs,           ///< CSRs sent or to be sent to an external CA, keyed by CSR SHA-256
  trust,          ///< CAPF-trust and CallManager-trust entries
  params,         ///< service parameters
  templates,      ///< device templates
  policies,       ///< renewal policies
  rounds,         ///< offline CA export rounds
  csr_by_device,  ///< device name → id of its newest CSR (kept by the CAPF service)
};
/// "csrs", "trust", … (the column family name).
std::string_view family_name(Family f);

/// One document to write.
struct Doc {
  Family family = Family::csrs;
  std::string key;
  std::string json;  ///< the encoded record; the store does not look inside
};

/// Everything one state change writes, applied atomically and durably. Device deletes are
/// applied before device puts, so a name in both ends up present. Deleting a device keeps its
/// certificates. Audit entries get a store-assigned sequence, so equal times keep their order.
struct Transition {
  std::vector<Device> put_devices;
  std::vector<std::string> delete_devices;
  /// A record's DER is stored apart from it: a put with der_hex writes it, a put without keeps
  /// the DER stored under that serial (a change of state need not carry the certificate).
  std::vector<CertificateRecord> put_certificates;
  /// Serials of certificate records to remove with their by-device index entry (the stale-LSC
  /// clean-up); applied before put_certificates. An unknown serial is no error.
  std::vector<std::string> delete_certificates;
  std::vector<AuditEntry> audit;
  std::vector<Job> put_jobs;
  std::vector<JobDevice> put_job_devices;
  /// Metadata keys to set (e.g. "session_counter"); the store's own keys ("schema_version",
  /// "audit_sequence_reserved") are refused.
  std::vector<std::pair<std::string, std::string>> put_meta;
  /// Metadata keys to remove (applied before put_meta); an unknown key is no error.
  std::vector<std::string> delete_meta;
  /// Documents of the families above; deletes are applied before puts.
  std::vector<Doc> put_docs;
  std::vector<std::pair<Family, std::string>> delete_docs;
};

/// Durability of a write. `later`: written as `no`; its writer must not act on it before a
/// sync_wal() that started after it returned.
enum class Sync : std::uint8_t { no, yes, later };

/// Many devices for one bulk write (a CSV import of a whole site), each encoded as it is
/// added, so that the caller need not hold them all as Device objects. A later device of the
/// same name replaces an earlier one, as later puts do in one transition.
class DeviceBatch {
 public:
  /// Encodes `d`. A device with an empty name is refused (Errc::invalid_argument) and not added.
  Result<void> add(const Device& d);
  /// Room for `devices` devices of about `bytes` encoded bytes in all.
  void reserve(std::size_t devices, std::size_t bytes);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  /// Name and encoded value of the i-th device added.
  std::string_view key(std::size_t i) const { return {data_.data() + entries_[i].offset, entries_[i].key_size}; }
  std::string_view value(std::size_t i) const {
    return {data_.data() + entries_[i].offset + entries_[i].key_size, entries_[i].value_size};
  }

 private:
  struct Entry {
    std::size_t offset = 0;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
  };
  std::string data_;  ///< key then value of every device, back to back
  std::vector<Entry> entries_;
  std::string scratch_;
};

/// Devices in one import from which the store writes table files and ingests them (RocksDB's
/// bulk-load route: no write-ahead log or memtable copy) instead of one WriteBatch.
inline constexpr std::size_t kIngestMinimumDevices = 4096;

/// Current value-encoding version; the first byte of every stored value. Version 2 stores a
/// device as a binary record (version 1 device values, JSON, still decode); every other value
/// is JSON in both. Version 3 keeps an LSC's DER apart from its record, written once when the
/// LSC is issued, so that each change of its state rewrites a few hundred bytes, not the
/// certificate (records of earlier versions, DER inside, still decode).
inline constexpr std::uint8_t kSchemaVersion = 3;

/// How a store is opened. The defaults are the daemon's; the rest is for tests and `capf bench`.
struct OpenOptions {
  /// Count writes, write groups and WAL syncs (write_stats()). Off by default: no cost.
  bool statistics = false;
  /// Called by apply() with each transition, after it is checked and before it is written: a
  /// test holds one writer here to make concurrent writes land in the order it wants.
  std::function<void(const Transition&)> before_write;
};

/// Counters of RocksDB's write path since the store was opened (OpenOptions::statistics).
/// Concurrent writers are grouped: one leader writes a group's batches and syncs the WAL once.
struct WriteStats {
  std::uint64_t writes = 0;        ///< WriteBatches written (each apply() is one)
  std::uint64_t write_groups = 0;  ///< groups they were written in (one leader each)
  std::uint64_t wal_syncs = 0;     ///< WAL syncs: one per group that held a synced write
};

class Store {
 public:
  /// Opens (creating if needed, the directory with mode 0700) the database at `path`; one
  /// process at a time. Fails with Errc::io and a clear message when another process holds
  /// it or its schema version is newer than this build understands.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  static Result<std::unique_ptr<Store>> open(const std::string& path, const OpenOptions& options);
  ~Store();

  /// Applies a transition as one WriteBatch; `Sync::yes` returns only once it is on disk.
  /// Safe to call from many threads at once. An empty device name or serial, a certificate
  /// whose device name is empty or holds a NUL byte, or a reserved meta key is refused with
  /// Errc::invalid_argument, and nothing is written.
  Result<void> apply(const Transition& t, Sync sync = Sync::yes);
  /// Applies `devices` and `t` as one atomic, durable unit, as apply() of a transition that
  /// puts the devices first would. From kIngestMinimumDevices devices on, when `t` holds
  /// nothing but audit entries, they are written as sorted table files and ingested in one
  /// step: after a crash either all of them are in the store or none is.
  Result<void> apply(const DeviceBatch& devices, const Transition& t, Sync sync = Sync::yes);

  /// The device called `name`, or nullopt when there is none.
  Result<std::optional<Device>> get_device(const std::string& name) const;
  /// The devices among `names` that exist, each with its index in `names`, in index order: one
  /// batched read for an import that looks up every row (and usually finds few).
  Result<std::vector<std::pair<std::size_t, Device>>> find_devices(const std::vector<std::string_view>& names) const;
  /// Calls `fn` for every device in name order; stop early by returning false. The Device is
  /// decoded into one object for the whole scan: copy it to keep it past the call.
  Result<void> for_each_device(const std::function<bool(const Device&)>& fn) const;
  /// Number of devices (a full key scan; not for hot paths).
  Result<std::size_t> count_devices() const;
  /// A cursor over the devices: calls `fn` for every device whose name sorts after `after`
  /// (byte order; "" = from the first) in name order, so a listing's next page costs its own
  /// records only. Stop early by returning false.
  Result<void> for_each_device_after(std::string_view after, const std::function<bool(const Device&)>& fn) const;

  /// The certificate with this serial, or nullopt when there is none.
  Result<std::optional<CertificateRecord>> get_certificate(const std::string& serial) const;
  /// Calls `fn` for every certificate in serial order; stop early by returning false.
  Result<void> for_each_certificate(const std::function<bool(const CertificateRecord&)>& fn) const;
  /// Every certificate ever issued to `device` (including deleted devices), in serial order,
  /// read through the certs_by_device index.
  Result<std::vector<CertificateRecord>> certificates_of(const std::string& device) const;
  /// Only those of `device`'s certificates in `state` (an LSC issued and not yet delivered, the
  /// delivered one), without their DER (der_hex empty unless the record is older than schema 3):
  /// for a change of state, which keeps the stored DER. The index entry carries each record's
  /// state, so the device's other certificates are not read: issuing must not cost a decode of
  /// the device's whole history.
  Result<std::vector<CertificateRecord>> certificates_of(const std::string& device, CertificateState state) const;

  /// Audit entries, oldest first; with `limit` > 0, only the newest `limit` of them (still
  /// oldest first, like `tail`); 0 means all.
  Result<std::vector<AuditEntry>> list_audit(std::size_t limit = 0) const;
  /// A cursor over the audit trail, newest first: calls `fn(entry, position)` for every entry
  /// older than `before` (a position an earlier call handed out, "" = from the newest) and not
  /// older than `since`. A position is printable text; one the store never handed out is
  /// refused with Errc::invalid_argument. Stop early by returning false.
  Result<void> for_each_audit_before(const std::string& before, util::UnixTime since,
                                     const std::function<bool(const AuditEntry&, const std::string&)>& fn) const;
  /// Entries not older than `since` (0 = all), counted from their keys alone.
  Result<std::size_t> count_audit(util::UnixTime since = 0) const;

  /// A metadata value, or nullopt when the key was never set.
  Result<std::optional<Job>> get_job(const std::string& id) const;
  /// Every job in id order.
  Result<void> for_each_job(const std::function<bool(const Job&)>& fn) const;
  /// Every device of a job, in device-name order.
  Result<void> for_each_job_device(const std::string& job, const std::function<bool(const JobDevice&)>& fn) const;
  /// A cursor over a job's devices: those whose name sorts after `after` ("" = from the first).
  Result<void> for_each_job_device_after(const std::string& job, std::string_view after,
                                         const std::function<bool(const JobDevice&)>& fn) const;
  Result<std::optional<JobDevice>> get_job_device(const std::string& job, const std::string& device) const;

  Result<std::optional<std::string>> get_meta(const std::string& key) const;
  /// Calls `fn(key, value)` for every metadata key starting with `prefix`, in key order.
  Result<void> for_each_meta(std::string_view prefix,
                             const std::function<bool(const std::string&, const std::string&)>& fn) const;

  /// A document's JSON text, or nullopt when there is none.
  Result<std::optional<std::string>> get_doc(Family family, const std::string& key) const;
  /// Calls `fn(key, json)` for every document of `family` whose key starts with `prefix`, in
  /// key order; stop early by returning false.
  Result<void> for_each_doc(Family family, const std::string& prefix,
                            const std::function<bool(const std::string&, const std::string&)>& fn) const;

  /// The write path's counters; Errc::invalid_argument unless opened with
  /// OpenOptions::statistics.
  Result<WriteStats> write_stats() const;

  /// Path the store was opened at.
  const std::string& path() const;

  /// Makes every write finished before the call durable (one fdatasync of the write-ahead log):
  /// the group commit of `Sync::later` writes, called once for all writers waiting.
  Result<void> sync_wal();

  /// The claims on this store's devices (one owner per device; claims.hpp). Every
  /// read-modify-write of a device's records in this process claims it first.
  ClaimTable& claims() const;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Value encoding (a schema-version byte, then JSON, or for devices a binary record), exposed
/// for tests and tools. Enums are stored by their display text. Decoding fails with Errc::io,
/// naming the field, on an unknown version byte, malformed JSON, a truncated record, or a
/// missing or mistyped field. Invalid UTF-8 in a text field is stored as U+FFFD, so that what
/// the admin API prints is always valid JSON.
std::string encode_device(const Device& d);
/// The same, written into `out` (its previous content replaced) so a caller can reuse one buffer.
void encode_device(const Device& d, std::string& out);
Result<Device> decode_device(std::string_view bytes);
/// The same into `out` (every field replaced), reusing its string buffers: a scan decodes into one Device.
Result<void> decode_device(std::string_view bytes, Device& out);
std::string encode_certificate(const CertificateRecord& c);
Result<CertificateRecord> decode_certificate(std::string_view bytes);
/// The value under a serial in the certificates' DER family: the version byte and the raw DER.
Result<std::string> encode_certificate_der(const std::string& der_hex);
/// The DER of such a value, in hex (CertificateRecord::der_hex).
Result<std::string> decode_certificate_der(std::string_view bytes);
std::string encode_job(const Job& j);
Result<Job> decode_job(std::string_view bytes);
std::string encode_job_device(const JobDevice& d);
Result<JobDevice> decode_job_device(std::string_view bytes);
/// An audit entry; its texts are stored with control characters escaped (util::escape_control).
std::string encode_audit(const AuditEntry& a);
Result<AuditEntry> decode_audit(std::string_view bytes);
/// A metadata value (a string) in the same envelope.
std::string encode_meta(std::string_view value);
Result<std::string> decode_meta(std::string_view bytes);

}  // namespace capf::store
