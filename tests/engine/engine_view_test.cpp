// What a job's view says about its rate: nothing until the job has dispatched for a minute,
// then the dispatches of the last minute.
#include "engine_fixture.hpp"

using namespace capf;
using namespace capf::engine;
using namespace capf::engine_test;

namespace {

/// Ticks every 100 ms for `ms` of clock time.
void run_for(Engine& engine, util::ManualClock& clock, std::int64_t ms) {
  for (std::int64_t t = 0; t < ms; t += 100) {
    engine.tick();
    clock.advance_ms(100);
  }
}

}  // namespace

TEST_F(EngineTest, RateIsMeasuredOverAFullMinuteOnly) {
  add_devices(200);
  start_engine();
  Job j = install_job();
  j.rate_per_minute = 120;
  j.burst = 1;
  const auto id = submit(j);
  run_for(*engine, clock, 30'000);
  auto early = engine->view(id).value();
  EXPECT_FALSE(early.rate_per_minute.has_value()) << "after 30 s a minute's count would be half the rate";
  EXPECT_EQ(early.rate_window_s, 30);
  EXPECT_NEAR(static_cast<double>(early.dispatched_last_minute), 60.0, 2.0);
  ASSERT_TRUE(early.eta.has_value());

  run_for(*engine, clock, 45'000);
  auto later = engine->view(id).value();
  EXPECT_EQ(later.rate_window_s, 60);
  ASSERT_TRUE(later.rate_per_minute.has_value());
  EXPECT_NEAR(*later.rate_per_minute, 120.0, 3.0);
}

TEST_F(EngineTest, RateOfAPausedJobFallsToZeroAfterAMinute) {
  add_devices(200);
  start_engine();
  Job j = install_job();
  j.rate_per_minute = 120;
  const auto id = submit(j);
  run_for(*engine, clock, 70'000);
  ASSERT_TRUE(engine->control(id, "pause", "admin").ok());
  run_for(*engine, clock, 61'000);
  auto v = engine->view(id).value();
  ASSERT_TRUE(v.rate_per_minute.has_value());
  EXPECT_EQ(*v.rate_per_minute, 0.0);
  EXPECT_EQ(v.dispatched_last_minute, 0u);
}
