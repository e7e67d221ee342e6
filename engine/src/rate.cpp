// Token bucket and full-jitter backoff.
#include "capf/engine/rate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace capf::engine {
namespace {

constexpr double kMsPerMinute = 60000.0;
/// Tolerance for float rounding: a token 1e-9 short still counts, so wait_ms's promise holds.
constexpr double kOne = 1.0 - 1e-9;

double sane_burst(double burst) {
  return std::isfinite(burst) ? std::max(burst, 1.0) : 1.0;
}

}  // namespace

RateLimiter::RateLimiter(double per_minute, double burst, std::int64_t now_ms)
    : per_minute_(per_minute), burst_(sane_burst(burst)), tokens_(burst_), last_ms_(now_ms) {}

void RateLimiter::refill(std::int64_t now_ms) {
  if (now_ms <= last_ms_) return;  // a clock that steps back earns nothing
  if (per_minute_ > 0)
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * per_minute_ / kMsPerMinute);
  last_ms_ = now_ms;
}

double RateLimiter::tokens(std::int64_t now_ms) const {
  if (unlimited()) return burst_;
  RateLimiter copy = *this;
  copy.refill(now_ms);
  return copy.tokens_;
}

bool RateLimiter::try_acquire(std::int64_t now_ms) {
  if (unlimited()) return true;
  refill(now_ms);
  if (tokens_ < kOne) return false;
  tokens_ -= 1.0;
  return true;
}

std::int64_t RateLimiter::wait_ms(std::int64_t now_ms) const {
  if (unlimited()) return 0;
  const double have = tokens(now_ms);
  if (have >= kOne) return 0;
  // The small subtraction keeps float noise (1.0000000000000009 ms) from adding a whole ms.
  const auto ms = static_cast<std::int64_t>(std::ceil((1.0 - have) * kMsPerMinute / per_minute_ - 1e-6));
  return std::max<std::int64_t>(ms, 1);
}

void RateLimiter::reconfigure(double per_minute, double burst, std::int64_t now_ms) {
  refill(now_ms);
  last_ms_ = std::max(last_ms_, now_ms);
  per_minute_ = per_minute;
  burst_ = sane_burst(burst);
  tokens_ = std::min(tokens_, burst_);
}

TickBurst tick_burst(double per_minute, double requested, std::int64_t tick_ms, const char* flag) {
  TickBurst out;
  out.burst = sane_burst(requested);
  if (per_minute <= 0 || !std::isfinite(per_minute)) return out;  // unlimited: the burst is never looked at
  const double share = per_minute * static_cast<double>(std::max<std::int64_t>(tick_ms, 1)) / kMsPerMinute;
  // The small subtraction keeps float noise (5.0000000001) from asking one token more.
  const double one_tick = std::max(1.0, std::ceil(share - 1e-9));
  if (!std::isfinite(requested) || requested <= 0) {
    out.burst = std::max(1.0, std::ceil(2 * share - 1e-9));
    out.note = fmt::format("automatic: two {} ms ticks' share of {:g}/min", tick_ms, per_minute);
  } else if (requested < one_tick) {
    out.burst = one_tick;
    out.note = fmt::format("{} {:g} is below one {} ms tick's share of {:g}/min: raised to {:g}", flag, requested,
                           tick_ms, per_minute, one_tick);
  }
  return out;
}

}  // namespace capf::engine
