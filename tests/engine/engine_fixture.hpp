// Shared by the engine tests: an injected clock, a real store in a temporary directory and a
// fake Apply Config that records when it was called.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "capf/engine/engine.hpp"

namespace capf::engine_test {

using namespace capf;
using namespace capf::engine;

constexpr util::UnixTime kStart = 1'800'000'000;  // 2027-01-15T08:00:00Z

class FakeRunner : public TriggerRunner {
 public:
  explicit FakeRunner(const util::Clock& c) : clock(c) {}
  void trigger(const std::string& job, const Device& d, std::function<void(TriggerResult)> done) override {
    calls.push_back({d.name, clock.now_ms()});
    TriggerResult r;
    if (fail.count(d.name)) r = {TriggerOutcome::permanent, "HTTP 404", std::nullopt};
    if (down || unreachable.count(d.name)) r = {TriggerOutcome::transient, "POST http://127.0.0.1:9/: connection refused", std::nullopt};
    done(r);
  }
  std::optional<std::string> shared_endpoint() const override { return endpoint; }
  struct Call {
    std::string device;
    std::int64_t at_ms;
  };
  const util::Clock& clock;
  std::vector<Call> calls;
  std::set<std::string> fail;         ///< these answer 404 (permanent)
  std::set<std::string> unreachable;  ///< these get "connection refused" (transient)
  bool down = false;                  ///< every call gets "connection refused"
  std::optional<std::string> endpoint;  ///< the shared endpoint; unset: each phone its own
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
      d.security_mode = security_mode_from_profile(profile);  // as an import without the column does
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

inline Job install_job() {
  Job j;
  j.operation = CertificateOperation::install_upgrade;
  j.auth_mode = AuthMode::null_string;
  return j;
}

}  // namespace capf::engine_test
