// Full-jitter exponential backoff (CRAFT.md "Lifecycle state"), shared by the job engine's
// retries and the online CA's retries.
#pragma once

#include <cstdint>
#include <optional>

#include "capf/util/time.hpp"

namespace capf::util {

/// Delay in seconds:
///   cap   = min(ceiling_s, base_s * 2^(attempt-1))      (attempt counts from 1; < 1 is 1)
///   delay = floor(u * cap)                              (u in [0,1) from the caller, clamped)
/// and, when `deadline` is given, never more than half the time left to it,
/// floor((deadline - now) / 2), and 0 once the deadline has passed. Never negative.
std::int64_t backoff_delay(int attempt, std::int64_t base_s, std::int64_t ceiling_s, double u, UnixTime now,
                           std::optional<UnixTime> deadline = std::nullopt);

}  // namespace capf::util
