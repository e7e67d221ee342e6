// Cron, windows, blackouts and capacity. Expected instants are worked out by hand in UTC:
// Europe/Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) from the last Sunday of March
// 01:00Z to the last Sunday of October 01:00Z; America/New_York is UTC-5 (EST) and UTC-4
// (EDT) from the second Sunday of March 07:00Z to the first Sunday of November 06:00Z.
#include <gtest/gtest.h>

#include "capf/engine/schedule.hpp"

using namespace capf;
using namespace capf::engine;

namespace {

util::UnixTime T(const char* iso) {
  auto t = util::parse_iso8601(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(0);
}

Window W(const char* text) {
  auto w = Window::parse(text);
  EXPECT_TRUE(w) << text << ": " << (w ? "" : w.error().message);
  return w ? *w : Window{};
}

Schedule S(std::vector<Window> windows, std::vector<Window> black = {}, std::vector<Interval> ivs = {}) {
  auto s = Schedule::make(std::move(windows), std::move(black), std::move(ivs));
  EXPECT_TRUE(s);
  return *s;
}

Interval I(const char* a, const char* b) { return {T(a), T(b)}; }

}  // namespace

TEST(Cron, ParsesListsRangesStepsAndNames) {
  auto c = CronSpec::parse("*/15 1-5 1,15 JAN-mar mon-FRI");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->minutes().count(), 4u);  // 0 15 30 45
  EXPECT_TRUE(c->minutes()[45]);
  EXPECT_EQ(c->hours().count(), 5u);
  EXPECT_TRUE(c->days_of_month()[1] && c->days_of_month()[15]);
  EXPECT_EQ(c->months().count(), 3u);
  EXPECT_TRUE(c->months()[3]);
  EXPECT_EQ(c->days_of_week().count(), 5u);
  EXPECT_FALSE(c->days_of_week()[0]);

  auto sunday = CronSpec::parse("0 0 * * 7");
  ASSERT_TRUE(sunday);
  EXPECT_TRUE(sunday->days_of_week()[0]);  // 7 folds onto 0
  auto weekend = CronSpec::parse("0 0 * * 6-7");
  ASSERT_TRUE(weekend);
  EXPECT_EQ(weekend->days_of_week().to_ulong(), 0b1000001u);
  auto stepped = CronSpec::parse("5/20 10-22/6 * * *");
  ASSERT_TRUE(stepped);
  EXPECT_EQ(stepped->minutes().count(), 3u);  // 5 25 45
  EXPECT_TRUE(stepped->hours()[10] && stepped->hours()[16] && stepped->hours()[22]);
  EXPECT_EQ(stepped->hours().count(), 3u);
}

TEST(Cron, RejectsBadFieldsWithTheirName) {
  for (const char* bad : {"", "0 0 * *", "0 0 * * * *", "60 0 * * *", "0 24 * * *", "0 0 32 * *", "0 0 0 * *",
                          "0 0 * 13 *", "0 0 * * 8", "0 0 * FOO *", "*/0 0 * * *", "5-1 0 * * *", "0,,1 0 * * *",
                          "x 0 * * *"})
    EXPECT_FALSE(CronSpec::parse(bad)) << bad;
  auto e = CronSpec::parse("0 0 32 * *");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("day of month"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("1-31"), std::string::npos) << e.error().message;
}

TEST(Cron, BothDayFieldsRestrictedMeansEither) {
  // 2026-06-01 is a Monday, 2026-06-02 a Tuesday, 2026-06-08 a Monday.
  auto either = CronSpec::parse("0 9 1 * MON");
  ASSERT_TRUE(either);
  EXPECT_TRUE(either->matches_day(2026, 6, 1));
  EXPECT_TRUE(either->matches_day(2026, 6, 8));   // a Monday, not the 1st
  EXPECT_TRUE(either->matches_day(2026, 7, 1));   // the 1st, a Wednesday
  EXPECT_FALSE(either->matches_day(2026, 6, 2));
  // One field a star (even "*/2"): both must match.
  auto both = CronSpec::parse("0 9 */2 * MON");
  ASSERT_TRUE(both);
  EXPECT_FALSE(both->matches_day(2026, 6, 8));  // Monday but day 8 is even; */2 = 1,3,5,...
  EXPECT_TRUE(both->matches_day(2026, 6, 1));
  EXPECT_TRUE(either->matches(2026, 6, 1, 9, 0));
  EXPECT_FALSE(either->matches(2026, 6, 1, 9, 1));
  EXPECT_FALSE(either->matches_day(2026, 2, 31));  // no such date
}

TEST(Window, ParsesDurationsAndZones) {
  EXPECT_EQ(*parse_duration("4h"), 4 * 3600);
  EXPECT_EQ(*parse_duration("90m"), 90 * 60);
  EXPECT_EQ(*parse_duration("1h30m"), 5400);
  EXPECT_EQ(*parse_duration("2d"), 2 * 86400);
  for (const char* bad : {"", "4", "h", "30m1h", "1h1h", "4x", "0m", "32d", "-1h"})
    EXPECT_FALSE(parse_duration(bad)) << bad;

  auto w = Window::parse("  0 1 * * 6 4h Europe/Berlin ");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->text, "0 1 * * 6 4h Europe/Berlin");
  EXPECT_EQ(w->duration_s, 4 * 3600);
  EXPECT_FALSE(Window::parse("0 1 * * 6 4h Europe/Atlantis"));
  EXPECT_FALSE(Window::parse("0 1 * * 6 Europe/Berlin"));
  EXPECT_FALSE(Window::parse("0 1 * * 6 4q Europe/Berlin"));
  auto e = Window::parse("0 1 * * 6 4h Mars/Olympus");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("Mars/Olympus"), std::string::npos);
}

TEST(Window, WeeklyWindowFollowsLocalTimeAcrossSeasons) {
  const Schedule s = S({W("0 1 * * 6 4h Europe/Berlin")});
  // Sat 2026-11-28 01:00 CET = 00:00Z, until 04:00Z.
  auto winter = s.next_open(T("2026-11-23T12:00:00Z"));  // a Monday
  ASSERT_TRUE(winter);
  EXPECT_EQ(*winter, I("2026-11-28T00:00:00Z", "2026-11-28T04:00:00Z"));
  // Sat 2026-07-04 01:00 CEST = Fri 2026-07-03 23:00Z, until 03:00Z.
  auto summer = s.next_open(T("2026-06-29T12:00:00Z"));
  ASSERT_TRUE(summer);
  EXPECT_EQ(*summer, I("2026-07-03T23:00:00Z", "2026-07-04T03:00:00Z"));
  EXPECT_TRUE(s.is_open(T("2026-07-04T02:59:59Z")));
  EXPECT_FALSE(s.is_open(T("2026-07-04T03:00:00Z")));  // end is exclusive
  EXPECT_FALSE(s.is_open(T("2026-07-03T22:59:59Z")));
  // Inside a window the result starts at t and keeps the window's end.
  auto inside = s.next_open(T("2026-11-28T01:00:00Z"));
  ASSERT_TRUE(inside);
  EXPECT_EQ(*inside, I("2026-11-28T01:00:00Z", "2026-11-28T04:00:00Z"));
  // After it closes, the next Saturday: 2026-12-05 00:00Z.
  EXPECT_EQ(s.next_open(T("2026-11-28T04:00:00Z"))->start, T("2026-12-05T00:00:00Z"));
  // Four weeks of Saturdays, 4 h each.
  EXPECT_EQ(s.open_seconds(T("2026-11-23T00:00:00Z"), T("2026-12-21T00:00:00Z")), 4 * 4 * 3600);
}

TEST(Window, SpansMidnight) {
  // Daily 22:30 Berlin for 3h: in winter 21:30Z to 00:30Z the next UTC day (23:30 local to 01:30).
  const Schedule s = S({W("30 22 * * * 3h Europe/Berlin")});
  EXPECT_TRUE(s.is_open(T("2026-12-01T23:59:59Z")));
  EXPECT_TRUE(s.is_open(T("2026-12-02T00:15:00Z")));  // 01:15 local, after local midnight
  EXPECT_FALSE(s.is_open(T("2026-12-02T00:30:00Z")));
  auto iv = s.next_open(T("2026-12-02T00:00:00Z"));
  ASSERT_TRUE(iv);
  EXPECT_EQ(*iv, I("2026-12-02T00:00:00Z", "2026-12-02T00:30:00Z"));
  EXPECT_EQ(s.next_open(T("2026-12-02T00:30:00Z"))->start, T("2026-12-02T21:30:00Z"));
}

TEST(Dst, BerlinSpringForwardOpensAtTheGapsEnd) {
  // 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST at 01:00Z, so 02:30 does not exist.
  const Window w = W("30 2 * * 0 1h Europe/Berlin");
  auto occ = w.occurrences(T("2026-03-21T00:00:00Z"), T("2026-04-06T00:00:00Z"));
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(occ[0], I("2026-03-22T01:30:00Z", "2026-03-22T02:30:00Z"));  // 02:30 CET = 01:30Z
  EXPECT_EQ(occ[1], I("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"));  // 03:00 CEST = 01:00Z, 1h real
  EXPECT_EQ(occ[2], I("2026-04-05T00:30:00Z", "2026-04-05T01:30:00Z"));  // 02:30 CEST = 00:30Z
  // Several starts inside the gap open once, at the gap's end.
  auto many = W("*/15 2 29 3 * 1h Europe/Berlin").occurrences(T("2026-03-28T00:00:00Z"), T("2026-03-30T00:00:00Z"));
  ASSERT_EQ(many.size(), 1u);
  EXPECT_EQ(many[0].start, T("2026-03-29T01:00:00Z"));
}

TEST(Dst, BerlinFallBackOpensAtTheFirstOccurrence) {
  // 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00Z, so 02:30 happens at 00:30Z and at 01:30Z.
  const Schedule s = S({W("30 2 * * 0 1h Europe/Berlin")});
  auto occ = s.windows()[0].occurrences(T("2026-10-24T00:00:00Z"), T("2026-10-26T00:00:00Z"));
  ASSERT_EQ(occ.size(), 1u);
  EXPECT_EQ(occ[0], I("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"));
  EXPECT_FALSE(s.is_open(T("2026-10-25T01:30:00Z")));  // the second 02:30 does not reopen it
  // A 4h window over the change is 4 h of real time: 00:00 CEST (22:00Z) to 02:00Z, 03:00 CET.
  const Window four = W("0 0 25 10 * 4h Europe/Berlin");
  auto o = four.occurrences(T("2026-10-24T00:00:00Z"), T("2026-10-26T00:00:00Z"));
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0], I("2026-10-24T22:00:00Z", "2026-10-25T02:00:00Z"));
}

TEST(Dst, NewYorkSpringForward) {
  // 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z; 02:30 does not exist that day.
  const Schedule s = S({W("30 2 * * * 2h America/New_York")});
  auto occ = s.windows()[0].occurrences(T("2026-03-07T00:00:00Z"), T("2026-03-10T00:00:00Z"));
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(occ[0], I("2026-03-07T07:30:00Z", "2026-03-07T09:30:00Z"));  // 02:30 EST
  EXPECT_EQ(occ[1], I("2026-03-08T07:00:00Z", "2026-03-08T09:00:00Z"));  // gap end 03:00 EDT
  EXPECT_EQ(occ[2], I("2026-03-09T06:30:00Z", "2026-03-09T08:30:00Z"));  // 02:30 EDT
  EXPECT_EQ(s.next_open(T("2026-03-08T00:00:00Z"))->start, T("2026-03-08T07:00:00Z"));
}

TEST(Dst, NewYorkFallBackOpensOnce) {
  // 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z; 01:30 is 05:30Z (EDT) and 06:30Z (EST).
  const Schedule s = S({W("30 1 * * * 1h America/New_York")});
  auto occ = s.windows()[0].occurrences(T("2026-11-01T00:00:00Z"), T("2026-11-02T00:00:00Z"));
  ASSERT_EQ(occ.size(), 1u);
  EXPECT_EQ(occ[0], I("2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"));
  EXPECT_FALSE(s.is_open(T("2026-11-01T06:30:00Z")));
  EXPECT_EQ(s.next_open(T("2026-11-01T06:30:00Z"))->start, T("2026-11-02T06:30:00Z"));  // 01:30 EST
  // Midnight EDT (04:00Z) plus 4 h of real time ends at 08:00Z = 03:00 EST, not 04:00 local.
  const Window w = W("0 0 1 11 * 4h America/New_York");
  auto o = w.occurrences(T("2026-10-31T00:00:00Z"), T("2026-11-02T00:00:00Z"));
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0], I("2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z"));
}

TEST(Blackout, WindowCutsAWindowInTwo) {
  // Sat 2026-11-28 01:00-05:00 CET = 00:00Z-04:00Z, minus 02:00-03:00 CET = 01:00Z-02:00Z.
  auto b = Schedule::parse_blackout("0 2 * * 6 1h Europe/Berlin");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->first);
  EXPECT_FALSE(b->second);
  const Schedule s = S({W("0 1 * * 6 4h Europe/Berlin")}, {*b->first});
  EXPECT_FALSE(s.always_open());
  auto first = s.next_open(T("2026-11-27T00:00:00Z"));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, I("2026-11-28T00:00:00Z", "2026-11-28T01:00:00Z"));
  auto second = s.next_open(first->end);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, I("2026-11-28T02:00:00Z", "2026-11-28T04:00:00Z"));
  EXPECT_FALSE(s.is_open(T("2026-11-28T01:30:00Z")));
  EXPECT_EQ(s.open_seconds(T("2026-11-27T00:00:00Z"), T("2026-11-29T00:00:00Z")), 3 * 3600);
}

TEST(Blackout, AbsoluteInterval) {
  auto b = Schedule::parse_blackout("2026-12-24T00:00Z/2026-12-27T00:00Z");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->second);
  EXPECT_FALSE(b->first);
  EXPECT_EQ(*b->second, I("2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z"));
  // Daily 01:00-05:00 CET = 00:00Z-04:00Z; the 24th, 25th and 26th are blacked out.
  const Schedule s = S({W("0 1 * * * 4h Europe/Berlin")}, {}, {*b->second});
  auto iv = s.next_open(T("2026-12-23T05:00:00Z"));
  ASSERT_TRUE(iv);
  EXPECT_EQ(*iv, I("2026-12-27T00:00:00Z", "2026-12-27T04:00:00Z"));
  EXPECT_EQ(s.open_seconds(T("2026-12-23T00:00:00Z"), T("2026-12-28T00:00:00Z")), 2 * 4 * 3600);
  // Without windows: open everywhere but the blackout, up to the horizon.
  const Schedule open = S({}, {}, {*b->second});
  EXPECT_FALSE(open.is_open(T("2026-12-25T12:00:00Z")));
  auto after = open.next_open(T("2026-12-25T12:00:00Z"), 10);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, I("2026-12-27T00:00:00Z", "2027-01-04T12:00:00Z"));  // capped at t + 10 days

  EXPECT_FALSE(Schedule::parse_blackout("2026-12-27T00:00Z/2026-12-24T00:00Z"));  // backwards
  auto bad = Schedule::parse_blackout("christmas");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("ISO 8601"), std::string::npos);
  EXPECT_FALSE(Schedule::make({}, {}, {Interval{10, 10}}));
}

TEST(Schedule, NoWindowsIsAlwaysOpen) {
  const Schedule s = S({});
  EXPECT_TRUE(s.always_open());
  EXPECT_TRUE(s.is_open(T("2026-01-01T00:00:00Z")));
  auto iv = s.next_open(T("2026-01-01T00:00:00Z"), 1);
  ASSERT_TRUE(iv);
  EXPECT_EQ(*iv, I("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"));
  // 300/min: dispatch 601 comes after 600/300 = 2 minutes.
  EXPECT_EQ(s.finish_time(601, 300, T("2026-01-01T00:00:00Z")), T("2026-01-01T00:02:00Z"));
  EXPECT_EQ(s.finish_time(1, 300, 1000), 1000);
  EXPECT_EQ(s.finish_time(0, 300, 1000), 1000);
  EXPECT_EQ(s.finish_time(50000, 0, 1000), 1000);  // unlimited rate
}

TEST(Schedule, ImpossibleCronNeverOpens) {
  const Schedule s = S({W("0 0 31 2 * 1h UTC")});  // February 31st
  EXPECT_FALSE(s.next_open(T("2026-01-01T00:00:00Z")));
  EXPECT_FALSE(s.next_open(T("2026-01-01T00:00:00Z"), 4000));
  EXPECT_FALSE(s.is_open(T("2026-02-28T00:30:00Z")));
  EXPECT_FALSE(s.finish_time(1, 300, T("2026-01-01T00:00:00Z")));
  auto c = check_capacity(s, 10, 300, T("2026-01-01T00:00:00Z"), std::nullopt);
  EXPECT_FALSE(c.fits);
  EXPECT_EQ(c.possible, 0u);
  EXPECT_FALSE(c.last_dispatch);
  EXPECT_EQ(c.message, "the windows allow 0 dispatches within 400 days at 300/min; 10 devices do not finish "
                       "within 400 days");
}

TEST(Schedule, HorizonBoundsTheSearch) {
  // A yearly window on 1 January: from 2026-01-02 it is 364 days away.
  const Schedule s = S({W("0 0 1 1 * 1h UTC")});
  EXPECT_FALSE(s.next_open(T("2026-01-02T00:00:00Z"), 300));
  auto iv = s.next_open(T("2026-01-02T00:00:00Z"));
  ASSERT_TRUE(iv);
  EXPECT_EQ(*iv, I("2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z"));
}

TEST(Capacity, WindowsThatCannotMeetTheDeadline) {
  // From Mon 2027-02-15 to 2027-03-01 the Saturday window opens on 02-20 and 02-27, each
  // 01:00-05:00 CET = 00:00Z-04:00Z: 8 h = 28,800 s. At 3/min one dispatch per 20 s, so
  // 28,800 / 20 = 1,440 dispatches fit. Device 2,000 needs 1,999 x 20 = 39,980 s of open time:
  // 28,800 in February, 11,180 s (3:06:20) into Sat 2027-03-06 00:00Z.
  const Schedule s = S({W("0 1 * * 6 4h Europe/Berlin")});
  const auto from = T("2027-02-15T00:00:00Z");
  const auto deadline = T("2027-03-01T00:00:00Z");
  EXPECT_EQ(s.open_seconds(from, deadline), 28800);
  auto c = check_capacity(s, 2000, 3, from, deadline);
  EXPECT_FALSE(c.fits);
  EXPECT_EQ(c.possible, 1440u);
  EXPECT_EQ(c.last_dispatch, T("2027-03-06T03:06:20Z"));
  EXPECT_EQ(c.message, "the windows allow 1,440 dispatches before 2027-03-01T00:00:00Z at 3/min; 2,000 devices "
                       "need until 2027-03-06T03:06:20Z");

  // 1,000 devices: 999 x 20 = 19,980 s: 14,400 on 02-20, 5,580 s (1:33:00) into 02-27.
  auto ok = check_capacity(s, 1000, 3, from, deadline);
  EXPECT_TRUE(ok.fits);
  EXPECT_EQ(ok.last_dispatch, T("2027-02-27T01:33:00Z"));
  EXPECT_EQ(ok.message, "all 1,000 devices fit: the last dispatch at 2027-02-27T01:33:00Z, before the deadline "
                        "2027-03-01T00:00:00Z at 3/min");

  // The edge: device 1,440 goes at 1,439 x 20 = 28,780 s (03:59:40Z on 02-27); 1,441 does not fit.
  auto edge = check_capacity(s, 1440, 3, from, deadline);
  EXPECT_TRUE(edge.fits);
  EXPECT_EQ(edge.last_dispatch, T("2027-02-27T03:59:40Z"));
  auto over = check_capacity(s, 1441, 3, from, deadline);
  EXPECT_FALSE(over.fits);
  EXPECT_EQ(over.last_dispatch, T("2027-03-06T00:00:00Z"));

  // The spec's example rate: 300/min gives 144,000 in the same 8 h.
  EXPECT_EQ(check_capacity(s, 40000, 300, from, deadline).possible, 144000u);
  // A deadline already passed allows nothing.
  auto late = check_capacity(s, 5, 300, deadline, from);
  EXPECT_FALSE(late.fits);
  EXPECT_EQ(late.possible, 0u);
}

TEST(Capacity, NonIntegralRateMatchesFinishTime) {
  // 7/min in a 60 s window: dispatches at 0, 8.57, ..., 51.43 s: 7 fit, the 8th is at 60 s.
  const Schedule s = S({W("0 12 * * * 1m UTC")});
  const auto from = T("2026-05-01T00:00:00Z");
  const auto deadline = T("2026-05-02T00:00:00Z");
  auto c = check_capacity(s, 7, 7, from, deadline);
  EXPECT_TRUE(c.fits);
  EXPECT_EQ(c.possible, 7u);
  EXPECT_EQ(c.last_dispatch, T("2026-05-01T12:00:51Z"));
  auto c8 = check_capacity(s, 8, 7, from, deadline);
  EXPECT_FALSE(c8.fits);
  EXPECT_EQ(c8.last_dispatch, T("2026-05-02T12:00:00Z"));
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1234567), "1,234,567");
}
