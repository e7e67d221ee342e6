// The engine's own scheduling loop: it runs the engine's rounds and the work wired beside them,
// survives a round that throws, and runs nothing after stop().
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "capf/engine/loop.hpp"
#include "engine_fixture.hpp"

using namespace capf::engine_test;

namespace {

/// Counts rounds and lets the test wait (bounded) for a number of them.
struct Rounds {
  std::mutex m;
  std::condition_variable cv;
  int n = 0;
  void bump() {
    {
      std::lock_guard l(m);
      ++n;
    }
    cv.notify_all();
  }
  bool wait_for_at_least(int want) {
    std::unique_lock l(m);
    return cv.wait_for(l, std::chrono::seconds(30), [&] { return n >= want; });
  }
  int count() {
    std::lock_guard l(m);
    return n;
  }
};

}  // namespace

TEST_F(EngineTest, TheLoopDispatchesAJobAndRunsTheWiredWorkInTheSameRounds) {
  add_devices(3);
  start_engine();
  const auto id = submit(install_job());
  Rounds rounds;
  {
    SchedulingLoop loop(*engine, std::chrono::milliseconds(1), [&] { rounds.bump(); });
    loop.start();
    ASSERT_TRUE(rounds.wait_for_at_least(3));
    loop.stop();
  }
  // The first round already dispatched all three (no limits): each triggered once.
  EXPECT_EQ(runner.calls.size(), 3u);
  EXPECT_EQ(counts(id)[JobDeviceState::triggered], 3u);
}

TEST_F(EngineTest, TheLoopGoesOnAfterARoundThrowsAndRunsNothingAfterStop) {
  add_devices(1);
  start_engine();
  Rounds rounds;
  SchedulingLoop loop(*engine, std::chrono::milliseconds(1), [&] {
    rounds.bump();
    throw std::runtime_error("policy evaluation failed");
  });
  loop.start();
  ASSERT_TRUE(rounds.wait_for_at_least(3)) << "a throwing round must not end the loop";
  loop.stop();
  const int after_stop = rounds.count();
  loop.stop();  // a second stop is harmless, and the joined thread bumps no more
  EXPECT_EQ(rounds.count(), after_stop);
}
