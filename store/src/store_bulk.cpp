// Bulk writes of an import: devices encoded as they are added (DeviceBatch), then either one
// WriteBatch (store.cpp) or, for many devices, table files ingested in one atomic step.
//
// Ingestion is RocksDB's bulk-load route. The rows go straight into a sorted, synced table
// file: no copy in the write-ahead log, none in a memtable, and no flush of them later.
// IngestExternalFiles records the files of every column family in one MANIFEST edit, so after
// a crash either the whole import is in the store or none of it is. A table file needs its
// keys in strictly ascending order, hence the sort and the rule that the last device of a
// name wins.
#include <rocksdb/sst_file_writer.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <numeric>
#include <optional>

#include "capf/util/files.hpp"
#include "capf/util/huge_pages.hpp"
#include "store_impl.hpp"

namespace capf::store {

Result<void> DeviceBatch::add(const Device& d) {
  if (d.name.empty()) return make_error(Errc::invalid_argument, "device with an empty name");
  encode_device(d, scratch_);
  Entry e;
  e.offset = data_.size();
  e.key_size = static_cast<std::uint32_t>(d.name.size());
  e.value_size = static_cast<std::uint32_t>(scratch_.size());
  data_.append(d.name);
  data_.append(scratch_);
  entries_.push_back(e);
  return ok();
}

void DeviceBatch::reserve(std::size_t devices, std::size_t bytes) {
  entries_.reserve(devices);
  if (bytes <= data_.capacity()) return;
  data_.reserve(bytes);
  util::advise_huge_pages(data_.data(), data_.capacity());  // filled once, front to back
}

namespace {

std::string bulk_dir(const std::string& store_path) {
  return store_path + "/bulk";
}

// A file name no other ingest of this process, or of an earlier one, is using.
std::string bulk_file(const std::string& dir, std::string_view family) {
  static std::atomic<std::uint64_t> counter{0};
  return dir + "/" + std::string(family) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".sst";
}

class TableFile {
 public:
  TableFile(Store::Impl& impl, Cf c, std::string path)
      : impl_(impl), cf_(c), path_(std::move(path)), writer_(rocksdb::EnvOptions(), options(impl, c), impl.handle(c)) {}
  ~TableFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);  // gone already when ingested with move_files
  }
  TableFile(const TableFile&) = delete;
  TableFile& operator=(const TableFile&) = delete;

  // The family's own options (comparator, filter, block size), but no compression: the import
  // waits for this file, and compaction compresses its rows later, off the import's path.
  static rocksdb::Options options(Store::Impl& impl, Cf c) {
    auto o = impl.db->GetOptions(impl.handle(c));
    o.compression = rocksdb::kNoCompression;
    return o;
  }

  Result<void> open() { return check(writer_.Open(path_), "creating"); }
  Result<void> put(std::string_view key, std::string_view value) { return check(writer_.Put(key, value), "writing"); }
  Result<void> finish() { return check(writer_.Finish(), "finishing"); }

  rocksdb::IngestExternalFileArg arg() const {
    rocksdb::IngestExternalFileArg a;
    a.column_family = impl_.handle(cf_);
    a.external_files = {path_};
    a.options.move_files = true;  // a hard link into the store; a copy where links fail
    a.options.snapshot_consistency = true;
    return a;
  }

 private:
  Result<void> check(const rocksdb::Status& s, std::string_view doing) {
    if (s.ok()) return ok();
    return status_error(impl_.path, std::string(doing) + " bulk file " + path_ + " of " + cf_name(cf_), s);
  }

  Store::Impl& impl_;
  Cf cf_;
  std::string path_;
  rocksdb::SstFileWriter writer_;
};

}  // namespace

Result<void> ingest(Store::Impl& impl, const DeviceBatch& devices,
                    const std::vector<std::pair<std::string, std::string>>& audit) {
  const std::string dir = bulk_dir(impl.path);
  if (auto made = util::make_dirs(dir, 0700); !made) return made.error();

  // Name order; of equal names the last added wins (stable sort, then skip all but the last).
  std::vector<std::uint32_t> order(devices.size());
  std::iota(order.begin(), order.end(), 0u);
  const auto by_name = [&](std::uint32_t a, std::uint32_t b) { return devices.key(a) < devices.key(b); };
  if (!std::is_sorted(order.begin(), order.end(), by_name)) std::stable_sort(order.begin(), order.end(), by_name);
  TableFile device_file(impl, Cf::devices, bulk_file(dir, "devices"));
  if (auto r = device_file.open(); !r) return r;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && devices.key(order[i]) == devices.key(order[i + 1])) continue;
    if (auto r = device_file.put(devices.key(order[i]), devices.value(order[i])); !r) return r;
  }
  if (auto r = device_file.finish(); !r) return r;
  std::vector<rocksdb::IngestExternalFileArg> args{device_file.arg()};

  std::optional<TableFile> audit_file;
  if (!audit.empty()) {
    std::vector<std::size_t> by_key(audit.size());
    std::iota(by_key.begin(), by_key.end(), std::size_t{0});
    std::sort(by_key.begin(), by_key.end(), [&](std::size_t a, std::size_t b) { return audit[a].first < audit[b].first; });
    audit_file.emplace(impl, Cf::audit, bulk_file(dir, "audit"));
    if (auto r = audit_file->open(); !r) return r;
    for (auto i : by_key)
      if (auto r = audit_file->put(audit[i].first, audit[i].second); !r) return r;
    if (auto r = audit_file->finish(); !r) return r;
    args.push_back(audit_file->arg());
  }
  auto s = impl.db->IngestExternalFiles(args);
  if (!s.ok()) return status_error(impl.path, "ingesting " + std::to_string(devices.size()) + " devices", s);
  return ok();
}

void remove_bulk_leftovers(const std::string& store_path) {
  std::error_code ec;
  std::filesystem::remove_all(bulk_dir(store_path), ec);
}

}  // namespace capf::store
