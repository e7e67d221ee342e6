// The dashboard's login throttle: attempts are counted per client (an IPv4 address, or the /64
// of an IPv6 address) *before* the slow password check, so parallel guesses cannot overtake the
// count, and memory stays bounded by evicting the client whose last attempt is oldest — never by
// forgetting everyone's counts at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace capf::web {

/// The client a login attempt is counted under: an IPv4 address as is (also when written as an
/// IPv4-mapped IPv6 address), an IPv6 address as its /64 ("2001:db8:1:2::/64"), because one
/// host usually holds a whole /64. Any other text is its own key.
std::string throttle_key(std::string_view address);

/// Login attempts per client key within a sliding window. Thread-safe.
class LoginThrottle {
 public:
  struct Limits {
    int attempts = 10;                                     ///< per client key within `window`
    std::chrono::seconds window = std::chrono::minutes(5);
    std::size_t max_clients = 10000;                       ///< client keys tracked at once
  };
  explicit LoginThrottle(Limits limits) : limits_(limits) {}
  LoginThrottle() : LoginThrottle(Limits{}) {}

  /// Counts one attempt from `address` at `now_ms`, before its credentials are checked. False
  /// (and not counted) when its key already has `attempts` attempts within the window; the
  /// refused client still counts as recently seen, so it is the last to be evicted.
  bool try_attempt(std::string_view address, std::int64_t now_ms);
  /// The latest attempt from `address` succeeded: it no longer counts (earlier ones still do,
  /// so logging in with one account does not clear the guesses made at another).
  void succeeded(std::string_view address);
  /// Client keys tracked now (at most max_clients).
  std::size_t clients();

 private:
  struct Client {
    std::vector<std::int64_t> attempts;       ///< times within the window, oldest first; at most `attempts`
    std::list<std::string>::iterator recency;  ///< position in recency_
  };
  void touch(Client& c);
  void evict_one();

  Limits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Client> clients_;
  std::list<std::string> recency_;  ///< client keys, least recently seen first
};

}  // namespace capf::web
