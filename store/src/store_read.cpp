#include <rocksdb/snapshot.h>

#include <algorithm>
#include <span>

#include "capf/util/text.hpp"
#include "store_impl.hpp"

namespace capf::store {

namespace {

template <class T>
using Decoder = Result<T> (*)(std::string_view);

template <class T>
Result<std::optional<T>> get_value(const Store::Impl& impl, const rocksdb::ReadOptions& ro, Cf c, std::string_view key,
                                   Decoder<T> decode) {
  std::string raw;
  auto s = impl.db->Get(ro, impl.handle(c), key, &raw);
  if (s.IsNotFound()) return std::optional<T>{};
  if (!s.ok()) return status_error(impl.path, "reading " + cf_name(c) + "[" + printable_key(key) + "]", s);
  auto value = decode(raw);
  if (!value) return decode_error(impl.path, c, key, value.error());
  return std::optional<T>{std::move(*value)};
}

/// Calls `fn` for the records of `c` whose key starts with `prefix` and sorts after
/// prefix + `after` ("" = every one), in key order.
template <class T>
Result<void> scan(const Store::Impl& impl, Cf c, Decoder<T> decode, const std::function<bool(const T&)>& fn,
                  std::string_view prefix = {}, std::string_view after = {}) {
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.handle(c)));
  std::string start(prefix);
  start.append(after);
  it->Seek(start);
  if (!after.empty() && it->Valid() && it->key().ToStringView() == start) it->Next();
  for (; it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())); it->Next()) {
    auto value = decode(it->value().ToStringView());
    if (!value) return decode_error(impl.path, c, it->key().ToStringView(), value.error());
    if (!fn(*value)) break;
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning " + cf_name(c), it->status());
  return ok();
}

/// Fills `c.der_hex` from the DER family when the record does not carry it (schema 3 on).
Result<void> with_der(const Store::Impl& impl, const rocksdb::ReadOptions& ro, CertificateRecord& c) {
  if (!c.der_hex.empty()) return ok();
  std::string raw;
  auto s = impl.db->Get(ro, impl.handle(Cf::certificate_der), c.serial, &raw);
  if (s.IsNotFound()) return ok();  // a record written without a certificate, as every schema allows
  if (!s.ok()) return status_error(impl.path, "reading certificate_der[" + printable_key(c.serial) + "]", s);
  auto der = decode_certificate_der(raw);
  if (!der) return decode_error(impl.path, Cf::certificate_der, c.serial, der.error());
  c.der_hex = std::move(*der);
  return ok();
}

}  // namespace

Result<std::optional<Device>> Store::get_device(const std::string& name) const {
  return get_value<Device>(*impl_, rocksdb::ReadOptions(), Cf::devices, name, &decode_device);
}

Result<std::vector<std::pair<std::size_t, Device>>> Store::find_devices(
    const std::vector<std::string_view>& names) const {
  const Impl& impl = *impl_;
  std::vector<std::pair<std::size_t, Device>> out;
  constexpr std::size_t kChunk = 1024;  // bounds the pinned values held at once
  std::vector<rocksdb::Slice> keys;
  std::vector<rocksdb::PinnableSlice> values(kChunk);
  std::vector<rocksdb::Status> statuses(kChunk);
  for (std::size_t from = 0; from < names.size(); from += kChunk) {
    const std::size_t n = std::min(kChunk, names.size() - from);
    keys.assign(names.begin() + from, names.begin() + from + n);
    impl.db->MultiGet(rocksdb::ReadOptions(), impl.handle(Cf::devices), n, keys.data(), values.data(), statuses.data());
    for (std::size_t i = 0; i < n; ++i) {
      const auto& s = statuses[i];
      if (s.IsNotFound()) continue;
      if (!s.ok()) return status_error(impl.path, "reading devices[" + printable_key(names[from + i]) + "]", s);
      auto value = decode_device(values[i].ToStringView());
      if (!value) return decode_error(impl.path, Cf::devices, names[from + i], value.error());
      out.emplace_back(from + i, std::move(*value));
      values[i].Reset();
    }
  }
  return out;
}

Result<void> Store::for_each_device(const std::function<bool(const Device&)>& fn) const {
  return for_each_device_after({}, fn);
}

Result<void> Store::for_each_device_after(std::string_view after, const std::function<bool(const Device&)>& fn) const {
  // One Device for the whole scan (decode_device reuses its buffers): fn sees each in turn.
  const Impl& impl = *impl_;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.handle(Cf::devices)));
  if (after.empty())
    it->SeekToFirst();
  else
    it->Seek(rocksdb::Slice(after.data(), after.size()));
  if (!after.empty() && it->Valid() && it->key().ToStringView() == after) it->Next();
  Device d;
  for (; it->Valid(); it->Next()) {
    if (auto r = decode_device(it->value().ToStringView(), d); !r)
      return decode_error(impl.path, Cf::devices, it->key().ToStringView(), r.error());
    if (!fn(d)) break;
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning devices", it->status());
  return ok();
}

Result<std::size_t> Store::count_devices() const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a full scan would evict the records that lookups need
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handle(Cf::devices)));
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return status_error(impl_->path, "counting devices", it->status());
  return n;
}

Result<std::optional<CertificateRecord>> Store::get_certificate(const std::string& serial) const {
  // One snapshot for the record and its DER: a concurrent delete never shows one without the other.
  rocksdb::ManagedSnapshot snapshot(impl_->db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  auto rec = get_value<CertificateRecord>(*impl_, ro, Cf::certificates, serial, &decode_certificate);
  if (rec && rec->has_value())
    if (auto r = with_der(*impl_, ro, **rec); !r) return r.error();
  return rec;
}

Result<void> Store::for_each_certificate(const std::function<bool(const CertificateRecord&)>& fn) const {
  const Impl& impl = *impl_;
  rocksdb::ManagedSnapshot snapshot(impl.db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(ro, impl.handle(Cf::certificates)));
  // Both families are keyed by serial: the DERs are walked beside the records, not looked up.
  std::unique_ptr<rocksdb::Iterator> der(impl.db->NewIterator(ro, impl.handle(Cf::certificate_der)));
  der->SeekToFirst();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto rec = decode_certificate(it->value().ToStringView());
    if (!rec) return decode_error(impl.path, Cf::certificates, it->key().ToStringView(), rec.error());
    if (rec->der_hex.empty()) {
      while (der->Valid() && der->key().compare(it->key()) < 0) der->Next();
      if (der->Valid() && der->key() == it->key()) {
        auto hex = decode_certificate_der(der->value().ToStringView());
        if (!hex) return decode_error(impl.path, Cf::certificate_der, der->key().ToStringView(), hex.error());
        rec->der_hex = std::move(*hex);
      }
    }
    if (!fn(*rec)) break;
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning certificates", it->status());
  if (!der->status().ok()) return status_error(impl.path, "scanning certificate_der", der->status());
  return ok();
}

namespace {

// The certificates of `device` through the certs_by_device index, read at one snapshot so a
// concurrent apply() cannot show an index entry without its record. An entry's value is the
// record's state when it was written (empty in stores written before the index carried it);
// `wanted` skips the records whose entry names another state without reading them.
Result<std::vector<CertificateRecord>> indexed_certificates(const Store::Impl& impl, const std::string& device,
                                                            std::optional<CertificateState> wanted) {
  rocksdb::ManagedSnapshot snapshot(impl.db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();

  const std::string prefix = device_index_key(device, "");
  const std::string_view wanted_text = wanted ? to_string(*wanted) : std::string_view();
  std::vector<CertificateRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(ro, impl.handle(Cf::certs_by_device)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (wanted && !it->value().empty() && it->value().ToStringView() != wanted_text) continue;
    const std::string serial = it->key().ToString().substr(prefix.size());
    auto record = get_value<CertificateRecord>(impl, ro, Cf::certificates, serial, &decode_certificate);
    if (!record) return record.error();
    if (!*record)
      return make_error(Errc::io, "store at " + impl.path + ": certs_by_device[" +
                                      printable_key(it->key().ToStringView()) + "] points at missing certificate " +
                                      serial);
    // An entry left behind when a record moved to another device is stale, not an answer.
    if ((*record)->device != device || (wanted && (*record)->state != *wanted)) continue;
    if (!wanted)
      if (auto r = with_der(impl, ro, **record); !r) return r.error();
    out.push_back(std::move(**record));
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning certs_by_device", it->status());
  return out;
}

}  // namespace

Result<std::vector<CertificateRecord>> Store::certificates_of(const std::string& device) const {
  return indexed_certificates(*impl_, device, std::nullopt);
}

Result<std::vector<CertificateRecord>> Store::certificates_of(const std::string& device, CertificateState state) const {
  return indexed_certificates(*impl_, device, state);
}

Result<std::vector<AuditEntry>> Store::list_audit(std::size_t limit) const {
  const Impl& impl = *impl_;
  std::vector<AuditEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.handle(Cf::audit)));
  auto take = [&]() -> Result<void> {
    auto entry = decode_audit(it->value().ToStringView());
    if (!entry) return decode_error(impl.path, Cf::audit, it->key().ToStringView(), entry.error());
    out.push_back(std::move(*entry));
    return ok();
  };
  if (limit == 0) {
    for (it->SeekToFirst(); it->Valid(); it->Next())
      if (auto r = take(); !r) return r.error();
  } else {
    // Walk back from the newest so a long trail costs only `limit` reads.
    for (it->SeekToLast(); it->Valid() && out.size() < limit; it->Prev())
      if (auto r = take(); !r) return r.error();
    std::reverse(out.begin(), out.end());
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning audit", it->status());
  return out;
}

namespace {

/// An audit position as callers see it: the 16-byte key in hex.
std::string audit_position(std::string_view key) {
  return util::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

}  // namespace

Result<void> Store::for_each_audit_before(const std::string& before, util::UnixTime since,
                                          const std::function<bool(const AuditEntry&, const std::string&)>& fn) const {
  const Impl& impl = *impl_;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(rocksdb::ReadOptions(), impl.handle(Cf::audit)));
  if (before.empty()) {
    it->SeekToLast();
  } else {
    auto bytes = before.size() == 32 ? util::from_hex(before) : std::nullopt;
    if (!bytes)
      return make_error(Errc::invalid_argument,
                        "not an audit position: \"" + printable_key(std::string_view(before).substr(0, 40)) + "\"");
    const std::string key(bytes->begin(), bytes->end());
    it->SeekForPrev(key);
    if (it->Valid() && it->key().ToStringView() == key) it->Prev();
  }
  const std::string floor = audit_key(since, 0);
  for (; it->Valid() && it->key().compare(floor) >= 0; it->Prev()) {
    auto entry = decode_audit(it->value().ToStringView());
    if (!entry) return decode_error(impl.path, Cf::audit, it->key().ToStringView(), entry.error());
    if (!fn(*entry, audit_position(it->key().ToStringView()))) break;
  }
  if (!it->status().ok()) return status_error(impl.path, "scanning audit", it->status());
  return ok();
}

Result<std::size_t> Store::count_audit(util::UnixTime since) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handle(Cf::audit)));
  std::size_t n = 0;
  for (it->Seek(audit_key(since, 0)); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return status_error(impl_->path, "counting audit", it->status());
  return n;
}

Result<std::optional<std::string>> Store::get_meta(const std::string& key) const {
  return get_value<std::string>(*impl_, rocksdb::ReadOptions(), Cf::meta, key, &decode_meta);
}

Result<void> Store::for_each_meta(std::string_view prefix,
                                  const std::function<bool(const std::string&, const std::string&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handle(Cf::meta)));
  const rocksdb::Slice start(prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    auto value = decode_meta(it->value().ToStringView());
    if (!value) return decode_error(impl_->path, Cf::meta, it->key().ToStringView(), value.error());
    if (!fn(it->key().ToString(), *value)) break;
  }
  if (!it->status().ok()) return status_error(impl_->path, "scanning meta", it->status());
  return ok();
}

Result<std::optional<Job>> Store::get_job(const std::string& id) const {
  return get_value<Job>(*impl_, rocksdb::ReadOptions(), Cf::jobs, id, &decode_job);
}

Result<void> Store::for_each_job(const std::function<bool(const Job&)>& fn) const {
  return scan<Job>(*impl_, Cf::jobs, &decode_job, fn);
}

Result<std::optional<JobDevice>> Store::get_job_device(const std::string& job, const std::string& device) const {
  return get_value<JobDevice>(*impl_, rocksdb::ReadOptions(), Cf::job_devices, job_device_key(job, device),
                              &decode_job_device);
}

Result<void> Store::for_each_job_device(const std::string& job, const std::function<bool(const JobDevice&)>& fn) const {
  return for_each_job_device_after(job, {}, fn);
}

Result<void> Store::for_each_job_device_after(const std::string& job, std::string_view after,
                                              const std::function<bool(const JobDevice&)>& fn) const {
  return scan<JobDevice>(*impl_, Cf::job_devices, &decode_job_device, fn, job_device_key(job, ""), after);
}

std::string_view family_name(Family f) {
  return kCfNames[static_cast<std::size_t>(family_cf(f))];
}

Result<std::optional<std::string>> Store::get_doc(Family family, const std::string& key) const {
  return get_value<std::string>(*impl_, rocksdb::ReadOptions(), family_cf(family), key, &decode_meta);
}

Result<void> Store::for_each_doc(Family family, const std::string& prefix,
                                 const std::function<bool(const std::string&, const std::string&)>& fn) const {
  const Cf c = family_cf(family);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handle(c)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto value = decode_meta(it->value().ToStringView());
    if (!value) return decode_error(impl_->path, c, it->key().ToStringView(), value.error());
    if (!fn(it->key().ToString(), *value)) break;
  }
  if (!it->status().ok()) return status_error(impl_->path, "scanning " + cf_name(c), it->status());
  return ok();
}

}  // namespace capf::store
