// The job engine with an injected clock, a real store in a temporary directory and a fake
// Apply Config that records when it was called.
#include "engine_fixture.hpp"

using namespace capf;
using namespace capf::engine;
using namespace capf::engine_test;

TEST_F(EngineTest, DispatchRateStaysWithinFivePercentOfTheSetting) {
  add_devices(120);
  start_engine();
  Job j = install_job();
  j.rate_per_minute = 300;
  j.burst = 1;
  submit(j);
  for (int step = 0; step < 3000 && runner.calls.size() < 120; ++step) {
    engine->tick();
    clock.advance_ms(10);
  }
  ASSERT_EQ(runner.calls.size(), 120u);
  const double minutes = static_cast<double>(runner.calls.back().at_ms - runner.calls.front().at_ms) / 60000.0;
  const double measured = static_cast<double>(runner.calls.size() - 1) / minutes;
  std::printf("dispatch rate: set 300/min, measured %.2f/min over %zu dispatches (ratio %.4f)\n", measured,
              runner.calls.size(), measured / 300.0);
  EXPECT_NEAR(measured, 300.0, 15.0);
}

TEST_F(EngineTest, ConcurrencyCapIsNeverExceeded) {
  add_devices(40);
  start_engine();
  Job j = install_job();
  j.max_in_flight = 5;
  const auto id = submit(j);
  std::size_t max_seen = 0, done = 0;
  std::size_t handled = 0;
  for (int step = 0; step < 1000 && done < 40; ++step) {
    engine->tick();
    max_seen = std::max(max_seen, engine->in_flight());
    // Every other round the oldest triggered phone finishes its session.
    if (step % 2 == 1 && handled < runner.calls.size()) {
      session(runner.calls[handled++].device, true);
      ++done;
    }
    clock.advance_ms(100);
  }
  EXPECT_EQ(done, 40u);
  EXPECT_LE(max_seen, 5u);
  EXPECT_EQ(max_seen, 5u) << "the cap was never reached, so the test proves nothing";
  engine->tick();
  EXPECT_EQ(counts(id)[JobDeviceState::succeeded], 40u);
  EXPECT_EQ(engine->view(id)->job.state, JobState::completed);
}

TEST_F(EngineTest, CanaryFailuresHoldTheJobAutomatically) {
  add_devices(20);
  start_engine();
  Job j = install_job();
  j.canary = 4;
  j.max_fail_pct = 25;
  const auto id = submit(j);
  engine->tick();
  ASSERT_EQ(runner.calls.size(), 4u) << "only the canary wave goes first";
  session(runner.calls[0].device, true);
  session(runner.calls[1].device, false, false);
  session(runner.calls[2].device, false, false);
  session(runner.calls[3].device, true);
  for (int i = 0; i < 5; ++i) {
    engine->tick();
    clock.advance(1);
  }
  auto v = engine->view(id).value();
  EXPECT_EQ(v.job.state, JobState::canary_hold);
  EXPECT_NE(v.job.state_reason.find("2 of 4 devices failed (50.0 % > 25.0 %)"), std::string::npos) << v.job.state_reason;
  EXPECT_EQ(runner.calls.size(), 4u) << "nothing beyond the canary while held";
  ASSERT_TRUE(engine->control(id, "release", "admin").ok());
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 20u);
}

TEST_F(EngineTest, PauseStopsNewDispatchAndResumeGoesOn) {
  add_devices(10);
  start_engine();
  Job j = install_job();
  j.max_in_flight = 3;
  const auto id = submit(j);
  engine->tick();
  ASSERT_EQ(runner.calls.size(), 3u);
  ASSERT_TRUE(engine->control(id, "pause", "admin").ok());
  session(runner.calls[0].device, true);  // in flight drains while paused
  session(runner.calls[1].device, true);
  for (int i = 0; i < 10; ++i) {
    engine->tick();
    clock.advance(1);
  }
  EXPECT_EQ(runner.calls.size(), 3u);
  EXPECT_EQ(counts(id)[JobDeviceState::succeeded], 2u);
  ASSERT_TRUE(engine->control(id, "resume", "admin").ok());
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 5u);
  EXPECT_FALSE(engine->control(id, "resume", "admin").ok()) << "resume of an active job is refused";
}

TEST_F(EngineTest, CancelMarksRemainingDevicesCancelledNeverFailed) {
  add_devices(10);
  start_engine();
  Job j = install_job();
  j.max_in_flight = 2;
  const auto id = submit(j);
  engine->tick();
  session(runner.calls[0].device, true);
  ASSERT_TRUE(engine->control(id, "cancel", "admin").ok());
  auto c = counts(id);
  EXPECT_EQ(c[JobDeviceState::succeeded], 1u);
  EXPECT_EQ(c[JobDeviceState::cancelled], 9u);
  EXPECT_EQ(c[JobDeviceState::failed], 0u);
  auto d = store->get_device(names[5]).value().value();
  EXPECT_EQ(d.operation, CertificateOperation::none) << "a cancelled device is disarmed";
  EXPECT_TRUE(d.job_id.empty());
  EXPECT_EQ(engine->view(id)->job.state, JobState::cancelled);
}

TEST_F(EngineTest, RetryRequeuesFailedDevices) {
  add_devices(3);
  start_engine();
  runner.fail.insert(names[1]);
  const auto id = submit(install_job());
  engine->tick();
  session(names[0], true);
  session(names[2], true);
  engine->tick();
  EXPECT_EQ(counts(id)[JobDeviceState::failed], 1u);
  EXPECT_EQ(engine->view(id)->job.state, JobState::completed);
  EXPECT_NE(engine->devices(id)->at(1).reason.find("Apply Config permanent: HTTP 404"), std::string::npos);
  runner.fail.clear();
  ASSERT_TRUE(engine->control(id, "retry", "admin").ok());
  engine->tick();
  session(names[1], true);
  engine->tick();
  EXPECT_EQ(counts(id)[JobDeviceState::succeeded], 3u);
  EXPECT_EQ(store->get_device(names[1]).value()->operation, CertificateOperation::install_upgrade)
      << "the session hook in this test does not clear the operation; the retry re-armed it";
}

TEST_F(EngineTest, DeadlineExpiresUnfinishedDevicesAndVoidsTheirStrings) {
  add_devices(4);
  start_engine();
  Job j = install_job();
  j.auth_mode = AuthMode::auth_string;
  j.string_policy = StringPolicy::unique;
  j.completes_by = kStart + 60;
  j.max_in_flight = 1;
  SubmitRequest r;
  r.job = j;
  r.devices = names;
  auto res = engine->submit(r).value();
  ASSERT_TRUE(res.submitted);
  ASSERT_EQ(res.generated_strings.size(), 4u);
  for (const auto& [device, s] : res.generated_strings) EXPECT_TRUE(valid_auth_string(s));
  engine->tick();
  session(names[0], true);
  clock.advance(61);
  engine->tick();
  auto c = counts(res.job_id);
  EXPECT_EQ(c[JobDeviceState::succeeded], 1u);
  EXPECT_EQ(c[JobDeviceState::expired], 3u);
  auto d = store->get_device(names[3]).value().value();
  EXPECT_EQ(d.status, OperationStatus::expired);
  EXPECT_TRUE(d.auth_string.empty());
}

TEST_F(EngineTest, NothingDispatchesOutsideTheWindow) {
  add_devices(30);
  EngineConfig c;
  c.retry.session_wait_s = 7 * 86400;  // no retries in this test: only first dispatches count
  start_engine(c);
  Job j = install_job();
  j.windows = {"0 9 * * * 10m UTC"};  // 09:00–09:10 UTC daily; the clock starts at 08:00
  j.rate_per_minute = 2;
  const auto id = submit(j);
  Schedule s = Schedule::make({Window::parse(j.windows[0]).value()}, {}, {}).value();
  for (int i = 0; i < 2 * 24 * 720; ++i) {  // two days in 5 s steps
    engine->tick();
    clock.advance(5);
  }
  std::set<std::string> dispatched;
  for (const auto& c : runner.calls) {
    dispatched.insert(c.device);
    EXPECT_TRUE(s.is_open(c.at_ms / 1000)) << c.device << " at " << util::format_iso8601(c.at_ms / 1000);
  }
  EXPECT_EQ(dispatched.size(), 30u) << "two 10-minute windows at 2/min reach every device";
  EXPECT_GE(runner.calls.size(), 30u);
  EXPECT_LE(runner.calls.size(), 2u * 21u) << "no window allows more than 10 min × 2/min + burst";
  (void)id;
}

TEST_F(EngineTest, SubmissionRefusesWhatCannotWork) {
  add_devices(2, "Cisco 8841 - Standard SIP Secure Profile");
  start_engine();
  Job j = install_job();
  j.auth_mode = AuthMode::auth_string;
  j.string_policy = StringPolicy::unique;
  SubmitRequest r;
  r.job = j;
  r.devices = {names[0], names[1], "SEP00000000FFFF"};
  auto res = engine->submit(r).value();
  EXPECT_FALSE(res.submitted);
  ASSERT_EQ(res.refused.size(), 3u);
  EXPECT_NE(res.refused[0].second.find("does not register until the CAPF session ends"), std::string::npos);
  EXPECT_EQ(res.refused[2].second, "no such device in the inventory");
  // A deadline the window cannot meet: refused with numbers, unless forced.
  Job late = install_job();
  late.windows = {"0 1 * * 6 1h UTC"};
  late.rate_per_minute = 1;
  late.completes_by = kStart + 86400 * 30;
  SubmitRequest lr;
  lr.job = late;
  lr.devices = names;
  auto lres = engine->submit(lr);
  ASSERT_TRUE(lres.ok());
  EXPECT_TRUE(lres->capacity_fits) << lres->capacity;
}

TEST_F(EngineTest, RestartRequeuesSessionsThatDiedAndKeepsEverythingElse) {
  add_devices(3);
  start_engine();
  const auto id = submit(install_job());
  engine->tick();
  Device d = store->get_device(names[0]).value().value();
  SessionEvent e;
  e.kind = SessionEvent::Kind::started;
  auto jd = engine->on_session_event(d, e);
  store::Transition t;
  t.put_job_devices.push_back(*jd);
  ASSERT_TRUE(store->apply(t).ok());
  session(names[1], true);
  engine.reset();  // the daemon dies
  start_engine();
  auto devices = engine->devices(id).value();
  EXPECT_EQ(devices[0].state, JobDeviceState::queued);
  EXPECT_EQ(devices[0].reason, "daemon restarted during the CAPF session");
  EXPECT_EQ(devices[1].state, JobDeviceState::succeeded);
  EXPECT_EQ(devices[2].state, JobDeviceState::triggered);
  // The requeued device is dispatched again: the in-flight count came through the restart intact.
  EXPECT_EQ(engine->in_flight(), 1u);
  runner.calls.clear();
  engine->tick();
  ASSERT_EQ(runner.calls.size(), 1u);
  EXPECT_EQ(runner.calls[0].device, names[0]);
}
