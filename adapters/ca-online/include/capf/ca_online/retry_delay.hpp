// How long to wait before asking an online CA again after a transient failure. Pure: the
// caller supplies the time and the randomness, so every step is testable.
#pragma once

#include <cstdint>
#include <optional>

#include "capf/core/service_params.hpp"
#include "capf/util/time.hpp"

namespace capf::ca_online {

/// Exponential backoff with full jitter, in whole seconds:
///   cap   = min(ceiling_s, base_s * 2^(attempt-1))   (attempt counts from 1; below 1 counts as 1)
///   delay = floor(jitter * cap)                      (jitter in [0,1), clamped into it)
/// and, when `deadline` is given, never past half the time left to it: at most
/// floor((deadline - now) / 2), 0 once the deadline has passed. Never negative; a base or
/// ceiling below 0 counts as 0.
std::int64_t backoff_delay_s(int attempt, std::int64_t base_s, std::int64_t ceiling_s, double jitter,
                             util::UnixTime now, std::optional<util::UnixTime> deadline = std::nullopt);

/// The same with the Online CA Parameters' retry_base_s and retry_ceiling_s.
std::int64_t backoff_delay_s(const OnlineCaParams& params, int attempt, double jitter, util::UnixTime now,
                             std::optional<util::UnixTime> deadline = std::nullopt);

}  // namespace capf::ca_online
