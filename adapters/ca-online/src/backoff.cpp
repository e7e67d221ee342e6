#include "capf/ca_online/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace capf::ca_online {

std::int64_t backoff_delay_s(int attempt, std::int64_t base_s, std::int64_t ceiling_s, double jitter,
                             util::UnixTime now, std::optional<util::UnixTime> deadline) {
  const int n = std::max(attempt, 1);
  base_s = std::max<std::int64_t>(base_s, 0);
  ceiling_s = std::max<std::int64_t>(ceiling_s, 0);
  // 2^(n-1) in floating point, so a large attempt count saturates at the ceiling instead of overflowing.
  const double grown = static_cast<double>(base_s) * std::pow(2.0, std::min(n - 1, 1000));
  const std::int64_t cap = grown >= static_cast<double>(ceiling_s) ? ceiling_s : static_cast<std::int64_t>(grown);
  if (!(jitter >= 0.0)) jitter = 0.0;  // also catches NaN
  jitter = std::min(jitter, std::nextafter(1.0, 0.0));
  std::int64_t delay = static_cast<std::int64_t>(std::floor(jitter * static_cast<double>(cap)));
  if (deadline) {
    const std::int64_t left = *deadline - now;
    delay = left <= 0 ? 0 : std::min(delay, left / 2);
  }
  return std::max<std::int64_t>(delay, 0);
}

std::int64_t backoff_delay_s(const OnlineCaParams& params, int attempt, double jitter, util::UnixTime now,
                             std::optional<util::UnixTime> deadline) {
  return backoff_delay_s(attempt, params.retry_base_s, params.retry_ceiling_s, jitter, now, deadline);
}

}  // namespace capf::ca_online
