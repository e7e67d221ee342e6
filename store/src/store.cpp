#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "capf/util/files.hpp"
#include "capf/util/log.hpp"
#include "store_impl.hpp"

namespace capf::store {

namespace {

// Sequence numbers are reserved in blocks so that a restart can start above every number any
// earlier process handed out, with one extra synced write per block instead of per audit
// entry. Recovering only from the last audit key is not enough: keys sort by time first, so
// after the clock steps back the last key need not hold the highest sequence.
constexpr std::uint64_t kAuditReserveBlock = 4096;

rocksdb::DBOptions db_options(const OpenOptions& options) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.IncreaseParallelism(2);
  // A fleet store holds tens of thousands of small records; a bounded descriptor count keeps
  // the daemon well under the usual ulimit alongside its sockets.
  o.max_open_files = 256;
  // Rarely written families (meta) would otherwise keep old WAL files alive indefinitely.
  o.max_total_wal_size = 64ull << 20;
  o.keep_log_file_num = 4;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Writers that join another's write group wait on a futex instead of spinning with
  // sched_yield, and the group's leader inserts its few small batches alone: spinning and
  // parallel memtable inserts pay off on many cores, here they cost the CPU sessions need.
  o.enable_write_thread_adaptive_yield = false;
  o.allow_concurrent_memtable_write = false;
  // A transition's WAL record waits in RocksDB's buffer until a synced write or sync_wal()
  // writes and syncs everything before it, in order: one write(2) per group commit instead of
  // one per transition. Unsynced writes guard no action, so a killed daemon loses nothing that
  // anyone acted on.
  o.manual_wal_flush = true;
  if (options.statistics) {
    o.statistics = rocksdb::CreateDBStatistics();
    o.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);  // the tickers only
  }
  return o;
}

rocksdb::ColumnFamilyOptions cf_options(Cf c, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  // Values are small and writes are many and synced; small memtables keep memory modest and
  // flushes short.
  o.write_buffer_size = 4ull << 20;
  o.max_write_buffer_number = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Point lookups by name or serial dominate these three; the others are scanned.
  if (c == Cf::devices || c == Cf::certificates || c == Cf::certificate_der)
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

// RocksDB reports a held LOCK file as a plain IOError; these are the texts of the two cases
// (another process holds the fcntl lock, or this process already opened the path).
bool is_lock_conflict(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string m = s.ToString();
  return m.find("While lock file") != std::string::npos || m.find("lock hold by current process") != std::string::npos;
}

Result<std::optional<std::uint64_t>> read_meta_number(const Store::Impl& impl, std::string_view key) {
  std::string raw;
  auto s = impl.db->Get(rocksdb::ReadOptions(), impl.handle(Cf::meta), key, &raw);
  if (s.IsNotFound()) return std::optional<std::uint64_t>{};
  if (!s.ok()) return status_error(impl.path, "reading meta " + std::string(key), s);
  auto text = decode_meta(raw);
  if (!text) return decode_error(impl.path, Cf::meta, key, text.error());
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || end != text->data() + text->size())
    return make_error(Errc::io,
                      "store at " + impl.path + ": meta " + std::string(key) + " is not a number: \"" + *text + "\"");
  return std::optional<std::uint64_t>{n};
}

// Records this build's schema version: in a new store, or over an older store's number.
Result<void> write_schema_version(Store::Impl& impl) {
  rocksdb::WriteOptions w;
  w.sync = true;
  auto s = impl.db->Put(w, impl.handle(Cf::meta), kMetaSchemaVersion, encode_meta(std::to_string(kSchemaVersion)));
  if (!s.ok()) return status_error(impl.path, "writing schema_version", s);
  return ok();
}

Result<void> check_schema(Store::Impl& impl) {
  std::string raw;
  auto s = impl.db->Get(rocksdb::ReadOptions(), impl.handle(Cf::meta), kMetaSchemaVersion, &raw);
  if (s.IsNotFound()) return write_schema_version(impl);
  if (!s.ok()) return status_error(impl.path, "reading schema_version", s);
  // A newer build may also have changed the envelope, so its version byte alone is enough to
  // refuse; the number inside is only read when the envelope is one this build knows.
  std::uint64_t version = raw.empty() ? 0 : static_cast<std::uint8_t>(raw.front());
  if (version >= 1 && version <= kSchemaVersion) {
    auto n = read_meta_number(impl, kMetaSchemaVersion);
    if (!n) return n.error();
    version = n->value_or(0);
  }
  if (version > kSchemaVersion)
    return make_error(Errc::io, "store at " + impl.path + " has schema version " + std::to_string(version) +
                                    "; this build understands up to " + std::to_string(kSchemaVersion));
  if (version == 0) return make_error(Errc::io, "store at " + impl.path + " has an unreadable schema_version");
  if (version < kSchemaVersion) {
    // Older values stay as they are and still decode; the new number keeps an older build
    // from opening a store that may now hold values it cannot read.
    if (auto w = write_schema_version(impl); !w) return w;
    util::logger("store")->info("store at {}: schema version {} upgraded to {}", impl.path, version, kSchemaVersion);
  }
  return ok();
}

Result<void> recover_audit_sequence(Store::Impl& impl) {
  std::uint64_t next = 1;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.handle(Cf::audit)));
  it->SeekToLast();
  if (it->Valid()) next = audit_key_seq(it->key().ToStringView()) + 1;
  if (!it->status().ok()) return status_error(impl.path, "reading the last audit entry", it->status());
  auto reserved = read_meta_number(impl, kMetaAuditReserved);
  if (!reserved) return reserved.error();
  next = std::max(next, reserved->value_or(0));
  impl.next_audit_seq = next;
  impl.audit_reserved = next;  // nothing reserved by this process yet
  return ok();
}

// Hands out `n` consecutive sequence numbers that no process has used or will use.
Result<std::uint64_t> take_audit_sequence(Store::Impl& impl, std::uint64_t n) {
  const std::uint64_t first = impl.next_audit_seq.fetch_add(n);
  const std::uint64_t end = first + n;
  if (end <= impl.audit_reserved.load()) return first;
  std::lock_guard lock(impl.reserve_mutex);
  if (end <= impl.audit_reserved.load()) return first;
  const std::uint64_t limit = end + kAuditReserveBlock;
  rocksdb::WriteOptions w;
  w.sync = true;  // the reservation must outlive any entry that uses it, synced or not
  auto s = impl.db->Put(w, impl.handle(Cf::meta), kMetaAuditReserved, encode_meta(std::to_string(limit)));
  if (!s.ok()) return status_error(impl.path, "reserving audit sequence numbers", s);
  impl.audit_reserved = limit;
  return first;
}

Result<void> validate(const Transition& t) {
  auto bad = [](std::string what) { return make_error(Errc::invalid_argument, std::move(what)); };
  for (const auto& d : t.put_devices)
    if (d.name.empty()) return bad("device with an empty name");
  for (const auto& name : t.delete_devices)
    if (name.empty()) return bad("delete of a device with an empty name");
  for (const auto& serial : t.delete_certificates)
    if (serial.empty()) return bad("delete of a certificate with an empty serial");
  for (const auto& c : t.put_certificates) {
    if (c.serial.empty()) return bad("certificate with an empty serial");
    if (c.device.empty() || c.device.find('\0') != std::string::npos)
      return bad("certificate " + c.serial + " has an empty or invalid device name");
  }
  for (const auto& j : t.put_jobs)
    if (j.id.empty() || j.id.find('\0') != std::string::npos) return bad("job with an empty or invalid id");
  for (const auto& d : t.put_job_devices)
    if (d.job.empty() || d.device.empty() || d.job.find('\0') != std::string::npos)
      return bad("job device with an empty job or device");
  for (const auto& [key, value] : t.put_meta)
    if (key.empty() || key == kMetaSchemaVersion || key == kMetaAuditReserved)
      return bad("meta key \"" + key + "\" is empty or reserved for the store");
  for (const auto& key : t.delete_meta)
    if (key.empty() || key == kMetaSchemaVersion || key == kMetaAuditReserved)
      return bad("delete of meta key \"" + key + "\": empty or reserved for the store");
  for (const auto& d : t.put_docs)
    if (d.key.empty()) return bad(std::string(family_name(d.family)) + " document with an empty key");
  for (const auto& [family, key] : t.delete_docs)
    if (key.empty()) return bad(std::string(family_name(family)) + " delete with an empty key");
  return ok();
}

// One WriteBatch that remembers its first failure, so apply() reads as a list of writes.
class Batch {
 public:
  // reserve: the bytes the batch will hold, so a 100,000-device import does not grow it by copying.
  explicit Batch(Store::Impl& impl, std::size_t reserve = 0) : impl_(impl), batch_(reserve) {}

  void put(Cf c, std::string_view key, std::string_view value) { keep(batch_.Put(impl_.handle(c), key, value)); }
  void del(Cf c, std::string_view key) { keep(batch_.Delete(impl_.handle(c), key)); }

  Result<void> write(Sync sync) {
    if (!status_.ok()) return status_error(impl_.path, "building a write", status_);
    rocksdb::WriteOptions w;
    w.sync = sync == Sync::yes;
    auto s = impl_.db->Write(w, &batch_);
    if (!s.ok()) return status_error(impl_.path, "writing a transition", s);
    return ok();
  }

 private:
  void keep(rocksdb::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  Store::Impl& impl_;
  rocksdb::WriteBatch batch_;
  rocksdb::Status status_;
};

}  // namespace

std::string audit_key(std::int64_t time, std::uint64_t seq) {
  // Negative times would sort after every positive one as unsigned bytes; the key only
  // orders entries, the value keeps the true time.
  const auto t = static_cast<std::uint64_t>(std::max<std::int64_t>(time, 0));
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<char>(t >> (56 - 8 * i));
    key[8 + i] = static_cast<char>(seq >> (56 - 8 * i));
  }
  return key;
}

std::uint64_t audit_key_seq(std::string_view key) {
  if (key.size() != 16) return 0;
  std::uint64_t seq = 0;
  for (int i = 8; i < 16; ++i) seq = (seq << 8) | static_cast<std::uint8_t>(key[i]);
  return seq;
}

std::string job_device_key(std::string_view job, std::string_view device) {
  std::string key(job);
  key.push_back('\0');
  key.append(device);
  return key;
}

std::string device_index_key(std::string_view device, std::string_view serial) {
  std::string key(device);
  key.push_back('\0');
  key.append(serial);
  return key;
}

std::string printable_key(std::string_view key) {
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return std::string(key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (unsigned char c : key) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

Error status_error(const std::string& path, std::string_view doing, const rocksdb::Status& s) {
  return make_error(Errc::io, "store at " + path + ": " + std::string(doing) + ": " + s.ToString());
}

Error decode_error(const std::string& path, Cf c, std::string_view key, const Error& e) {
  return make_error(
      Errc::io, "store at " + path + ": cannot decode " + cf_name(c) + "[" + printable_key(key) + "]: " + e.message);
}

void Store::Impl::close() {
  if (!db) return;
  for (auto*& h : cf) {
    if (h != nullptr) db->DestroyColumnFamilyHandle(h);
    h = nullptr;
  }
  // Unsynced writes still in the WAL's buffer (manual_wal_flush) reach the disk first; Close()
  // reports what the destructor would swallow (e.g. a failed final WAL sync).
  const auto flushed = db->FlushWAL(true);
  auto s = db->Close();
  if (!flushed.ok()) s = flushed;
  if (!s.ok()) util::logger("store")->warn("close failed path={} error={}", path, s.ToString());
  db.reset();
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  return open(path, OpenOptions{});
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const OpenOptions& options) {
  // The store holds authentication strings, so its directory is private to the daemon user.
  if (auto made = util::make_dirs(path, 0700); !made) return made.error();

  auto cache = rocksdb::NewLRUCache(32ull << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t i = 0; i < kCfNames.size(); ++i)
    descriptors.emplace_back(std::string(kCfNames[i]), cf_options(static_cast<Cf>(i), cache));

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto db = db_options(options);
  auto s = rocksdb::DB::Open(db, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (is_lock_conflict(s))
      return make_error(Errc::io, "store at " + path + " is in use by another process (is `capf serve` running?)");
    return status_error(path, "cannot open", s);
  }

  // Only now, holding the store's lock: table files of an ingest cut short, never part of it.
  remove_bulk_leftovers(path);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->db.reset(raw);
  impl->statistics = db.statistics;
  impl->before_write = options.before_write;
  std::copy(handles.begin(), handles.end(), impl->cf.begin());
  if (auto r = check_schema(*impl); !r) return r.error();
  if (auto r = recover_audit_sequence(*impl); !r) return r.error();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

const std::string& Store::path() const {
  return impl_->path;
}

ClaimTable& Store::claims() const {
  return impl_->claims;
}

Result<void> Store::sync_wal() {
  auto s = impl_->db->FlushWAL(true);  // the buffer (manual_wal_flush), then one fdatasync
  if (!s.ok()) return status_error(impl_->path, "syncing the write-ahead log", s);
  return ok();
}

Result<WriteStats> Store::write_stats() const {
  if (!impl_->statistics)
    return make_error(Errc::invalid_argument, "store at " + impl_->path + " was opened without statistics");
  const auto& st = *impl_->statistics;
  WriteStats w;
  w.write_groups = st.getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
  w.writes = w.write_groups + st.getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
  w.wal_syncs = st.getTickerCount(rocksdb::WAL_FILE_SYNCED);
  return w;
}

namespace {

// Keys (with store-assigned sequence numbers) and values of audit entries.
Result<std::vector<std::pair<std::string, std::string>>> audit_records(Store::Impl& impl,
                                                                       const std::vector<AuditEntry>& entries) {
  std::vector<std::pair<std::string, std::string>> out;
  if (entries.empty()) return out;
  auto first = take_audit_sequence(impl, entries.size());
  if (!first) return first.error();
  out.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    out.emplace_back(audit_key(entries[i].time, *first + i), encode_audit(entries[i]));
  return out;
}

// Device puts of a transition, each encoded into one reused buffer.
void put_devices(Batch& batch, const std::vector<Device>& devices) {
  std::string value;
  for (const auto& d : devices) {
    encode_device(d, value);
    batch.put(Cf::devices, d.name, value);
  }
}

// Everything of `t` but its device puts, after them: apply() of a transition and of an import.
Result<void> add_rest(Store::Impl& impl, Batch& batch, const Transition& t) {
  for (const auto& serial : t.delete_certificates) {
    std::string old;
    auto got = impl.db->Get(rocksdb::ReadOptions(), impl.handle(Cf::certificates), serial, &old);
    if (!got.ok() && !got.IsNotFound()) return status_error(impl.path, "reading certificate " + serial, got);
    if (got.IsNotFound()) continue;
    if (auto prev = decode_certificate(old)) batch.del(Cf::certs_by_device, device_index_key(prev->device, serial));
    batch.del(Cf::certificates, serial);
    batch.del(Cf::certificate_der, serial);
  }
  for (const auto& c : t.put_certificates) {
    // A record moved to another device must leave its old index entry; certificates_of also
    // skips stale entries, so a lost race here costs a dead key, not a wrong answer. A record
    // already indexed under its device (every state change of an LSC) is not read at all.
    const std::string index_key = device_index_key(c.device, c.serial);
    std::string old;
    auto indexed = impl.db->Get(rocksdb::ReadOptions(), impl.handle(Cf::certs_by_device), index_key, &old);
    if (!indexed.ok() && !indexed.IsNotFound()) return status_error(impl.path, "reading certs_by_device", indexed);
    if (indexed.IsNotFound()) {
      auto got = impl.db->Get(rocksdb::ReadOptions(), impl.handle(Cf::certificates), c.serial, &old);
      if (!got.ok() && !got.IsNotFound()) return status_error(impl.path, "reading certificate " + c.serial, got);
      if (got.ok()) {
        auto prev = decode_certificate(old);
        if (prev && prev->device != c.device) batch.del(Cf::certs_by_device, device_index_key(prev->device, c.serial));
      }
    }
    batch.put(Cf::certificates, c.serial, encode_certificate(c));
    batch.put(Cf::certs_by_device, index_key, to_string(c.state));
    // Without der_hex, a change of state: the DER stored under the serial stays.
    if (!c.der_hex.empty()) {
      auto der = encode_certificate_der(c.der_hex);
      if (!der) return make_error(der.error().code, "certificate " + c.serial + ": " + der.error().message);
      batch.put(Cf::certificate_der, c.serial, *der);
    }
  }

  auto audit = audit_records(impl, t.audit);
  if (!audit) return audit.error();
  for (const auto& [key, value] : *audit) batch.put(Cf::audit, key, value);

  for (const auto& j : t.put_jobs) batch.put(Cf::jobs, j.id, encode_job(j));
  for (const auto& d : t.put_job_devices)
    batch.put(Cf::job_devices, job_device_key(d.job, d.device), encode_job_device(d));

  for (const auto& key : t.delete_meta) batch.del(Cf::meta, key);
  for (const auto& [key, value] : t.put_meta) batch.put(Cf::meta, key, encode_meta(value));
  for (const auto& [family, key] : t.delete_docs) batch.del(family_cf(family), key);
  for (const auto& d : t.put_docs) batch.put(family_cf(d.family), d.key, encode_meta(d.json));
  return ok();
}

// A WriteBatch entry beyond its key and value: a type tag, the column family and two varint
// lengths.
constexpr std::size_t kBatchEntryOverhead = 16;

// The bytes a transition's WriteBatch will hold. A large one (a 40,000-device job submission
// writes about 20 MB) is reserved once and exactly: grown by doubling or over-reserved, it
// would hold up to twice that at the daemon's peak.
std::size_t batch_reserve(const Transition& t) {
  std::size_t bytes = 512 * (t.put_devices.size() + t.put_certificates.size() + 1);
  constexpr std::size_t kMeasuredFrom = 64;  // below this an estimate costs less than encoding twice
  if (t.put_job_devices.size() < kMeasuredFrom) return bytes + 512 * t.put_job_devices.size();
  for (const auto& d : t.put_job_devices)
    bytes += job_device_key(d.job, d.device).size() + encode_job_device(d).size() + kBatchEntryOverhead;
  return bytes;
}

std::size_t batch_reserve(const DeviceBatch& devices) {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < devices.size(); ++i)
    bytes += devices.key(i).size() + devices.value(i).size() + kBatchEntryOverhead;
  return bytes;
}

}  // namespace

Result<void> Store::apply(const Transition& t, Sync sync) {
  if (auto v = validate(t); !v) return v;
  if (impl_->before_write) impl_->before_write(t);
  Batch batch(*impl_, batch_reserve(t));
  // Device deletes come first so that a name both deleted and put ends up present.
  for (const auto& name : t.delete_devices) batch.del(Cf::devices, name);
  put_devices(batch, t.put_devices);
  if (auto r = add_rest(*impl_, batch, t); !r) return r;
  return batch.write(sync);
}

Result<void> Store::apply(const DeviceBatch& devices, const Transition& t, Sync sync) {
  if (auto v = validate(t); !v) return v;
  if (impl_->before_write) impl_->before_write(t);
  const bool audit_only = t.put_devices.empty() && t.delete_devices.empty() && t.put_certificates.empty() &&
                          t.delete_certificates.empty() && t.put_jobs.empty() && t.put_job_devices.empty() &&
                          t.put_meta.empty() && t.delete_meta.empty() && t.put_docs.empty() && t.delete_docs.empty();
  if (devices.size() >= kIngestMinimumDevices && audit_only) {
    auto audit = audit_records(*impl_, t.audit);
    if (!audit) return audit.error();
    return ingest(*impl_, devices, *audit);
  }
  Batch batch(*impl_, batch_reserve(t) + batch_reserve(devices));
  for (const auto& name : t.delete_devices) batch.del(Cf::devices, name);
  for (std::size_t i = 0; i < devices.size(); ++i) batch.put(Cf::devices, devices.key(i), devices.value(i));
  put_devices(batch, t.put_devices);
  if (auto r = add_rest(*impl_, batch, t); !r) return r;
  return batch.write(sync);
}

}  // namespace capf::store
