// Wall-clock time as Unix seconds, an injectable clock, and ISO 8601 text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capf::util {

/// Seconds since the Unix epoch, UTC.
using UnixTime = std::int64_t;

/// The source of "now"; tests inject a manual one.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Current time.
  virtual UnixTime now() const = 0;
  /// Current time in milliseconds since the epoch (rate limits need sub-second steps).
  virtual std::int64_t now_ms() const { return now() * 1000; }
};

/// The real wall clock.
class SystemClock final : public Clock {
 public:
  UnixTime now() const override;
  std::int64_t now_ms() const override;
};

/// A clock that only moves when told; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixTime start) : now_ms_(start * 1000) {}
  UnixTime now() const override { return now_ms_ / 1000; }
  std::int64_t now_ms() const override { return now_ms_; }
  void advance(std::int64_t seconds) { now_ms_ += seconds * 1000; }
  void advance_ms(std::int64_t ms) { now_ms_ += ms; }
  void set(UnixTime t) { now_ms_ = t * 1000; }

 private:
  std::int64_t now_ms_;
};

/// Current wall-clock time.
UnixTime now();

/// "2026-11-27T12:00:00Z".
std::string format_iso8601(UnixTime t);

/// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]Z", "YYYY-MM-DD HH:MM[:SS]" (UTC) or with a
/// numeric offset "+01:00"; nullopt when the text is none of these.
std::optional<UnixTime> parse_iso8601(std::string_view text);

/// The longest wait a peer's Retry-After may ask for; a longer one is cut to this.
inline constexpr std::int64_t kMaxRetryAfterS = 86400;

/// An HTTP Retry-After value (RFC 9110 §10.2.3) as seconds from `now`: delay-seconds, or an
/// HTTP-date (a past date is 0). Bounded to 0–kMaxRetryAfterS before any arithmetic, whatever
/// the peer wrote; nullopt when it is neither form.
std::optional<std::int64_t> parse_retry_after(std::string_view value, UnixTime now);

}  // namespace capf::util
