// The engine's daemon-wide limits and submit-time refusals that span jobs.
#include "engine_fixture.hpp"

using namespace capf;
using namespace capf::engine;
using namespace capf::engine_test;

TEST_F(EngineTest, GlobalCapsSpanEveryJob) {
  add_devices(30);
  EngineConfig c;
  c.global_max_in_flight = 4;
  start_engine(c);
  std::vector<std::string> first(names.begin(), names.begin() + 15), second(names.begin() + 15, names.end());
  const auto a = submit(install_job(), first);
  const auto b = submit(install_job(), second);
  std::size_t handled = 0, max_seen = 0;
  for (int step = 0; step < 400 && handled < 30; ++step) {
    engine->tick();
    max_seen = std::max(max_seen, engine->in_flight());
    if (handled < runner.calls.size()) session(runner.calls[handled++].device, true);
    clock.advance_ms(100);
  }
  engine->tick();
  EXPECT_EQ(max_seen, 4u);
  EXPECT_EQ(counts(a)[JobDeviceState::succeeded], 15u);
  EXPECT_EQ(counts(b)[JobDeviceState::succeeded], 15u);
}

TEST_F(EngineTest, GlobalRateSpansEveryJob) {
  add_devices(80);
  EngineConfig c;
  c.global_rate_per_minute = 60;
  start_engine(c);
  std::vector<std::string> first(names.begin(), names.begin() + 40), second(names.begin() + 40, names.end());
  Job fast = install_job();
  fast.rate_per_minute = 600;  // each job alone could go ten times faster
  submit(fast, first);
  submit(fast, second);
  for (int step = 0; step < 20000 && runner.calls.size() < 80; ++step) {
    engine->tick();
    clock.advance_ms(50);
  }
  ASSERT_EQ(runner.calls.size(), 80u);
  const double minutes = static_cast<double>(runner.calls.back().at_ms - runner.calls.front().at_ms) / 60000.0;
  EXPECT_NEAR(79.0 / minutes, 60.0, 3.0);
}

TEST_F(EngineTest, ExistingCertificateModesNeedAKnownCertificate) {
  store::Transition t;
  Device jabber;
  jabber.name = "CSFjsmith";
  t.put_devices.push_back(jabber);
  ASSERT_TRUE(store->apply(t).ok());
  start_engine();
  for (auto mode : {AuthMode::existing_cert_mic, AuthMode::existing_cert_lsc}) {
    Job j = install_job();
    j.auth_mode = mode;
    SubmitRequest r;
    r.job = j;
    r.devices = {"CSFjsmith"};
    auto res = engine->submit(r).value();
    EXPECT_FALSE(res.submitted);
    ASSERT_EQ(res.refused.size(), 1u);
    EXPECT_NE(res.refused[0].second.find("By Existing Certificate"), std::string::npos) << res.refused[0].second;
  }
}

namespace {

/// Apply Config that only counts: it never reports, so the phones stay triggered and every
/// store write of the run is a scheduling round's.
class CountingRunner : public TriggerRunner {
 public:
  void trigger(const std::string&, const Device&, std::function<void(TriggerResult)>) override { ++calls; }
  std::size_t calls = 0;
};

/// Ticks every 100 ms (the daemon's default --tick-ms) for one simulated minute; the
/// dispatches of that minute.
std::size_t dispatched_in_a_minute(Engine& engine, util::ManualClock& clock, const CountingRunner& runner) {
  for (int tick = 0; tick < 600; ++tick) {
    engine.tick();
    clock.advance_ms(100);
  }
  return runner.calls;
}

}  // namespace

// A burst of 1 checked once a 100 ms tick let through at most 600 a minute whatever the rate:
// the automatic burst covers the ticks' share of the rate, for a job's rate and the global one.
TEST_F(EngineTest, AJobsRateIsNotCappedByItsTicks) {
  add_devices(3100);
  CountingRunner counting;
  engine = std::make_unique<Engine>(*store, clock, counting, EngineConfig{});
  ASSERT_TRUE(engine->recover().ok());
  Job j = install_job();
  j.rate_per_minute = 3000;  // 5 a tick
  const auto id = submit(j);
  const auto v = engine->view(id).value();
  EXPECT_EQ(v.burst, 10) << "two ticks' share";
  EXPECT_NE(v.burst_note.find("automatic"), std::string::npos) << v.burst_note;
  const auto n = dispatched_in_a_minute(*engine, clock, counting);
  // 600 ticks of 5, the first one taking the full bucket (10): the rate itself, within one burst.
  EXPECT_GE(n, 3000u);
  EXPECT_LE(n, 3010u);
}

TEST_F(EngineTest, TheGlobalRateIsNotCappedByItsTicks) {
  add_devices(3100);
  CountingRunner counting;
  EngineConfig c;
  c.global_rate_per_minute = 3000;
  engine = std::make_unique<Engine>(*store, clock, counting, c);
  ASSERT_TRUE(engine->recover().ok());
  submit(install_job());  // no rate of its own
  const auto n = dispatched_in_a_minute(*engine, clock, counting);
  EXPECT_GE(n, 3000u);
  EXPECT_LE(n, 3010u);
}

// A burst given below one tick's share is raised to it, and --dry-run and `job show` say so; one
// at or above the share is used as given.
TEST_F(EngineTest, ABurstBelowOneTicksShareIsRaisedWithANote) {
  add_devices(20);
  start_engine();
  Job j = install_job();
  j.rate_per_minute = 3000;
  j.burst = 2;
  SubmitRequest dry;
  dry.job = j;
  dry.devices = names;
  dry.dry_run = true;
  const auto shown = engine->submit(dry).value();
  EXPECT_EQ(shown.burst, 5);
  EXPECT_EQ(shown.burst_note, "--burst 2 is below one 100 ms tick's share of 3000/min: raised to 5");
  const auto id = submit(j, {names.begin(), names.begin() + 10});
  EXPECT_EQ(engine->view(id).value().burst, 5);
  EXPECT_EQ(engine->view(id).value().burst_note, shown.burst_note);
  j.burst = 7;
  const auto kept = submit(j, {names.begin() + 10, names.end()});
  EXPECT_EQ(engine->view(kept).value().burst, 7);
  EXPECT_EQ(engine->view(kept).value().burst_note, "");
}
