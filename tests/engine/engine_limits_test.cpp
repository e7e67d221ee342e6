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
