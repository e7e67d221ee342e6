// The per-device state machine as a table: one row per (state, event) with the expected
// state, attempts, next attempt and effects.
#include <gtest/gtest.h>

#include "capf/engine/device_fsm.hpp"

using namespace capf;
using namespace capf::engine;
using S = JobDeviceState;
using K = Event::Kind;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;  // ms
RetryPolicy policy() { return RetryPolicy{3, 30, 3600, 300}; }

JobDevice dev(S s, int attempts = 1, std::int64_t next = kNow) {
  JobDevice d;
  d.job = "J0001";
  d.device = "SEP000000000001";
  d.state = s;
  d.attempts = attempts;
  d.next_attempt_ms = next;
  return d;
}

struct Row {
  const char* name;
  JobDevice before;
  Event event;
  S after;
  int attempts;
  std::int64_t next_ms;  // -1: not checked
  bool trigger, disarm, rearm, changed;
};

Event ev(K k, bool retryable = true, std::string reason = "x", std::optional<std::int64_t> after = std::nullopt) {
  Event e;
  e.kind = k;
  e.retryable = retryable;
  e.reason = std::move(reason);
  e.retry_after_s = after;
  return e;
}

/// Apply Config refused while its endpoint is (or may be) down.
Event outage(std::optional<std::int64_t> after = std::nullopt) {
  Event e = ev(K::trigger_failed, true, "connection refused", after);
  e.shared_outage = true;
  return e;
}

}  // namespace

TEST(DeviceFsm, Table) {
  // Jitter 0.5: the first retry waits 0.5 × 30 s = 15 s, the second 0.5 × 60 s = 30 s.
  const Row rows[] = {
      {"dispatch a queued device", dev(S::queued, 0), ev(K::dispatch), S::triggered, 1, kNow + 300'000, true, false, false, true},
      {"dispatch waits for next attempt", dev(S::queued, 1, kNow + 1), ev(K::dispatch), S::queued, 1, kNow + 1, false, false, false, false},
      {"dispatch ignores a triggered device", dev(S::triggered), ev(K::dispatch), S::triggered, 1, -1, false, false, false, false},
      {"transient trigger failure backs off", dev(S::triggered, 1), ev(K::trigger_failed), S::queued, 1, kNow + 15'000, false, false, false, true},
      {"second failure backs off longer", dev(S::triggered, 2), ev(K::trigger_failed), S::queued, 2, kNow + 30'000, false, false, false, true},
      {"throttled waits at least Retry-After", dev(S::triggered, 1), ev(K::trigger_failed, true, "429", 120), S::queued, 1, kNow + 120'000, false, false, false, true},
      {"permanent trigger failure fails", dev(S::triggered, 1), ev(K::trigger_failed, false), S::failed, 1, 0, false, true, false, true},
      {"attempts spent fail", dev(S::triggered, 3), ev(K::trigger_failed), S::failed, 3, 0, false, true, false, true},
      {"trigger failure after the session began is ignored", dev(S::in_session), ev(K::trigger_failed), S::in_session, 1, -1, false, false, false, false},
      {"session starts from triggered", dev(S::triggered), ev(K::session_started), S::in_session, 1, kNow + 300'000, false, false, false, true},
      {"session starts from queued (phone came by itself)", dev(S::queued, 0), ev(K::session_started), S::in_session, 0, -1, false, false, false, true},
      {"success", dev(S::in_session), ev(K::session_succeeded), S::succeeded, 1, 0, false, false, false, true},
      {"success is final", dev(S::succeeded), ev(K::session_failed), S::succeeded, 1, -1, false, false, false, false},
      {"retryable session failure", dev(S::in_session, 1), ev(K::session_failed), S::queued, 1, kNow + 15'000, false, false, false, true},
      {"locked device fails", dev(S::in_session, 1), ev(K::session_failed, false), S::failed, 1, 0, false, true, false, true},
      {"phone never came", dev(S::triggered, 1, kNow), ev(K::wait_expired, true, ""), S::queued, 1, kNow + 15'000, false, false, false, true},
      {"wait not over yet", dev(S::triggered, 1, kNow + 5), ev(K::wait_expired), S::triggered, 1, kNow + 5, false, false, false, false},
      {"deadline expires a queued device", dev(S::queued), ev(K::deadline_passed, true, ""), S::expired, 1, 0, false, true, false, true},
      {"deadline does not touch success", dev(S::succeeded), ev(K::deadline_passed), S::succeeded, 1, -1, false, false, false, false},
      {"cancel a triggered device", dev(S::triggered), ev(K::cancel, true, ""), S::cancelled, 1, 0, false, true, false, true},
      {"cancel leaves failed as failed", dev(S::failed), ev(K::cancel), S::failed, 1, -1, false, false, false, false},
      {"retry a failed device", dev(S::failed, 3), ev(K::retry), S::queued, 0, kNow, false, false, true, true},
      {"retry ignores success", dev(S::succeeded), ev(K::retry), S::succeeded, 1, -1, false, false, false, false},
      {"restart during a session requeues", dev(S::in_session, 1, kNow + 9), ev(K::recover), S::queued, 1, kNow, false, false, false, true},
      {"restart keeps waiting for a triggered phone", dev(S::triggered, 1, kNow + 9), ev(K::recover), S::triggered, 1, kNow + 9, false, false, false, false},
      // CA modes.
      {"CSR stored: the device waits for the CA", dev(S::in_session, 1, kNow + 9), ev(K::ca_pending), S::pending_ca, 1, 0, false, false, false, true},
      {"waiting for the CA is not in flight and has no wait", dev(S::pending_ca, 1, 0), ev(K::wait_expired), S::pending_ca, 1, 0, false, false, false, false},
      {"a phone coming by itself does not leave pending-ca", dev(S::pending_ca, 1, 0), ev(K::session_started), S::pending_ca, 1, 0, false, false, false, false},
      {"certificate arrived: queued again with fresh attempts", dev(S::pending_ca, 2, 0), ev(K::ca_ready), S::queued, 0, kNow, false, false, false, true},
      {"a certificate for a queued device changes nothing", dev(S::queued, 1), ev(K::ca_ready), S::queued, 1, kNow, false, false, false, false},
      {"CA denial fails the device", dev(S::pending_ca, 1, 0), ev(K::session_failed, false), S::failed, 1, 0, false, true, false, true},
      {"deadline expires a device waiting for the CA", dev(S::pending_ca, 1, 0), ev(K::deadline_passed, true, ""), S::expired, 1, 0, false, true, false, true},
      {"restart leaves pending-ca alone", dev(S::pending_ca, 1, 0), ev(K::recover), S::pending_ca, 1, 0, false, false, false, false},
      // Shared outages (docs/arch/breakers.md): the endpoint's failure gives the attempt back.
      {"endpoint down: the attempt is given back", dev(S::triggered, 1), outage(), S::queued, 0, kNow + 15'000, false, false, false, true},
      {"endpoint down on the last attempt: not failed", dev(S::triggered, 3), outage(), S::queued, 2, kNow + 15'000, false, false, false, true},
      {"endpoint down with Retry-After", dev(S::triggered, 1), outage(120), S::queued, 0, kNow + 120'000, false, false, false, true},
      {"endpoint down after the session began is ignored", dev(S::in_session, 1), outage(), S::in_session, 1, -1, false, false, false, false},
      {"a failure given back proves the device's own: charged", dev(S::queued, 1), ev(K::charge), S::queued, 2, kNow, false, false, false, true},
      {"charged on its last attempt: failed", dev(S::queued, 2), ev(K::charge), S::failed, 3, 0, false, true, false, true},
      {"a device tried again since is not charged", dev(S::triggered, 1), ev(K::charge), S::triggered, 1, -1, false, false, false, false},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto s = step(r.before, r.event, kNow, policy(), 0.5);
    EXPECT_EQ(s.next.state, r.after);
    EXPECT_EQ(s.next.attempts, r.attempts);
    if (r.next_ms >= 0) {
      EXPECT_EQ(s.next.next_attempt_ms, r.next_ms);
    }
    EXPECT_EQ(s.effects.run_trigger, r.trigger);
    EXPECT_EQ(s.effects.disarm_device, r.disarm);
    EXPECT_EQ(s.effects.rearm_device, r.rearm);
    EXPECT_EQ(s.changed, r.changed);
  }
}

TEST(DeviceFsm, BackoffNeverPassesHalfTheTimeLeftToTheDeadline) {
  auto d = dev(S::triggered, 2);
  d.deadline = kNow / 1000 + 40;  // 40 s left → at most 20 s
  auto s = step(d, ev(K::trigger_failed), kNow, RetryPolicy{5, 600, 3600, 300}, 0.99);
  EXPECT_EQ(s.next.state, S::queued);
  EXPECT_LE(s.next.next_attempt_ms, kNow + 20'000);
}

TEST(DeviceFsm, FinalReasonsSayWhy) {
  auto s = step(dev(S::triggered, 3), ev(K::trigger_failed, true, "HTTP 503"), kNow, policy(), 0.1);
  EXPECT_EQ(s.next.reason, "HTTP 503 (3 of 3 attempts)");
  s = step(dev(S::triggered, 1), ev(K::wait_expired, true, ""), kNow, policy(), 0.1);
  EXPECT_NE(s.next.reason.find("did not open a CAPF session within 300 s"), std::string::npos);
  // A success keeps what the session said about it, and an earlier failure's reason goes.
  auto retried = dev(S::in_session, 2);
  retried.reason = "connection lost";
  s = step(retried, ev(K::session_succeeded, true, "no certificate on the phone"), kNow, policy(), 0.1);
  EXPECT_EQ(s.next.state, S::succeeded);
  EXPECT_EQ(s.next.reason, "no certificate on the phone");
  EXPECT_EQ(step(retried, ev(K::session_succeeded, true, ""), kNow, policy(), 0.1).next.reason, "");
}
