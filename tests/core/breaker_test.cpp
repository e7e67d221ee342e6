// The circuit breaker of a shared dependency as a table of steps: when it opens (failures in a
// row across different subjects), how it probes (one at a time, with backoff), what closes it,
// and what a restart keeps.
#include <gtest/gtest.h>

#include "capf/core/breaker.hpp"

using namespace capf;
using Gate = CircuitBreaker::Gate;
using Change = CircuitBreaker::Change;

namespace {
constexpr util::UnixTime kT = 1'800'000'000;

BreakerSettings settings() {
  BreakerSettings s;
  s.threshold = 3;
  s.min_subjects = 2;
  s.probe_base_s = 10;
  s.probe_ceiling_s = 40;
  s.probe_timeout_s = 100;
  return s;
}
}  // namespace

TEST(Breaker, OpensOnlyOnFailuresInARowAcrossDifferentDevices) {
  CircuitBreaker b(Dependency::apply_config, settings());
  // One device failing again and again is that device's problem.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.failure("SEP1", "connection refused", kT + i, 0.5), Change::none);
  EXPECT_TRUE(b.suspecting());
  EXPECT_EQ(b.gate("SEP2", kT + 5), Gate::pass);
  // An answer in between breaks the run.
  EXPECT_EQ(b.success(kT + 6), Change::none);
  EXPECT_FALSE(b.suspecting());
  EXPECT_EQ(b.failure("SEP1", "refused", kT + 7, 0.5), Change::none);
  EXPECT_EQ(b.failure("SEP2", "refused", kT + 8, 0.5), Change::none);
  EXPECT_EQ(b.failure("SEP3", "connection refused", kT + 9, 0.5), Change::opened);
  const auto& s = b.status();
  EXPECT_EQ(s.state, BreakerStatus::State::open);
  EXPECT_EQ(s.since, kT + 7) << "since the first failure of the run";
  EXPECT_EQ(s.next_probe, kT + 9 + 5) << "full jitter 0.5 of the 10 s base";
  EXPECT_EQ(s.last_error, "connection refused");
}

TEST(Breaker, ProbesOneAtATimeWithBackoffAndTheFirstAnswerClosesIt) {
  CircuitBreaker b(Dependency::apply_config, settings());
  for (const char* d : {"A", "B", "C"}) b.failure(d, "refused", kT, 0.0);
  ASSERT_EQ(b.status().state, BreakerStatus::State::open);
  EXPECT_EQ(b.status().next_probe, kT + 1) << "at least a second, though full jitter drew 0";
  EXPECT_EQ(b.gate("D", kT), Gate::wait);
  EXPECT_TRUE(b.blocked(kT));
  EXPECT_EQ(b.gate("D", kT + 1), Gate::probe);
  EXPECT_EQ(b.gate("E", kT + 1), Gate::wait) << "one probe at a time";
  // A call sent before the breaker opened fails late: it is not the probe.
  EXPECT_EQ(b.failure("C", "refused", kT + 2, 0.9), Change::none);
  EXPECT_EQ(b.status().state, BreakerStatus::State::probing);
  // The probe fails: the next one waits longer (attempt 2: cap 20 s, jitter 0.9 → 18 s).
  EXPECT_EQ(b.failure("D", "refused", kT + 3, 0.9), Change::probe_failed);
  EXPECT_EQ(b.status().next_probe, kT + 3 + 18);
  EXPECT_EQ(b.status().probes_failed, 1);
  // The endpoint's own Retry-After wins over a shorter backoff.
  EXPECT_EQ(b.gate("D", kT + 21), Gate::probe);
  EXPECT_EQ(b.failure("D", "HTTP 503", kT + 22, 0.0, 60), Change::probe_failed);
  EXPECT_EQ(b.status().next_probe, kT + 22 + 60);
  EXPECT_NE(b.status().describe().find("Apply Config endpoint unreachable since 2027-01-15T08:00:00Z (HTTP 503), next probe at 2027-01-15T08:01:22Z"),
            std::string::npos)
      << b.status().describe();
  EXPECT_EQ(b.gate("F", kT + 82), Gate::probe);
  EXPECT_EQ(b.success(kT + 83), Change::closed);
  EXPECT_TRUE(b.status().closed());
  EXPECT_EQ(b.status().describe(), "");
  EXPECT_EQ(b.gate("G", kT + 83), Gate::pass);
}

TEST(Breaker, AProbeThatNeverReportsTimesOut) {
  CircuitBreaker b(Dependency::online_ca, settings());
  for (const char* d : {"A", "B", "C"}) b.failure(d, "refused", kT, 0.0);
  ASSERT_EQ(b.gate("A", kT + 1), Gate::probe);
  EXPECT_EQ(b.gate("B", kT + 100), Gate::wait);
  EXPECT_EQ(b.gate("B", kT + 101), Gate::probe) << "the probe's timeout passed";
  EXPECT_EQ(b.status().probes_failed, 1);
}

TEST(Breaker, ARestartKeepsAnOutageAndTurnsALostProbeIntoAFailedOne) {
  CircuitBreaker b(Dependency::apply_config, settings());
  b.set_endpoint("http://127.0.0.1:8080");
  for (const char* d : {"A", "B", "C"}) b.failure(d, "refused", kT, 0.5);
  ASSERT_EQ(b.gate("A", kT + 5), Gate::probe);
  const auto saved = CircuitBreaker::decode(b.encode());
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->state, BreakerStatus::State::probing);
  EXPECT_EQ(saved->endpoint, "http://127.0.0.1:8080");

  CircuitBreaker after(Dependency::apply_config, settings());
  after.restore(*saved);
  EXPECT_EQ(after.status().state, BreakerStatus::State::open);
  EXPECT_EQ(after.status().since, kT);
  EXPECT_EQ(after.status().probes_failed, 1);
  EXPECT_EQ(after.gate("B", kT + 6), Gate::probe) << "the probe that died with the daemon is due again";
  EXPECT_EQ(after.success(kT + 7), Change::closed);
}

TEST(Breaker, UnreadableSavedStatesAreRefused) {
  for (const char* text : {"", "{", "[]", R"({"dependency":"ldap","state":"open"})",
                           R"({"dependency":"smtp","state":"half"})", R"({"dependency":"smtp","state":"open","since":"x"})"})
    EXPECT_FALSE(CircuitBreaker::decode(text)) << text;
  auto ok = CircuitBreaker::decode(R"({"dependency":"smtp","state":"closed"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->dependency, Dependency::smtp);
}

TEST(Breaker, TheBoardKeepsStateAcrossConfigureAndListsEveryDependency) {
  Breakers board;
  board.configure(Dependency::smtp, settings(), "smtp://127.0.0.1:25");
  for (const char* m : {"a", "b", "c"}) board.failure(Dependency::smtp, m, "refused", kT, 0.5);
  board.configure(Dependency::smtp, settings(), "smtp://127.0.0.1:25");
  EXPECT_TRUE(board.blocked(Dependency::smtp, kT + 1));
  EXPECT_FALSE(board.blocked(Dependency::online_ca, kT + 1));
  EXPECT_EQ(board.status(Dependency::online_ca).state, BreakerStatus::State::closed);
  ASSERT_EQ(board.all().size(), 1u);
  EXPECT_EQ(board.all()[0].describe().rfind("SMTP server smtp://127.0.0.1:25 unreachable since", 0), 0u);
  board.configure(Dependency::smtp, settings(), "smtp://mail.example:25");
  EXPECT_FALSE(board.blocked(Dependency::smtp, kT + 1)) << "another server starts closed";
}
