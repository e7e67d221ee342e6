// Token bucket driven by a ManualClock, and full-jitter backoff with the deadline cap.
#include <gtest/gtest.h>

#include <cmath>

#include "capf/engine/rate.hpp"

using namespace capf;
using namespace capf::engine;

namespace {

/// Dispatches `n` times as fast as the limiter allows, sleeping exactly wait_ms between
/// refusals; returns the simulated milliseconds between the first and the last dispatch.
std::int64_t run(RateLimiter& rl, util::ManualClock& clock, int n) {
  std::int64_t first = -1;
  std::int64_t last = 0;
  int done = 0;
  int spins = 0;
  while (done < n && spins < 10 * n) {
    if (rl.try_acquire(clock.now_ms())) {
      if (first < 0) first = clock.now_ms();
      last = clock.now_ms();
      ++done;
    } else {
      const auto w = rl.wait_ms(clock.now_ms());
      EXPECT_GT(w, 0);
      clock.advance_ms(w);
      ++spins;
    }
  }
  EXPECT_EQ(done, n);
  return last - first;
}

/// Measured dispatches per minute over a steady run of n dispatches (n-1 gaps).
double measured_rate(double per_minute, double burst, int n) {
  util::ManualClock clock(1'800'000'000);
  RateLimiter rl(per_minute, burst, clock.now_ms());
  // Drain the initial burst first so only the steady rate is measured.
  while (rl.try_acquire(clock.now_ms())) {
  }
  const auto ms = run(rl, clock, n);
  return (n - 1) * 60000.0 / static_cast<double>(ms);
}

}  // namespace

TEST(RateLimiter, SteadyRateWithinOnePercent) {
  for (double rate : {300.0, 7.0}) {
    for (double burst : {1.0, 50.0}) {
      const double got = measured_rate(rate, burst, 600);
      EXPECT_NEAR(got, rate, rate * 0.01) << rate << "/min burst " << burst;
    }
  }
  // 300/min with burst 1 from a full bucket: 600 dispatches take 599 x 200 ms exactly.
  util::ManualClock clock(0);
  RateLimiter rl(300, 1, clock.now_ms());
  EXPECT_EQ(run(rl, clock, 600), 599 * 200);
}

TEST(RateLimiter, BurstIsHonoured) {
  util::ManualClock clock(1000);
  RateLimiter rl(300, 50, clock.now_ms());  // starts full
  int got = 0;
  while (rl.try_acquire(clock.now_ms())) ++got;
  EXPECT_EQ(got, 50);
  EXPECT_EQ(rl.wait_ms(clock.now_ms()), 200);  // one token per 200 ms at 300/min
  clock.advance_ms(199);
  EXPECT_FALSE(rl.try_acquire(clock.now_ms()));
  EXPECT_EQ(rl.wait_ms(clock.now_ms()), 1);
  clock.advance_ms(1);
  EXPECT_EQ(rl.wait_ms(clock.now_ms()), 0);
  EXPECT_TRUE(rl.try_acquire(clock.now_ms()));
  EXPECT_FALSE(rl.try_acquire(clock.now_ms()));
}

TEST(RateLimiter, LongIdleStillAllowsOnlyBurst) {
  util::ManualClock clock(0);
  RateLimiter rl(300, 20, clock.now_ms());
  while (rl.try_acquire(clock.now_ms())) {
  }
  clock.advance(24 * 3600);  // a day idle earns 432,000 tokens, capped at 20
  EXPECT_DOUBLE_EQ(rl.tokens(clock.now_ms()), 20.0);
  int got = 0;
  while (rl.try_acquire(clock.now_ms())) ++got;
  EXPECT_EQ(got, 20);
}

TEST(RateLimiter, ReconfigureKeepsTokensCappedToNewBurst) {
  util::ManualClock clock(0);
  RateLimiter rl(60, 10, clock.now_ms());  // one token a second
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rl.try_acquire(clock.now_ms()));
  clock.advance(4);  // 4 tokens earned at the old rate
  rl.reconfigure(600, 100, clock.now_ms());
  EXPECT_EQ(rl.per_minute(), 600);
  EXPECT_EQ(rl.burst(), 100);
  EXPECT_NEAR(rl.tokens(clock.now_ms()), 4.0, 1e-9);
  clock.advance_ms(500);  // 5 more at 10 per second
  EXPECT_NEAR(rl.tokens(clock.now_ms()), 9.0, 1e-9);
  rl.reconfigure(6, 2, clock.now_ms());  // lower burst: 9 tokens capped to 2
  EXPECT_NEAR(rl.tokens(clock.now_ms()), 2.0, 1e-9);
  EXPECT_TRUE(rl.try_acquire(clock.now_ms()));
  EXPECT_TRUE(rl.try_acquire(clock.now_ms()));
  EXPECT_FALSE(rl.try_acquire(clock.now_ms()));
  EXPECT_EQ(rl.wait_ms(clock.now_ms()), 10000);  // 6/min = one per 10 s
}

TEST(RateLimiter, UnlimitedAndOddInputs) {
  util::ManualClock clock(0);
  RateLimiter rl(0, 5, clock.now_ms());
  EXPECT_TRUE(rl.unlimited());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(rl.try_acquire(clock.now_ms()));
  EXPECT_EQ(rl.wait_ms(clock.now_ms()), 0);
  // A burst below 1 still lets one dispatch through.
  RateLimiter tiny(60, 0.2, clock.now_ms());
  EXPECT_EQ(tiny.burst(), 1.0);
  EXPECT_TRUE(tiny.try_acquire(clock.now_ms()));
  // A clock stepping backwards earns nothing.
  RateLimiter back(60, 1, 10'000);
  EXPECT_TRUE(back.try_acquire(10'000));
  EXPECT_FALSE(back.try_acquire(5'000));
  EXPECT_FALSE(back.try_acquire(10'999));
  EXPECT_TRUE(back.try_acquire(11'000));
}

TEST(Backoff, GrowsExponentiallyToTheCeiling) {
  // u just below 1 shows the cap: base 30 s doubles 30, 60, 120, 240, then the 300 s ceiling.
  const double u = std::nextafter(1.0, 0.0);
  EXPECT_EQ(backoff_delay(1, 30, 300, u, 0), 29);  // floor(0.999.. x 30)
  EXPECT_EQ(backoff_delay(2, 30, 300, u, 0), 59);
  EXPECT_EQ(backoff_delay(3, 30, 300, u, 0), 119);
  EXPECT_EQ(backoff_delay(4, 30, 300, u, 0), 239);
  EXPECT_EQ(backoff_delay(5, 30, 300, u, 0), 299);
  EXPECT_EQ(backoff_delay(60, 30, 300, u, 0), 299);        // no overflow at large attempts
  EXPECT_EQ(backoff_delay(1000, 30, 300, 0.5, 0), 150);    // half the ceiling
  EXPECT_EQ(backoff_delay(3, 30, 300, 0.5, 0), 60);        // 0.5 x 120
  EXPECT_EQ(backoff_delay(0, 30, 300, 0.5, 0), 15);        // attempt < 1 counts as 1
  EXPECT_EQ(backoff_delay(1, 30, 300, 1.0, 0), 29);        // u = 1 is clamped below 1
}

TEST(Backoff, FullJitterStartsAtZero) {
  for (int attempt = 1; attempt < 20; ++attempt) EXPECT_EQ(backoff_delay(attempt, 30, 3600, 0.0, 0), 0);
  EXPECT_EQ(backoff_delay(4, 30, 3600, -0.3, 0), 0);          // negative u clamped to 0
  EXPECT_EQ(backoff_delay(4, 30, 3600, std::nan(""), 0), 0);  // so is NaN
  EXPECT_EQ(backoff_delay(4, 0, 3600, 0.9, 0), 0);            // no base: retry at once
}

TEST(Backoff, NeverPastHalfTheTimeLeftToTheDeadline) {
  const util::UnixTime now = 1'800'000'000;
  // cap 240 s at attempt 4, u=0.9 -> 216 s; 1000 s left -> half is 500, no effect.
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, now + 1000), 216);
  // 300 s left -> at most 150 s.
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, now + 300), 150);
  // 3 s left -> 1 s (floor of 1.5).
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, now + 3), 1);
  // At or past the deadline -> 0.
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, now), 0);
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, now - 60), 0);
  EXPECT_EQ(backoff_delay(4, 30, 300, 0.9, now, std::nullopt), 216);
}

TEST(TickBurst, CoversTheTicksShareOfTheRate) {
  struct Row {
    double per_minute, requested;
    std::int64_t tick_ms;
    double burst;
    bool noted;
  };
  const Row rows[] = {
      {0, 0, 100, 1, false},        // unlimited: the burst is never looked at
      {0, 4, 100, 4, false},
      {60, 0, 100, 1, true},        // automatic: 0.1 a tick, two ticks' share rounds up to 1
      {600, 0, 100, 2, true},       // automatic: two ticks' share
      {3000, 0, 100, 10, true},
      {3000, 0, 1000, 100, true},   // a slower tick needs more
      {3000, 1, 100, 5, true},      // given below one tick's share: raised to it
      {3000, 4.5, 100, 5, true},
      {3000, 5, 100, 5, false},     // at the share: as given
      {3000, 50, 100, 50, false},
      {2000, 1, 100, 4, true},      // 3.33 a tick
  };
  for (const auto& r : rows) {
    const auto b = tick_burst(r.per_minute, r.requested, r.tick_ms, "--burst");
    EXPECT_EQ(b.burst, r.burst) << r.per_minute << "/min, burst " << r.requested << ", tick " << r.tick_ms;
    EXPECT_EQ(!b.note.empty(), r.noted) << r.per_minute << "/min, burst " << r.requested << ": " << b.note;
  }
}
