// The CA modes inside the job engine: a device whose CSR waits for an external CA leaves the
// in-flight count, is triggered again once its certificate arrives, and survives a restart.
#include "capf/core/csr.hpp"
#include "engine_fixture.hpp"

namespace capf::engine_test {
namespace {

using S = JobDeviceState;

class EngineCaTest : public EngineTest {
 protected:
  /// The phone of `name` ran a session that stored its CSR and ended waiting for the CA.
  void deferred(const std::string& name) {
    Device d = store->get_device(name).value().value();
    SessionEvent e;
    e.kind = SessionEvent::Kind::started;
    engine->on_session_event(d, e);
    e.kind = SessionEvent::Kind::deferred;
    e.reason = "CSR waits for the Offline CA";
    auto jd = engine->on_session_event(d, e);
    ASSERT_TRUE(jd.has_value());
    store::Transition t;
    t.put_devices.push_back(d);
    t.put_job_devices.push_back(*jd);
    ASSERT_TRUE(store->apply(t).ok());
  }
  /// A CSR of `name`, answered (`issued`) or not, as the CAPF service stores it.
  void put_csr(const std::string& name, CsrState state) {
    CsrRecord c;
    c.id = "csr-" + name;
    c.device = name;
    c.csr_der_hex = "00";
    c.created_at = kStart;
    c.state = state;
    store::Transition t;
    t.put_docs.push_back(store::Doc{store::Family::csrs, c.id, encode_csr(c)});
    ASSERT_TRUE(store->apply(t).ok());
  }
  std::size_t dispatches_of(const std::string& name) {
    std::size_t n = 0;
    for (const auto& c : runner.calls) n += c.device == name;
    return n;
  }
};

TEST_F(EngineCaTest, DeviceWaitsForTheCaOutsideTheInFlightCountThenCollects) {
  add_devices(3);
  EngineConfig c;
  start_engine(c);
  Job job = install_job();
  job.max_in_flight = 1;
  const auto id = submit(job);
  engine->tick();
  ASSERT_EQ(runner.calls.size(), 1u);
  deferred(names[0]);
  EXPECT_EQ(counts(id)[S::pending_ca], 1u);
  EXPECT_EQ(engine->in_flight(), 0u);
  // The slot it left is free for the next device.
  clock.advance_ms(1000);
  engine->tick();
  EXPECT_EQ(runner.calls.size(), 2u);
  EXPECT_EQ(runner.calls[1].device, names[1]);
  session(names[1], true);

  // Nothing happens to the waiting device until the CA answers, however long it takes.
  clock.advance_ms(7LL * 24 * 3600 * 1000);
  engine->tick();
  EXPECT_EQ(dispatches_of(names[0]), 1u);
  EXPECT_EQ(engine->view(id).value().job.state, JobState::active);

  engine->certificates_ready({names[0]});
  EXPECT_EQ(counts(id)[S::pending_ca], 0u);
  clock.advance_ms(1000);
  engine->tick();
  session(names[2], true);
  clock.advance_ms(1000);
  engine->tick();
  EXPECT_EQ(dispatches_of(names[0]), 2u);  // triggered again to collect its certificate
  session(names[0], true);
  clock.advance_ms(1000);
  engine->tick();
  EXPECT_EQ(counts(id)[S::succeeded], 3u);
  EXPECT_EQ(engine->view(id).value().job.state, JobState::completed);
}

TEST_F(EngineCaTest, RestartKeepsWaitingAndCollectsAnswersThatArrivedMeanwhile) {
  add_devices(2);
  start_engine();
  const auto id = submit(install_job());
  engine->tick();
  deferred(names[0]);
  deferred(names[1]);
  put_csr(names[0], CsrState::pending);
  put_csr(names[1], CsrState::pending);
  engine.reset();

  // While no daemon ran, the offline import answered the second device's CSR.
  put_csr(names[1], CsrState::issued);
  start_engine();
  auto c = counts(id);
  EXPECT_EQ(c[S::pending_ca], 1u);
  EXPECT_EQ(c[S::queued], 1u);
  EXPECT_EQ(store->get_job_device(id, names[1]).value()->state, S::queued);
  const auto before = runner.calls.size();
  clock.advance_ms(1000);
  engine->tick();
  ASSERT_EQ(runner.calls.size(), before + 1);
  EXPECT_EQ(runner.calls.back().device, names[1]);
}

TEST_F(EngineCaTest, CaDenialFailsTheDeviceAndAJobRetryStartsOver) {
  add_devices(1);
  start_engine();
  const auto id = submit(install_job());
  engine->tick();
  deferred(names[0]);
  Device d = store->get_device(names[0]).value().value();
  SessionEvent e;
  e.kind = SessionEvent::Kind::failed;
  e.retryable = false;
  e.reason = "permanent: Denied by Policy Module";
  auto jd = engine->on_session_event(d, e);
  ASSERT_TRUE(jd.has_value());
  EXPECT_EQ(jd->state, S::failed);
  EXPECT_EQ(jd->reason, "permanent: Denied by Policy Module");
  EXPECT_TRUE(d.job_id.empty());
  EXPECT_EQ(d.operation, CertificateOperation::none);
}

}  // namespace
}  // namespace capf::engine_test
