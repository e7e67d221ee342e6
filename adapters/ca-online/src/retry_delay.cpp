#include "capf/ca_online/retry_delay.hpp"

#include <algorithm>

#include "capf/util/backoff.hpp"

namespace capf::ca_online {

std::int64_t backoff_delay_s(int attempt, std::int64_t base_s, std::int64_t ceiling_s, double jitter,
                             util::UnixTime now, std::optional<util::UnixTime> deadline) {
  // One backoff for the whole of capf (util/backoff.hpp); negative settings count as 0.
  return util::backoff_delay(attempt, std::max<std::int64_t>(base_s, 0), std::max<std::int64_t>(ceiling_s, 0), jitter,
                             now, deadline);
}

std::int64_t backoff_delay_s(const OnlineCaParams& params, int attempt, double jitter, util::UnixTime now,
                             std::optional<util::UnixTime> deadline) {
  return backoff_delay_s(attempt, params.retry_base_s, params.retry_ceiling_s, jitter, now, deadline);
}

}  // namespace capf::ca_online
