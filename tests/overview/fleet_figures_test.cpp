// The overview's figures and their device queries: every count equals what its query selects
// from the same devices, so a count on the page links to exactly the devices it counts.
#include "capf/overview/fleet_figures.hpp"

#include <gtest/gtest.h>

#include "capf/inventory/query.hpp"

using namespace capf;
using namespace capf::overview;

namespace {

constexpr util::UnixTime kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr util::UnixTime kDay = 86400;
const std::string kCa = "CN=CAPF-1a2b3c4d,O=capf";
const std::string kOld = "CN=CAPF-0ld,O=capf";
const std::string kCorp = "CN=Issuing CA 1,DC=corp,DC=example";
const std::string kOffline = "CN=Offline \"Root\", CA\\1";
const std::string kLab = "CN=Lab";

FleetFacts facts() {
  FleetFacts f;
  f.now = kNow;
  f.notice_days = 30;
  f.ca_subject = kCa;
  f.retired_subjects = {kOld};
  f.external = {{kCorp, IssuerKind::online_ca}, {kOffline, IssuerKind::offline_ca}};
  return f;
}

/// 2,000 devices whose LSCs expire from 100 days ago to 6 years ahead, at odd seconds, some on
/// bucket edges and at `now` exactly.
std::vector<Device> fleet(FleetFacts& f) {
  std::vector<Device> out;
  const std::string issuers[] = {kCa, kOld, kCorp, kOffline, kLab};
  const auto buckets = expiry_buckets(kNow);
  for (int i = 0; i < 2000; ++i) {
    Device d;
    d.name = "SEP" + std::to_string(100000 + i);
    if (i % 23 != 0) {
      d.lsc_serial = "5e" + std::to_string(i);
      d.lsc_issuer = issuers[i % 5];
      d.lsc_not_after = kNow - 100 * kDay + static_cast<util::UnixTime>(i) * 1187 * 97 % (2300 * kDay);
      if (i % 101 == 0) d.lsc_not_after = buckets[static_cast<std::size_t>(i) % buckets.size()].from;
      if (i % 211 == 0) d.lsc_not_after = kNow;
      if (i % 307 == 0) d.lsc_not_after = f.notice_at();
      if (i % 37 == 0) f.revoked.insert(d.lsc_serial);
    }
    out.push_back(d);
  }
  return out;
}

std::size_t selected(const std::string& where, const std::vector<Device>& devices, const FleetFacts& f) {
  auto q = inventory::Query::parse(where);
  EXPECT_TRUE(q.ok()) << where << ": " << (q.ok() ? "" : q.error().message);
  if (!q) return SIZE_MAX;
  const inventory::EvalContext c{f.now, &f.revoked};
  return static_cast<std::size_t>(
      std::count_if(devices.begin(), devices.end(), [&](const Device& d) { return q->matches(d, c); }));
}

}  // namespace

TEST(ExpiryBuckets, WeeksThenCalendarMonthsUpToFiveYears) {
  const auto b = expiry_buckets(kNow);
  ASSERT_GT(b.size(), 26u);
  for (std::size_t i = 0; i < 26; ++i) {
    EXPECT_TRUE(b[i].weekly);
    EXPECT_EQ(b[i].to - b[i].from, 7 * kDay);
  }
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_EQ(b[i].from, b[i - 1].to) << i;
  EXPECT_EQ(b.front().from, kNow);
  EXPECT_FALSE(b[26].weekly);
  // 2027-01-15T08:00Z + 26 weeks = 2027-07-16T08:00Z; months keep the 16th; five years end 2032-01-15.
  EXPECT_EQ(util::format_iso8601(b[26].from), "2027-07-16T08:00:00Z");
  EXPECT_EQ(util::format_iso8601(b[27].from), "2027-08-16T08:00:00Z");
  EXPECT_EQ(util::format_iso8601(b.back().to), "2032-01-15T08:00:00Z");
  EXPECT_EQ(b.size(), 26u + 54u);  // 2027-07-16 … 2031-12-16 start 54 months, the last one cut short
}

TEST(ExpiryBuckets, TheThirtyFirstBecomesTheLastDayOfShorterMonths) {
  const auto t = util::parse_iso8601("2026-07-03T00:00:00Z").value();  // + 26 weeks = 2027-01-01
  const auto b = expiry_buckets(t);
  EXPECT_EQ(util::format_iso8601(b[26].from), "2027-01-01T00:00:00Z");
  const auto u = util::parse_iso8601("2026-07-31T12:00:00Z").value();  // + 26 weeks = 2027-01-29
  const auto c = expiry_buckets(u);
  EXPECT_EQ(util::format_iso8601(c[27].from), "2027-02-28T12:00:00Z");
  EXPECT_EQ(util::format_iso8601(c[28].from), "2027-03-29T12:00:00Z");
}

TEST(FleetCounter, EveryCountIsWhatItsQuerySelects) {
  FleetFacts f = facts();
  const auto devices = fleet(f);
  FleetCounter counter(f);
  for (const auto& d : devices) counter.add(d);
  const FleetSummary s = counter.finish(f);
  EXPECT_EQ(s.devices, devices.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < kStatuses; ++i) {
    const auto st = static_cast<Status>(i);
    EXPECT_EQ(s.by_status[i], selected(status_query(st, f), devices, f))
        << to_string(st) << ": " << status_query(st, f);
    EXPECT_GT(s.by_status[i], 0u) << to_string(st) << " is not exercised";
    total += s.by_status[i];
  }
  EXPECT_EQ(total, devices.size()) << "each device has exactly one status";
  std::size_t in_buckets = 0;
  for (const auto& b : s.expiry) {
    EXPECT_EQ(b.count, selected(bucket_query(b, f.now), devices, f)) << bucket_query(b, f.now);
    in_buckets += b.count;
  }
  EXPECT_GT(s.later, 0u);
  EXPECT_EQ(s.expired, selected("lsc_expires <= " + util::format_iso8601(f.now), devices, f));
  EXPECT_EQ(in_buckets + s.expired + s.later, s.devices - s.by_status[static_cast<std::size_t>(Status::none)]);
}

TEST(FleetCounter, IssuersByDnWithTheirQueries) {
  FleetFacts f = facts();
  const auto devices = fleet(f);
  FleetCounter counter(f);
  for (const auto& d : devices) counter.add(d);
  // The DNs the CSR ledger would be asked about: everything but the CAPF CAs.
  const auto samples = counter.samples();
  EXPECT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples.count(kCa) + samples.count(kOld), 0u);
  EXPECT_EQ(samples.at(kCorp).size(), 8u);
  const FleetSummary s = counter.finish(f);
  for (std::size_t i = 0; i < kIssuers; ++i) {
    EXPECT_GT(s.by_issuer[i], 0u) << to_string(static_cast<Issuer>(i));
    EXPECT_EQ(s.by_issuer[i], selected(issuer_query(s.issuer_subjects[i]), devices, f))
        << issuer_query(s.issuer_subjects[i]);
  }
  EXPECT_EQ(s.issuer_subjects[static_cast<std::size_t>(Issuer::other)], std::set<std::string>{kLab});
}
