// Rate limiting and retry backoff for the job engine. Pure: time always comes from the
// caller (util::Clock::now_ms / now), randomness too, so both are testable step by step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "capf/util/backoff.hpp"
#include "capf/util/time.hpp"

namespace capf::engine {

/// Token bucket: `per_minute` tokens per minute, at most `burst` stored. Time in milliseconds
/// from an injected clock (util::Clock::now_ms) — never reads the system clock itself.
/// Unlimited when per_minute <= 0. A burst below 1 is raised to 1 (one dispatch must fit).
/// Time that runs backwards adds no tokens.
class RateLimiter {
 public:
  /// A bucket that starts full (`burst` tokens) at `now_ms`.
  RateLimiter(double per_minute, double burst, std::int64_t now_ms);

  /// Takes a token if one is available at `now_ms`.
  bool try_acquire(std::int64_t now_ms);
  /// Milliseconds until a token is available (0 when one is), rounded up.
  std::int64_t wait_ms(std::int64_t now_ms) const;
  /// Tokens in the bucket at `now_ms` (fractional; for status displays and tests).
  double tokens(std::int64_t now_ms) const;

  /// The configured rate; <= 0 means unlimited.
  double per_minute() const { return per_minute_; }
  /// The most tokens the bucket stores.
  double burst() const { return burst_; }
  /// True when per_minute <= 0.
  bool unlimited() const { return per_minute_ <= 0; }

  /// Change the rate without losing accumulated tokens (capped to the new burst). Tokens
  /// earned up to `now_ms` are counted at the old rate.
  void reconfigure(double per_minute, double burst, std::int64_t now_ms);

 private:
  /// Adds the tokens earned since the last update.
  void refill(std::int64_t now_ms);

  double per_minute_;
  double burst_;
  double tokens_;
  std::int64_t last_ms_;
};

/// The burst a token bucket gets when its tokens are taken once per scheduling tick, not
/// whenever one comes: a bucket that stores less than one tick's share of the rate loses the
/// rest of it at every tick (a burst of 1 checked every 100 ms caps any rate at 600/min).
struct TickBurst {
  double burst = 1;  ///< what the bucket uses
  /// Why it differs from the burst asked for ("automatic: …", "--burst 2 is below …"); empty
  /// when the burst asked for is used as it is (or the rate is unlimited).
  std::string note;
};
/// `requested` <= 0 means none was given: two ticks' share of the rate (at least 1), so a tick
/// that runs up to one period late loses no token. A burst given below one tick's share
/// (ceil(per_minute × tick_ms / 60000)) is raised to that share, and the note says so; any
/// other burst given is used as it is. `flag` names the option in the note ("--burst").
TickBurst tick_burst(double per_minute, double requested, std::int64_t tick_ms, const char* flag);

/// The shared backoff (util/backoff.hpp), under the name the engine has always used.
using util::backoff_delay;

}  // namespace capf::engine
