// The planning function on its own: due dates, nights, deterministic jitter, and a plan that
// stays the same whenever it is made.
#include "capf/policy/plan.hpp"
#include "policy_fixture.hpp"

using namespace capf;
using namespace capf::policy;
using namespace capf::policy_test;

namespace {

Policy nightly(int jitter = 5) {
  Policy p;
  p.name = "p";
  p.template_name = "t";
  p.windows = {"0 1 * * * 4h UTC"};
  p.install_missing = p.reenroll_retired_ca = p.reenroll_revoked = true;
  p.jitter_nights = jitter;
  p.created_at = kStart;
  return p;
}

DeviceFacts facts(const std::string& name, util::UnixTime issued, util::UnixTime not_after,
                  const std::string& issuer = kCurrentCa, CertificateState state = CertificateState::delivered) {
  DeviceFacts f;
  f.device.name = name;
  f.device.lsc_serial = "01";
  f.device.lsc_issuer = issuer;
  f.device.lsc_not_after = not_after;
  f.lsc = CertificateRecord{"01", name, issuer, "RSA-2048", issued, issued, not_after, state, ""};
  return f;
}

}  // namespace

TEST(PlanTest, DueDates) {
  Policy p = nightly();
  CaFacts ca{kCurrentCa, {kRetiredCa}, IssuerKind::capf};
  const auto now = kStart;
  auto d = due_of(p, facts("a", now - 10 * kDay, now + 290 * kDay), ca, now).value();
  EXPECT_EQ(d.reason, Reason::renew);
  EXPECT_FALSE(d.now);
  EXPECT_NEAR(static_cast<double>(d.at), static_cast<double>(now - 10 * kDay + 200 * kDay), 2.0);
  p.renew_days_before = 30;
  EXPECT_EQ(due_of(p, facts("a", now - 10 * kDay, now + 290 * kDay), ca, now)->at, now + 260 * kDay);
  EXPECT_EQ(due_of(p, facts("a", now - 10 * kDay, now - 1), ca, now)->reason, Reason::expired);
  EXPECT_EQ(due_of(p, facts("a", now, now + 300 * kDay, kRetiredCa), ca, now)->reason, Reason::retired_ca);
  EXPECT_EQ(due_of(p, facts("a", now, now + 300 * kDay, "CN=Other CA"), ca, now)->reason, Reason::retired_ca);
  EXPECT_EQ(due_of(p, facts("a", now, now + 300 * kDay, kCurrentCa, CertificateState::revoked), ca, now)->reason,
            Reason::revoked);
  DeviceFacts bare;
  bare.device.name = "b";
  EXPECT_EQ(due_of(p, bare, ca, now)->reason, Reason::install);
  p.install_missing = false;
  EXPECT_FALSE(due_of(p, bare, ca, now));
  // An Online CA issues the LSCs: another issuer is not a retired CAPF CA.
  ca.issuer = IssuerKind::online_ca;
  EXPECT_EQ(due_of(p, facts("a", now, now + 300 * kDay, "CN=Other CA"), ca, now)->reason, Reason::renew);
}

TEST(PlanTest, RenewalsLandInTheNightsBeforeTheirDueDateAndThePlanIsStable) {
  Policy p = nightly(5);
  auto cal = NightCalendar::make(p).value();
  Snapshot snap;
  snap.ca = CaFacts{kCurrentCa, {}, IssuerKind::capf};
  // 200 devices due over the next 20 days (renewal at 2/3 of a 300-day life).
  for (int i = 0; i < 200; ++i) {
    const util::UnixTime due = kStart + (i % 20) * kDay + 12 * 3600;
    snap.devices.push_back(facts(phone(i), due - 200 * kDay, due + 100 * kDay));
  }
  // and 50 with no LSC at all.
  for (int i = 200; i < 250; ++i) {
    DeviceFacts f;
    f.device.name = phone(i);
    snap.devices.push_back(f);
  }
  const PolicyState none;
  const Plan first = plan(p, none, cal, snap, kStart, kStart + 40 * kDay);
  std::map<std::string, std::int64_t> night_of;
  for (const auto& d : first.devices) night_of[d.device] = d.night;
  EXPECT_EQ(night_of.size(), 250u);
  for (const auto& d : first.devices) {
    const auto n = cal.night(d.night).value();
    if (d.reason == Reason::renew && d.due_at > kStart + 6 * kDay) {
      EXPECT_LT(n.start, d.due_at) << d.device;                   // never after its due date
      EXPECT_GE(n.start, d.due_at - 6 * kDay) << d.device;       // within the N nights before
    }
  }
  // The 50 installs spread over the first 5 nights.
  std::map<std::int64_t, int> installs;
  for (const auto& d : first.devices)
    if (d.reason == Reason::install) ++installs[d.night];
  EXPECT_EQ(installs.size(), 5u);
  for (const auto& [night, n] : installs) EXPECT_LE(n, 20) << night;
  // Planned again three days later (nothing acted on): every device still on the same night.
  const Plan later = plan(p, none, cal, snap, kStart + 3 * kDay, kStart + 40 * kDay);
  const auto k_later = cal.at_or_after(kStart + 3 * kDay)->index;
  for (const auto& d : later.devices)
    if (night_of[d.device] >= k_later) {
      EXPECT_EQ(d.night, night_of[d.device]) << d.device;
    }
  // A device acted on keeps away for N nights.
  PolicyState acted;
  const auto& any = first.devices.front();
  acted.acted[any.device] = Acted{cal.night(any.night)->start, any.reason == Reason::install ? "" : "01", "J0001"};
  const Plan after = plan(p, acted, cal, snap, cal.night(any.night)->end, kStart + 40 * kDay);
  for (const auto& d : after.devices)
    if (d.device == any.device) {
      EXPECT_EQ(d.night, any.night + 5);
    }
}

TEST(PlanTest, ForecastWarnsWhenANightPassesItsCapacity) {
  Policy p = nightly(1);
  p.rate_per_minute = 0.1;  // 24 per 4 h night
  auto cal = NightCalendar::make(p).value();
  Snapshot snap;
  for (int i = 0; i < 30; ++i) {
    DeviceFacts f;
    f.device.name = phone(i);
    snap.devices.push_back(f);
  }
  const Plan pl = plan(p, PolicyState{}, cal, snap, kStart, kStart + 3 * kDay);
  ASSERT_FALSE(pl.nights.empty());
  EXPECT_EQ(pl.nights[0].devices, 30u);
  EXPECT_NEAR(pl.nights[0].capacity, 24.0, 1e-9);
  EXPECT_TRUE(pl.nights[0].over);
}
