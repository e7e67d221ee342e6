// The Apply Config endpoint's breaker in the engine, step by step on an injected clock: an
// outage pauses dispatch without spending attempts and a probe resumes it; failures that are
// one device's own are still charged to that device; a restart keeps the outage.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine_fixture.hpp"

using namespace capf::engine_test;

namespace {

EngineConfig breaker_config() {
  EngineConfig c;
  c.retry.backoff_base_s = 1;  // full jitter below 1 s: a device given back is due again at once
  c.retry.backoff_ceiling_s = 1;
  c.breaker.probe_base_s = 1;  // probes every second (the floor)
  c.breaker.probe_ceiling_s = 1;
  return c;
}

/// A job's devices, held by value (a range-for over a temporary Result's value would dangle).
std::vector<JobDevice> devices_of(const Engine& engine, const std::string& id) { return engine.devices(id).value(); }

std::map<std::string, JobDevice> by_name(const std::vector<JobDevice>& devices) {
  std::map<std::string, JobDevice> out;
  for (const auto& d : devices) out[d.device] = d;
  return out;
}

}  // namespace

TEST_F(EngineTest, AnOutageOfTheEndpointPausesDispatchWithoutSpendingAttemptsAndAProbeResumesIt) {
  add_devices(10);
  runner.endpoint = "http://127.0.0.1:9";
  runner.down = true;
  start_engine(breaker_config());
  const auto id = submit(install_job());

  engine->tick();  // all ten go (no limits) and all ten are refused
  ASSERT_EQ(runner.calls.size(), 10u);
  auto v = engine->view(id).value();
  ASSERT_TRUE(v.waiting) << "the third refusal across devices opens the breaker";
  EXPECT_EQ(v.waiting->since, kStart);
  EXPECT_EQ(v.waiting->next_probe, kStart + 1);
  EXPECT_NE(v.waiting->describe().find("Apply Config endpoint http://127.0.0.1:9 unreachable since 2027-01-15T08:00:00Z"),
            std::string::npos)
      << v.waiting->describe();
  EXPECT_EQ(v.counts[JobDeviceState::queued], 10u);
  for (const auto& d : devices_of(*engine, id)) EXPECT_EQ(d.attempts, 0) << d.device << ": " << d.reason;

  clock.advance_ms(500);
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 10u) << "nothing goes before the probe is due";

  clock.advance_ms(500);
  engine->tick();  // one probe, refused again
  ASSERT_EQ(runner.calls.size(), 11u);
  v = engine->view(id).value();
  ASSERT_TRUE(v.waiting);
  EXPECT_EQ(v.waiting->probes_failed, 1);
  EXPECT_EQ(v.waiting->next_probe, kStart + 2);

  runner.down = false;  // the endpoint is back
  clock.advance(1);
  engine->tick();  // the probe gets through and closes the breaker; the rest follow next round
  ASSERT_EQ(runner.calls.size(), 12u);
  EXPECT_FALSE(engine->view(id).value().waiting);
  engine->tick();
  ASSERT_EQ(runner.calls.size(), 21u);
  for (const auto& name : names) session(name, true);
  engine->tick();
  v = engine->view(id).value();
  EXPECT_EQ(v.job.state, JobState::completed);
  EXPECT_EQ(v.counts[JobDeviceState::succeeded], 10u);
  for (const auto& d : devices_of(*engine, id)) EXPECT_EQ(d.attempts, 1) << d.device;

  // The audit trail tells when the endpoint went down and came back.
  std::vector<std::string> actions;
  const auto trail = store->list_audit().value();
  for (const auto& e : trail)
    if (e.action.rfind("dependency.", 0) == 0) actions.push_back(e.action + " " + e.subject);
  EXPECT_EQ(actions, (std::vector<std::string>{"dependency.down apply-config", "dependency.up apply-config"}));
}

TEST_F(EngineTest, OneDeviceRefusedAgainAndAgainIsChargedAndFailsAlone) {
  add_devices(1);
  runner.endpoint = "http://127.0.0.1:9";
  runner.unreachable = {names[0]};
  start_engine(breaker_config());
  Job job = install_job();
  job.max_attempts = 3;
  const auto id = submit(job);
  for (int i = 0; i < 10; ++i) {
    engine->tick();
    clock.advance(1);
  }
  auto d = engine->devices(id).value().at(0);
  EXPECT_EQ(d.state, JobDeviceState::failed);
  EXPECT_NE(d.reason.find("(3 of 3 attempts)"), std::string::npos) << d.reason;
  EXPECT_EQ(runner.calls.size(), 4u) << "the first refusal is given back until it is judged; the three after it count";
  EXPECT_FALSE(engine->view(id).value().waiting);
  EXPECT_TRUE(engine->breakers()->status(Dependency::apply_config).closed());
}

TEST_F(EngineTest, ARefusalIsTheDevicesOwnWhenTheEndpointAnswersForAnother) {
  add_devices(3);
  runner.endpoint = "http://127.0.0.1:9";
  runner.unreachable = {names[0]};
  start_engine(breaker_config());
  const auto id = submit(install_job());
  engine->tick();  // names[0] refused (given back for now), then the others get through
  auto devices = by_name(engine->devices(id).value());
  EXPECT_EQ(devices[names[0]].state, JobDeviceState::queued);
  EXPECT_EQ(devices[names[0]].attempts, 1) << "charged once the endpoint answered for another device";
  EXPECT_EQ(devices[names[1]].state, JobDeviceState::triggered);
}

TEST_F(EngineTest, APhoneAsItsOwnEndpointHasNoBreaker) {
  add_devices(5);
  runner.down = true;  // e.g. http://{ipv4}/CGI/Execute: five phones switched off
  start_engine(breaker_config());
  const auto id = submit(install_job());
  engine->tick();
  auto v = engine->view(id).value();
  EXPECT_FALSE(v.waiting);
  for (const auto& d : devices_of(*engine, id)) EXPECT_EQ(d.attempts, 1) << d.device;
}

class OutageTest : public EngineTest {
 protected:
  /// Five devices, a job over them and one round against an endpoint that refuses: the
  /// breaker opens. Returns the job's id.
  std::string open_outage() {
    add_devices(5);
    runner.endpoint = "http://127.0.0.1:9";
    runner.down = true;
    start_engine(breaker_config());
    const auto id = submit(install_job());
    engine->tick();
    return id;
  }
};

TEST_F(OutageTest, AnOutageOutlivesARestartAndItsFirstDispatchIsAProbe) {
  const auto id = open_outage();
  ASSERT_TRUE(engine->view(id).value().waiting);

  engine.reset();
  runner.down = false;
  start_engine(breaker_config());
  auto v = engine->view(id).value();
  ASSERT_TRUE(v.waiting) << "the outage is remembered across the restart";
  EXPECT_EQ(v.waiting->since, kStart);
  runner.calls.clear();
  engine->tick();
  EXPECT_TRUE(runner.calls.empty()) << "no flood at start: the probe waits for its time";
  clock.advance(1);
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 1u);
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 5u);
}

// Another endpoint configured at the next start knows nothing of the old one's outage.
TEST_F(OutageTest, ANewEndpointAfterARestartStartsClosed) {
  const auto id = open_outage();
  ASSERT_TRUE(engine->view(id).value().waiting);
  engine.reset();
  runner.endpoint = "http://127.0.0.1:10";
  start_engine(breaker_config());
  EXPECT_FALSE(engine->view(id).value().waiting);
}

// The breaker's state is decided under the engine's mutex and written after it, so two saves
// may land in either order. Here the write that opens the breaker is held back until the write
// that closes it has landed: after a restart the breaker must be closed, as it was in memory
// (the state saved last used to win: the restart found it open).
TEST_F(EngineTest, TheBreakersSavedStateIsTheNewestWhicheverWriteLandsLast) {
  const std::string path = dir + "/store";
  std::mutex m;
  std::condition_variable cv;
  bool opening_held = false, release = false;
  store::OpenOptions held;
  held.before_write = [&](const store::Transition& t) {
    const bool opens = std::any_of(t.audit.begin(), t.audit.end(), [](const AuditEntry& a) { return a.action == "dependency.down"; });
    if (!opens) return;
    std::unique_lock lock(m);
    opening_held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  store.reset();
  store = std::move(store::Store::open(path, held).value());
  runner.endpoint = "http://127.0.0.1:9";
  start_engine(breaker_config());

  const TriggerResult refused{TriggerOutcome::transient, "POST http://127.0.0.1:9/: connection refused", std::nullopt};
  engine->on_trigger_done("J0001", "SEP000000000001", refused);
  engine->on_trigger_done("J0001", "SEP000000000002", refused);
  std::thread opener([&] { engine->on_trigger_done("J0001", "SEP000000000003", refused); });  // the third opens it
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return opening_held; });
  }
  EXPECT_FALSE(engine->breakers()->status(Dependency::apply_config).closed());
  engine->on_trigger_done("J0001", "SEP000000000004", TriggerResult{});  // the endpoint answers: closed
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  opener.join();
  const std::string in_memory = engine->breakers()->encode(Dependency::apply_config);
  ASSERT_TRUE(engine->breakers()->status(Dependency::apply_config).closed());

  engine.reset();
  store.reset();
  store = std::move(store::Store::open(path).value());
  start_engine(breaker_config());
  EXPECT_EQ(engine->breakers()->encode(Dependency::apply_config), in_memory);
  // The restart keeps only the newest saved state.
  std::size_t kept = 0;
  ASSERT_TRUE(store->for_each_meta("breaker:apply-config", [&](const std::string&, const std::string&) {
    ++kept;
    return true;
  }).ok());
  EXPECT_EQ(kept, 1u);
}
