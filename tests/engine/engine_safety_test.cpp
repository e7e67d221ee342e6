// Safe defaults of a job: a canary wave and an automatic hold at a failure share when the
// submitter gave neither, both overridable and shown; the hold over the whole job after the
// canary, and what a release accepts.
#include "engine_fixture.hpp"

using namespace capf::engine_test;

TEST(EngineSafety, TheDefaultCanaryIsOnePercentBetweenFiveAndFifty) {
  EXPECT_EQ(default_canary(3), 3);
  EXPECT_EQ(default_canary(300), 5);
  EXPECT_EQ(default_canary(1'500), 15);
  EXPECT_EQ(default_canary(40'000), 50);
}

TEST_F(EngineTest, AJobWithoutLimitsGetsACanaryAndAnAutomaticHoldShownByADryRun) {
  add_devices(12);
  start_engine();
  SubmitRequest r;
  r.job = install_job();
  r.devices = names;
  r.dry_run = true;
  r.default_canary = true;
  r.default_max_fail_pct = true;
  auto dry = engine->submit(r).value();
  EXPECT_EQ(dry.canary, 5);
  EXPECT_EQ(dry.max_fail_pct, 20);
  EXPECT_NE(dry.safety.find("canary: the first 5 devices go first"), std::string::npos) << dry.safety;
  EXPECT_NE(dry.safety.find("--canary 0 turns it off"), std::string::npos) << dry.safety;
  EXPECT_NE(dry.safety.find("when more than 20 % of the finished devices failed"), std::string::npos) << dry.safety;
  EXPECT_NE(dry.safety.find("--max-fail-pct 100 turns it off"), std::string::npos) << dry.safety;

  // Turned off explicitly: the submitter's values stand.
  r.default_canary = r.default_max_fail_pct = false;
  r.job.canary = 0;
  r.job.max_fail_pct = 100;
  auto off = engine->submit(r).value();
  EXPECT_EQ(off.canary, 0);
  EXPECT_EQ(off.max_fail_pct, 100);
  EXPECT_NE(off.safety.find("canary: none (--canary 0)"), std::string::npos) << off.safety;
  EXPECT_NE(off.safety.find("automatic hold: off (--max-fail-pct 100)"), std::string::npos) << off.safety;

  // Submitted with the defaults: only the canary wave goes first.
  r.dry_run = false;
  r.default_canary = r.default_max_fail_pct = true;
  const auto id = engine->submit(r).value().job_id;
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 5u);
  auto v = engine->view(id).value();
  EXPECT_EQ(v.job.canary, 5);
  EXPECT_EQ(v.job.max_fail_pct, 20);
}

TEST_F(EngineTest, TheWholeJobHoldsWhenTooManyFinishedDevicesFailedAndAReleaseAcceptsThem) {
  add_devices(20);
  runner.fail = {names[0], names[1], names[2]};  // their Apply Config answers 404
  start_engine();
  Job job = install_job();
  job.max_fail_pct = 20;
  const auto id = submit(job);
  engine->tick();  // all twenty go; three fail at once
  for (int i = 3; i < 9; ++i) session(names[i], true);
  engine->tick();
  EXPECT_EQ(engine->view(id).value().job.state, JobState::active) << "3 of 9 finished: too few to judge";
  session(names[9], true);
  engine->tick();
  auto v = engine->view(id).value();
  ASSERT_EQ(v.job.state, JobState::failure_hold);
  EXPECT_NE(v.job.state_reason.find("3 of 10 finished devices failed (30.0 % > 20 %)"), std::string::npos)
      << v.job.state_reason;

  // Released: the three are accepted, and the share is judged over what finishes afterwards.
  ASSERT_TRUE(engine->control(id, "release", "admin").ok());
  for (int i = 10; i < 20; ++i) session(names[i], true);
  engine->tick();
  v = engine->view(id).value();
  EXPECT_EQ(v.job.state, JobState::completed);
  EXPECT_EQ(v.counts[JobDeviceState::failed], 3u);
}
