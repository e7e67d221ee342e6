#include "capf/store/claims.hpp"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <unordered_set>

namespace capf::store {

namespace {
constexpr std::size_t kStripes = 64;
}

struct ClaimTable::Stripe {
  mutable std::mutex mutex;
  std::condition_variable released;
  std::unordered_set<std::string> held;
};

DeviceClaim& DeviceClaim::operator=(DeviceClaim&& o) noexcept {
  if (this != &o) {
    release();
    table_ = o.table_;
    name_ = std::move(o.name_);
    o.table_ = nullptr;
  }
  return *this;
}

void DeviceClaim::release() {
  if (table_ == nullptr) return;
  table_->release(name_);
  table_ = nullptr;
}

ClaimTable::ClaimTable() : stripes_(new Stripe[kStripes]) {}
ClaimTable::~ClaimTable() = default;

ClaimTable::Stripe& ClaimTable::stripe(const std::string& device) const {
  return stripes_[std::hash<std::string>{}(device) % kStripes];
}

DeviceClaim ClaimTable::claim(const std::string& device) {
  Stripe& s = stripe(device);
  std::unique_lock lock(s.mutex);
  s.released.wait(lock, [&] { return s.held.count(device) == 0; });
  s.held.insert(device);
  return DeviceClaim(this, device);
}

DeviceClaim ClaimTable::try_claim(const std::string& device) {
  Stripe& s = stripe(device);
  std::lock_guard lock(s.mutex);
  if (!s.held.insert(device).second) return {};
  return DeviceClaim(this, device);
}

std::vector<DeviceClaim> ClaimTable::claim_all(std::vector<std::string> devices) {
  std::sort(devices.begin(), devices.end());
  devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
  std::vector<DeviceClaim> out;
  out.reserve(devices.size());
  for (auto& d : devices) out.push_back(claim(d));
  return out;
}

std::size_t ClaimTable::held() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kStripes; ++i) {
    std::lock_guard lock(stripes_[i].mutex);
    n += stripes_[i].held.size();
  }
  return n;
}

void ClaimTable::release(const std::string& device) {
  Stripe& s = stripe(device);
  {
    std::lock_guard lock(s.mutex);
    s.held.erase(device);
  }
  // Waiters of other devices share the stripe's condition variable; each re-checks its own name.
  s.released.notify_all();
}

}  // namespace capf::store
