// A renewal policy over 1,000+ devices with LSCs of staggered ages, driven through the job engine
// with an injected clock for 30 simulated days: the forecast made on day 0 is what the engine
// dispatches night by night, across a restart, and no device is renewed twice. A paused policy
// creates nothing; a device in a job never gets a second one.
#include <algorithm>
#include <iostream>
#include <map>

#include "policy_fixture.hpp"

using namespace capf;
using namespace capf::policy_test;

namespace {

/// 1,000 devices whose LSCs (one-year lifetime) were issued over the last year, 10 of them
/// revoked and 10 from a retired CAPF CA, plus 20 without an LSC and 5 with an expired one.
void make_fleet(store::Store& store) {
  store::Transition t;
  const util::UnixTime year = 365 * kDay;
  for (int i = 0; i < 1000; ++i) {
    const auto age = 3600 + static_cast<util::UnixTime>(i) * year / 1000;
    const auto issuer = i % 100 == 13 ? kRetiredCa : kCurrentCa;
    const auto state = i % 100 == 7 ? CertificateState::revoked : CertificateState::delivered;
    add_with_lsc(t, phone(i), age, year, issuer, state);
  }
  for (int i = 1000; i < 1020; ++i) add_without_lsc(t, phone(i));
  for (int i = 1020; i < 1025; ++i) add_with_lsc(t, phone(i), year + 10 * kDay, year, kCurrentCa, CertificateState::delivered);
  t.put_meta.emplace_back("retired_ca_subjects", nlohmann::json::array({kRetiredCa}).dump());
  ASSERT_TRUE(store.apply(t).ok());
}

nlohmann::json renew_policy(const std::string& name) {
  return {{"name", name},
          {"where", "device_pool = DP-HQ"},
          {"template", "lsc-renew"},
          {"windows", {"0 1 * * * 4h UTC"}},
          {"rate", 1.0},
          {"install_missing", true},
          {"reenroll_retired_ca", true},
          {"reenroll_revoked", true},
          {"jitter_nights", 7}};
}

}  // namespace

class RenewalTest : public PolicyTest {};

TEST_F(RenewalTest, ForecastMatchesDispatchOverThirtyNightsAcrossARestart) {
  make_fleet(*store);
  create_template({{"name", "lsc-renew"}, {"where", "all"}, {"auth_mode", "lsc"}, {"key_size", "2048"}});
  create_policy(renew_policy("hq-renew"));

  auto forecast = call("GET", "/v1/policies/hq-renew/forecast?days=30");
  ASSERT_EQ(forecast.status, 200) << forecast.body.dump();
  const auto& nights = forecast.body["nights"];
  ASSERT_EQ(nights.size(), 30u);
  EXPECT_TRUE(forecast.body["warnings"].empty());

  // 20 minutes into the 5th night, with that night's job a third done, the daemon stops and
  // comes back on the same store.
  run_until(kStart + 4 * kDay + 17 * 3600 + 20 * 60);
  const auto before_restart = runner.calls.size();
  bool unfinished = false;
  for (const auto& v : engine->list()) unfinished |= v.job.state == JobState::active;
  EXPECT_TRUE(unfinished);
  close();
  open();
  run_until(kStart + 30 * kDay);

  std::map<std::string, int> per_device;
  std::vector<std::size_t> dispatched(nights.size(), 0);
  for (const auto& c : runner.calls) {
    ++per_device[c.device];
    bool placed = false;
    for (std::size_t i = 0; i < nights.size(); ++i) {
      const auto start = util::parse_iso8601(nights[i]["start"].get<std::string>()).value();
      const auto end = util::parse_iso8601(nights[i]["end"].get<std::string>()).value();
      if (c.at >= start && c.at < end) {
        ++dispatched[i];
        placed = true;
      }
    }
    EXPECT_TRUE(placed) << c.device << " dispatched outside every window at " << util::format_iso8601(c.at);
  }
  std::string figures = "night                 forecast  dispatched\n";
  std::size_t total_forecast = 0, max_night = 0;
  for (std::size_t i = 0; i < nights.size(); ++i) {
    const auto f = nights[i]["devices"].get<std::size_t>();
    total_forecast += f;
    max_night = std::max(max_night, f);
    figures += nights[i]["start"].get<std::string>() + "  " + std::to_string(f) + "  " + std::to_string(dispatched[i]) + "\n";
    EXPECT_EQ(dispatched[i], f) << "night " << nights[i]["start"];
  }
  std::cout << figures << "total forecast " << total_forecast << ", dispatched " << runner.calls.size()
            << " (before the restart " << before_restart << ")\n";
  EXPECT_EQ(runner.calls.size(), total_forecast);
  EXPECT_GT(before_restart, 0u);
  EXPECT_LT(before_restart, runner.calls.size());
  for (const auto& [device, n] : per_device) EXPECT_EQ(n, 1) << device << " renewed " << n << " times";

  // Who was acted on: every overdue, revoked, retired-CA, expired and LSC-less device, plus
  // those due within the month; never a device with a young LSC.
  EXPECT_TRUE(per_device.count(phone(1000)));  // no LSC
  EXPECT_TRUE(per_device.count(phone(1022)));  // expired
  EXPECT_TRUE(per_device.count(phone(107)));   // revoked, young
  EXPECT_TRUE(per_device.count(phone(113)));   // retired CA, young
  EXPECT_TRUE(per_device.count(phone(900)));   // 2/3 of its life long passed
  EXPECT_FALSE(per_device.count(phone(100)));  // 36 days old
  // Spread: the ~380 devices due at once went over the 7 nights, not onto one.
  EXPECT_LT(max_night, 90u);
  EXPECT_GT(total_forecast, 400u);

  // Every job the policy created completed with every device succeeded.
  for (const auto& v : engine->list()) {
    EXPECT_EQ(v.job.selection, "policy:hq-renew");
    EXPECT_EQ(v.counts.count(JobDeviceState::succeeded) ? v.counts.at(JobDeviceState::succeeded) : 0, v.job.devices);
  }
  // After the month nothing is due before the next renewals: a new forecast's first week is empty
  // apart from devices whose 2/3 point comes then.
  auto after = call("GET", "/v1/policies/hq-renew/forecast?days=7");
  for (const auto& n : after.body["nights"]) EXPECT_EQ(n["by_reason"].value("install", 0), 0);
}

TEST_F(RenewalTest, PausedPolicyCreatesNothingUntilResumed) {
  make_fleet(*store);
  create_template({{"name", "lsc-renew"}, {"where", "all"}, {"auth_mode", "lsc"}});
  create_policy(renew_policy("hq-renew"));
  ASSERT_EQ(call("POST", "/v1/policies/hq-renew/pause").status, 200);
  run_until(kStart + 3 * kDay);
  EXPECT_TRUE(runner.calls.empty());
  EXPECT_TRUE(engine->list().empty());
  EXPECT_EQ(call("POST", "/v1/policies/hq-renew/pause").status, 409);
  ASSERT_EQ(call("POST", "/v1/policies/hq-renew/resume").status, 200);
  run_until(kStart + 4 * kDay);
  EXPECT_FALSE(runner.calls.empty());
  EXPECT_EQ(engine->list().size(), 1u);
}

TEST_F(RenewalTest, DeviceInAJobNeverGetsASecondAndFailuresWaitNNights) {
  store::Transition t;
  for (int i = 0; i < 30; ++i) add_without_lsc(t, phone(i));
  ASSERT_TRUE(store->apply(t).ok());
  // A phone that never opens its session: each attempt waits 10 minutes, three attempts.
  close();
  session_wait_s = 600;
  open();
  const std::string silent = phone(4);
  runner.silent.insert(silent);
  create_template({{"name", "mic"}, {"where", "all"}, {"auth_mode", "mic"}});
  auto body = renew_policy("installs");
  body["template"] = "mic";
  body["jitter_nights"] = 3;
  create_policy(body);
  run_until(kStart + 8 * kDay);

  std::map<std::string, util::UnixTime> jobs_of_silent;  // job → first trigger
  for (const auto& c : runner.calls)
    if (c.device == silent && !jobs_of_silent.count(c.job)) jobs_of_silent[c.job] = c.at;
  ASSERT_GE(jobs_of_silent.size(), 2u);
  std::vector<util::UnixTime> firsts;
  for (const auto& [job, at] : jobs_of_silent) firsts.push_back(at);
  std::sort(firsts.begin(), firsts.end());
  for (std::size_t i = 1; i < firsts.size(); ++i) {
    EXPECT_GE(firsts[i] - firsts[i - 1], 3 * kDay - 3600) << "retried before its next night";
    EXPECT_LE(firsts[i] - firsts[i - 1], 3 * kDay + 3600);
  }
  // While a job holds the device, no other job was created for it: each job triggered it
  // max_attempts times, and at most one of them was unfinished at any time.
  for (const auto& v : engine->list()) EXPECT_NE(v.job.state, JobState::cancelled);
  std::size_t others = 0;
  for (const auto& c : runner.calls) others += c.device != silent ? 1 : 0;
  EXPECT_EQ(others, 29u);
}
