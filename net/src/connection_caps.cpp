#include "capf/net/connection_caps.hpp"

namespace capf::net {

ConnectionCaps::Slot ConnectionCaps::admit(const std::string& address) {
  Slot slot;
  std::lock_guard lock(mutex_);
  if (total_cap_ != 0 && total_ >= total_cap_) {
    slot.refusal_ = Refusal::total;
    return slot;
  }
  auto& count = by_address_[address];
  if (per_address_cap_ != 0 && count >= per_address_cap_) {
    slot.refusal_ = Refusal::per_address;
    return slot;
  }
  ++count;
  ++total_;
  // The deleter gives the slot back; the caps object outlives every connection it admitted.
  slot.held_ = std::shared_ptr<void>(this, [this, address](void*) { release(address); });
  return slot;
}

void ConnectionCaps::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  auto it = by_address_.find(address);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

void ConnectionCaps::set_per_address(std::size_t cap) {
  std::lock_guard lock(mutex_);
  per_address_cap_ = cap;
}

std::size_t ConnectionCaps::open() {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ConnectionCaps::open_from(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second;
}

}  // namespace capf::net
