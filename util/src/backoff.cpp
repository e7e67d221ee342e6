#include "capf/util/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace capf::util {

std::int64_t backoff_delay(int attempt, std::int64_t base_s, std::int64_t ceiling_s, double u, UnixTime now,
                           std::optional<UnixTime> deadline) {
  if (base_s <= 0 || ceiling_s <= 0) return 0;
  attempt = std::max(attempt, 1);
  // base * 2^(attempt-1) without overflow: stop doubling once the ceiling is reached.
  std::int64_t cap = std::min(base_s, ceiling_s);
  for (int i = 1; i < attempt && cap < ceiling_s; ++i) cap = cap > ceiling_s / 2 ? ceiling_s : cap * 2;
  if (!(u >= 0.0)) u = 0.0;  // also catches NaN
  u = std::min(u, std::nextafter(1.0, 0.0));
  auto delay = static_cast<std::int64_t>(std::floor(u * static_cast<double>(cap)));
  if (deadline) {
    const std::int64_t left = *deadline - now;
    if (left <= 0) return 0;
    delay = std::min(delay, left / 2);
  }
  return std::max<std::int64_t>(delay, 0);
}

}  // namespace capf::util
