#include "capf/sim/simulator.hpp"

namespace capf::sim {

void KeyStash::add(crypto::PrivateKey key) {
  std::lock_guard lock(mutex_);
  keys_.push_back(std::move(key));
}

std::optional<crypto::PrivateKey> KeyStash::take(const KeySpec& spec) {
  std::lock_guard lock(mutex_);
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    if (to_string(it->spec()) != to_string(spec)) continue;
    crypto::PrivateKey key = std::move(*it);
    keys_.erase(std::next(it).base());
    return key;
  }
  return std::nullopt;
}

std::size_t KeyStash::size() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

}  // namespace capf::sim
