// Shared by the policy tests: a temporary store, an injected clock, the engine with an
// in-process "phone" runner that enrolls each triggered device at once (a new LSC from the
// current CA, the old one replaced, session events fed to the engine), and the admin routes.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "capf/engine/engine.hpp"
#include "capf/policy/evaluator.hpp"
#include "capf/policy/policy_routes.hpp"

namespace capf::policy_test {

using namespace capf;

constexpr util::UnixTime kStart = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr util::UnixTime kDay = 86400;
inline const std::string kCurrentCa = "CN=CAPF-current,O=Example";
inline const std::string kRetiredCa = "CN=CAPF-2019,O=Example";

/// Apply Config that answers ok and, unless the phone is silent, runs its CAPF session at once.
class PhoneRunner : public engine::TriggerRunner {
 public:
  explicit PhoneRunner(const util::Clock& c) : clock(c) {}
  void trigger(const std::string& job, const Device& d, std::function<void(engine::TriggerResult)> done) override {
    calls.push_back({d.name, job, clock.now()});
    done(engine::TriggerResult{});
    if (silent.count(d.name)) return;
    Device dev = store->get_device(d.name).value().value();
    SessionEvent e;
    e.kind = SessionEvent::Kind::started;
    engine->on_session_event(dev, e);
    char serial[32];
    std::snprintf(serial, sizeof serial, "7e%06x", ++issued);
    CertificateRecord c{serial,
                        d.name,
                        kCurrentCa,
                        "RSA-2048",
                        clock.now(),
                        clock.now(),
                        clock.now() + validity_days * kDay,
                        CertificateState::delivered,
                        ""};
    store::Transition t;
    if (!dev.lsc_serial.empty())
      if (auto old = store->get_certificate(dev.lsc_serial).value()) {
        old->state = CertificateState::replaced;
        t.put_certificates.push_back(*old);
      }
    dev.lsc_serial = serial;
    dev.lsc_issuer = kCurrentCa;
    dev.lsc_not_after = c.not_after;
    dev.operation = CertificateOperation::none;
    dev.status = OperationStatus::success;
    e.kind = SessionEvent::Kind::succeeded;
    e.serial = serial;
    auto jd = engine->on_session_event(dev, e);
    t.put_certificates.push_back(c);
    t.put_devices.push_back(dev);
    if (jd) t.put_job_devices.push_back(*jd);
    ASSERT_TRUE(store->apply(t).ok());
  }
  struct Call {
    std::string device, job;
    util::UnixTime at;
  };
  const util::Clock& clock;
  store::Store* store = nullptr;
  engine::Engine* engine = nullptr;
  std::vector<Call> calls;
  std::set<std::string> silent;
  int issued = 0;
  int validity_days = 365;
};

/// A device with an LSC issued `age` seconds ago, valid `life` seconds, by `issuer`.
inline void add_with_lsc(store::Transition& t, const std::string& name, util::UnixTime age, util::UnixTime life,
                         const std::string& issuer, CertificateState state = CertificateState::delivered) {
  Device d;
  d.name = name;
  d.device_pool = "DP-HQ";
  d.security_profile = "Standard SIP Non-Secure Profile";
  d.auth_mode = AuthMode::existing_cert_lsc;
  d.lsc_serial = "5e" + name.substr(name.size() - 6);
  d.lsc_issuer = issuer;
  d.lsc_not_after = kStart - age + life;
  t.put_devices.push_back(d);
  t.put_certificates.push_back(CertificateRecord{d.lsc_serial, name, issuer, "RSA-2048", kStart - age, kStart - age,
                                                 d.lsc_not_after, state, ""});
}
inline void add_without_lsc(store::Transition& t, const std::string& name) {
  Device d;
  d.name = name;
  d.device_pool = "DP-HQ";
  d.security_profile = "Standard SIP Non-Secure Profile";
  t.put_devices.push_back(d);
}
inline std::string phone(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "SEP00AA%08X", i);
  return name;
}

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/capf-policy-XXXXXX";
    dir = ::mkdtemp(tmpl);
    open();
  }
  void TearDown() override {
    close();
    std::system(("rm -rf '" + dir + "'").c_str());
  }
  /// Opens the store, the engine (recovering its jobs) and the evaluator.
  void open(engine::EngineConfig c = {}) {
    store = std::move(store::Store::open(dir + "/store").value());
    c.retry.session_wait_s = session_wait_s;
    engine = std::make_unique<engine::Engine>(*store, clock, runner, c);
    ASSERT_TRUE(engine->recover().ok());
    runner.store = store.get();
    runner.engine = engine.get();
    evaluator = std::make_unique<policy::Evaluator>(*store, *engine, kCurrentCa, policy::EvaluatorOptions{600});
    routes = std::make_unique<policy::AdminRoutes>(*store, clock, kCurrentCa);
  }
  /// Everything goes away, as in a daemon restart.
  void close() {
    routes.reset();
    evaluator.reset();
    engine.reset();
    store.reset();
  }
  admin::Response call(const std::string& method, const std::string& target, const nlohmann::json& body = {}) {
    admin::Request r{method, target, body.is_null() ? "" : body.dump(), "admin"};
    const auto q = target.find('?');
    auto a = routes->handle(r, target.substr(0, q), q == std::string::npos ? "" : target.substr(q + 1));
    EXPECT_TRUE(a.has_value()) << target;
    return a.value_or(admin::Response{404, {}});
  }
  /// Steps the clock by `step` seconds until `until`, ticking the evaluator and the engine.
  void run_until(util::UnixTime until, util::UnixTime step = 60) {
    while (clock.now() < until) {
      evaluator->tick(clock.now());
      engine->tick();
      clock.advance(step);
    }
  }
  void create_template(const nlohmann::json& body) { ASSERT_EQ(call("POST", "/v1/templates", body).status, 200); }
  void create_policy(const nlohmann::json& body) {
    auto r = call("POST", "/v1/policies", body);
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }

  std::string dir;
  std::int64_t session_wait_s = 3600;
  util::ManualClock clock{kStart};
  PhoneRunner runner{clock};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<policy::Evaluator> evaluator;
  std::unique_ptr<policy::AdminRoutes> routes;
};

}  // namespace capf::policy_test
