// Caps on concurrent connections to one listener: in total and per client address, so one
// address cannot hold every slot. Used by the CAPF listener (port 3804) and the dashboard.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace capf::net {

/// Counts open connections by client address. Thread-safe; the caps may change at any time
/// (a lower cap refuses new connections only, open ones stay).
class ConnectionCaps {
 public:
  /// `total` and `per_address`: how many connections may be open at once (0 = no cap).
  ConnectionCaps(std::size_t total, std::size_t per_address) : total_cap_(total), per_address_cap_(per_address) {}

  /// Why a connection was refused.
  enum class Refusal { none, total, per_address };

  /// One admitted connection; its slot is given back when the last copy is destroyed.
  class Slot {
   public:
    Slot() = default;
    /// True when the connection was admitted.
    explicit operator bool() const { return static_cast<bool>(held_); }
    /// Why it was refused (Refusal::none when admitted).
    Refusal refusal() const { return refusal_; }

   private:
    friend class ConnectionCaps;
    std::shared_ptr<void> held_;
    Refusal refusal_ = Refusal::none;
  };

  /// Admits one more connection from `address` unless a cap is reached.
  Slot admit(const std::string& address);
  /// Changes the per-address cap (0 = none).
  void set_per_address(std::size_t cap);
  /// Connections open now, in total and from `address`.
  std::size_t open();
  std::size_t open_from(const std::string& address);

 private:
  void release(const std::string& address);
  std::mutex mutex_;
  std::size_t total_cap_;
  std::size_t per_address_cap_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;  ///< only addresses with an open connection
};

}  // namespace capf::net
