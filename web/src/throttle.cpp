#include "capf/web/throttle.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace capf::web {

std::string throttle_key(std::string_view address) {
  std::string text(address);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  std::array<unsigned char, 16> v6{};
  if (text.find(':') == std::string::npos || ::inet_pton(AF_INET6, text.c_str(), v6.data()) != 1) return text;
  static constexpr std::array<unsigned char, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN] = {};
  if (std::equal(kMapped.begin(), kMapped.end(), v6.begin())) {
    ::inet_ntop(AF_INET, v6.data() + 12, out, sizeof out);
    return out;
  }
  std::fill(v6.begin() + 8, v6.end(), 0);
  ::inet_ntop(AF_INET6, v6.data(), out, sizeof out);
  return std::string(out) + "/64";
}

void LoginThrottle::touch(Client& c) { recency_.splice(recency_.end(), recency_, c.recency); }

void LoginThrottle::evict_one() {
  // The front was seen least recently: either its attempts have all expired, or every other
  // client's are newer. Only that one client's count is lost.
  clients_.erase(recency_.front());
  recency_.pop_front();
}

bool LoginThrottle::try_attempt(std::string_view address, std::int64_t now_ms) {
  const std::string key = throttle_key(address);
  const std::int64_t since = now_ms - std::chrono::milliseconds(limits_.window).count();
  std::lock_guard lock(mutex_);
  auto it = clients_.find(key);
  if (it == clients_.end()) {
    while (!clients_.empty() && clients_.size() >= std::max<std::size_t>(1, limits_.max_clients)) evict_one();
    recency_.push_back(key);
    it = clients_.emplace(key, Client{{}, std::prev(recency_.end())}).first;
  }
  Client& c = it->second;
  touch(c);
  auto& times = c.attempts;
  times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](std::int64_t t) { return t >= since; }));
  if (static_cast<int>(times.size()) >= limits_.attempts) return false;
  times.push_back(now_ms);
  return true;
}

void LoginThrottle::succeeded(std::string_view address) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(throttle_key(address));
  if (it != clients_.end() && !it->second.attempts.empty()) it->second.attempts.pop_back();
}

std::size_t LoginThrottle::clients() {
  std::lock_guard lock(mutex_);
  return clients_.size();
}

}  // namespace capf::web
