// One owner per device: a claim is the right to read-modify-write one device's records (the
// device, its certificates, its CSRs, its job-device record). Whoever changes a device claims
// it, reads the current record, decides, writes and releases; nobody writes back a copy read
// before its claim. A claim is not a mutex: holding it blocks only the next claimant of the
// same device, and writes of different devices run (and share fsyncs) concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace capf::store {

class ClaimTable;

/// A held claim on one device, released when destroyed (movable, from any thread).
class DeviceClaim {
 public:
  DeviceClaim() = default;
  DeviceClaim(DeviceClaim&& o) noexcept : table_(o.table_), name_(std::move(o.name_)) { o.table_ = nullptr; }
  DeviceClaim& operator=(DeviceClaim&& o) noexcept;
  DeviceClaim(const DeviceClaim&) = delete;
  DeviceClaim& operator=(const DeviceClaim&) = delete;
  ~DeviceClaim() { release(); }

  bool held() const { return table_ != nullptr; }
  const std::string& device() const { return name_; }
  /// Gives the claim up early; safe to call twice.
  void release();

 private:
  friend class ClaimTable;
  DeviceClaim(ClaimTable* table, std::string name) : table_(table), name_(std::move(name)) {}
  ClaimTable* table_ = nullptr;
  std::string name_;
};

/// The devices claimed now, in stripes so that unrelated claims rarely meet on one mutex; a
/// stripe's mutex guards only its set of names and is never held while a claimant works.
class ClaimTable {
 public:
  ClaimTable();
  ~ClaimTable();
  ClaimTable(const ClaimTable&) = delete;
  ClaimTable& operator=(const ClaimTable&) = delete;

  /// Waits until no one else holds `device`, then holds it. Never call while holding a claim
  /// on another device (claim_all takes several in one order, so it cannot deadlock).
  DeviceClaim claim(const std::string& device);
  /// Holds `device` if no one else does; an empty claim otherwise. Never waits.
  DeviceClaim try_claim(const std::string& device);
  /// Claims every one of `devices` (duplicates once), waiting in name order.
  std::vector<DeviceClaim> claim_all(std::vector<std::string> devices);
  /// Devices claimed now (tests and diagnostics).
  std::size_t held() const;

 private:
  friend class DeviceClaim;
  void release(const std::string& device);
  struct Stripe;
  Stripe& stripe(const std::string& device) const;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace capf::store
