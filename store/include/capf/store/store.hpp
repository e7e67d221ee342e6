// The only RocksDB user. Devices, certificates, audit trail and metadata live in their own
// column families; every transition is one synced WriteBatch (RocksDB groups concurrent
// synced writers into one fsync). No rocksdb:: type leaves store/src.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/util/result.hpp"

namespace capf::store {

/// Everything one state change writes, applied atomically and durably.
struct Transition {
  std::vector<Device> put_devices;
  std::vector<std::string> delete_devices;
  std::vector<CertificateRecord> put_certificates;
  std::vector<AuditEntry> audit;
  /// Metadata keys to set (e.g. "session_counter").
  std::vector<std::pair<std::string, std::string>> put_meta;
};

/// Durability of a write.
enum class Sync : bool { no, yes };

/// Current value-encoding version; the first byte of every stored value.
inline constexpr std::uint8_t kSchemaVersion = 1;

class Store {
 public:
  /// Opens (creating if needed) the database at `path`. Fails with a clear message when
  /// another process holds it or its schema version is newer than this build understands.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();

  /// Applies a transition as one WriteBatch.
  Result<void> apply(const Transition& t, Sync sync = Sync::yes);

  Result<std::optional<Device>> get_device(const std::string& name) const;
  /// Calls `fn` for every device in name order; stop early by returning false.
  Result<void> for_each_device(const std::function<bool(const Device&)>& fn) const;
  Result<std::size_t> count_devices() const;

  Result<std::optional<CertificateRecord>> get_certificate(const std::string& serial) const;
  Result<void> for_each_certificate(const std::function<bool(const CertificateRecord&)>& fn) const;

  /// Audit entries, oldest first; `limit` 0 means all.
  Result<std::vector<AuditEntry>> list_audit(std::size_t limit = 0) const;

  Result<std::optional<std::string>> get_meta(const std::string& key) const;

  /// Path the store was opened at.
  const std::string& path() const;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Value encoding (JSON behind a schema-version byte), exposed for tests and tools.
std::string encode_device(const Device& d);
Result<Device> decode_device(std::string_view bytes);
std::string encode_certificate(const CertificateRecord& c);
Result<CertificateRecord> decode_certificate(std::string_view bytes);
std::string encode_audit(const AuditEntry& a);
Result<AuditEntry> decode_audit(std::string_view bytes);

}  // namespace capf::store
