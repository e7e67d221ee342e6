// The job engine with an injected clock, a real store in a temporary directory and a fake
// Apply Config that records when it was called.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "capf/engine/engine.hpp"

using namespace capf;
using namespace capf::engine;

namespace {

constexpr util::UnixTime kStart = 1'800'000'000;  // 2027-01-15T08:00:00Z

class FakeRunner : public TriggerRunner {
 public:
  explicit FakeRunner(const util::Clock& c) : clock(c) {}
  void trigger(const std::string& job, const Device& d, std::function<void(TriggerResult)> done) override {
    calls.push_back({d.name, clock.now_ms()});
    TriggerResult r;
    if (fail.count(d.name)) r = {TriggerOutcome::permanent, "HTTP 404", std::nullopt};
    done(r);
  }
  struct Call {
    std::string device;
    std::int64_t at_ms;
  };
  const util::Clock& clock;
  std::vector<Call> calls;
  std::set<std::string> fail;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/capf-engine-XXXXXX";
    dir = ::mkdtemp(tmpl);
    store = std::move(store::Store::open(dir + "/store").value());
  }
  void TearDown() override {
    engine.reset();
    store.reset();
    std::system(("rm -rf '" + dir + "'").c_str());
  }
  void add_devices(int n, const std::string& profile = "Standard SIP Non-Secure Profile") {
    store::Transition t;
    for (int i = 0; i < n; ++i) {
      Device d;
      char name[32];
      std::snprintf(name, sizeof name, "SEP0000000%05X", i);
      d.name = name;
      d.device_pool = i % 2 ? "DP-HQ" : "DP-BRANCH";
      d.security_profile = profile;
      names.push_back(d.name);
      t.put_devices.push_back(d);
    }
    ASSERT_TRUE(store->apply(t).ok());
  }
  void start_engine(EngineConfig c = {}) {
    c.retry.session_wait_s = c.retry.session_wait_s == 300 ? 3600 : c.retry.session_wait_s;
    engine = std::make_unique<Engine>(*store, clock, runner, c);
    ASSERT_TRUE(engine->recover().ok());
  }
  std::string submit(Job job, std::vector<std::string> devices = {}) {
    SubmitRequest r;
    r.job = std::move(job);
    r.devices = devices.empty() ? names : devices;
    auto res = engine->submit(r);
    EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().message);
    EXPECT_TRUE(res->submitted) << res->capacity << (res->refused.empty() ? "" : res->refused[0].second);
    return res->job_id;
  }
  /// The phone of `name` runs its session now: started, then the outcome.
  void session(const std::string& name, bool success, bool retryable = true) {
    Device d = store->get_device(name).value().value();
    SessionEvent e;
    e.kind = SessionEvent::Kind::started;
    engine->on_session_event(d, e);
    e.kind = success ? SessionEvent::Kind::succeeded : SessionEvent::Kind::failed;
    e.retryable = retryable;
    e.reason = success ? "" : "phone could not generate a key";
    e.serial = success ? "abc" : "";
    auto jd = engine->on_session_event(d, e);
    store::Transition t;
    t.put_devices.push_back(d);
    if (jd) t.put_job_devices.push_back(*jd);
    ASSERT_TRUE(store->apply(t).ok());
  }
  std::map<JobDeviceState, std::size_t> counts(const std::string& id) { return engine->view(id).value().counts; }

  std::string dir;
  std::unique_ptr<store::Store> store;
  util::ManualClock clock{kStart};
  FakeRunner runner{clock};
  std::unique_ptr<Engine> engine;
  std::vector<std::string> names;
};

Job install_job() {
  Job j;
  j.operation = CertificateOperation::install_upgrade;
  j.auth_mode = AuthMode::null_string;
  return j;
}

}  // namespace

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
