// When a job may dispatch: cron maintenance windows in IANA time zones, blackouts, and the
// submit-time capacity check. Pure functions of their inputs; "now" is always a parameter.
//
// Time-zone and DST rules (all zone arithmetic is done by howardhinnant date/tz):
// - Cron fields are matched against LOCAL wall-clock time in the window's zone: "0 1 * * 6"
//   in Europe/Berlin opens at 01:00 Berlin time every Saturday, whatever the UTC offset.
// - Spring forward (a local start time that does not exist, e.g. 02:30 Europe/Berlin on the
//   last Sunday of March): the window is not skipped; it opens at the first instant after the
//   gap (03:00 local, the transition instant) and lasts `duration` of real time from there.
// - Fall back (a local start time that occurs twice, e.g. 01:30 America/New_York on the first
//   Sunday of November): the window opens once, at the first (earlier, daylight-time)
//   occurrence.
// - Duration is always elapsed real time, never wall-clock time: a 4h window that straddles a
//   transition still lasts exactly 14,400 seconds.
// - Several nominal starts that fall into the same gap open at the same instant (once).
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace date {
class time_zone;
}

namespace capf::engine {

/// A 5-field cron expression (minute hour day-of-month month day-of-week) with *, lists,
/// ranges, steps (*/15, 1-5, 0,30, 10-50/20, 5/10), month/day names (JAN, MON, MON-FRI),
/// 0 and 7 = Sunday, and the standard (Vixie) rule that when both day fields are restricted
/// either may match. A day field counts as restricted unless it starts with '*'.
class CronSpec {
 public:
  /// Parses the five fields separated by white space; the error names the field and the value.
  static Result<CronSpec> parse(std::string_view text);

  /// True when the local calendar day (year, month 1-12, day 1-31) matches the day-of-month,
  /// month and day-of-week fields.
  bool matches_day(int year, unsigned month, unsigned day) const;
  /// True when a local date and time (hour 0-23, minute 0-59) matches all five fields.
  bool matches(int year, unsigned month, unsigned day, unsigned hour, unsigned minute) const;

  /// Minutes 0-59 the expression allows.
  const std::bitset<60>& minutes() const { return minutes_; }
  /// Hours 0-23 the expression allows.
  const std::bitset<24>& hours() const { return hours_; }
  /// Days of the month 1-31 the expression allows (bit 0 unused).
  const std::bitset<32>& days_of_month() const { return dom_; }
  /// Months 1-12 the expression allows (bit 0 unused).
  const std::bitset<13>& months() const { return months_; }
  /// Days of the week 0-6, 0 = Sunday.
  const std::bitset<7>& days_of_week() const { return dow_; }

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> dom_;
  std::bitset<13> months_;
  std::bitset<7> dow_;
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

/// Open intervals [start, end) in Unix seconds.
struct Interval {
  util::UnixTime start = 0;  ///< first open second
  util::UnixTime end = 0;    ///< first second no longer open
  /// Field-wise equality (for tests and de-duplication).
  bool operator==(const Interval&) const = default;
};

/// A maintenance window: opens at each cron match in a time zone, stays open for `duration`.
struct Window {
  std::string text;                        ///< as written: "0 1 * * 6 4h Europe/Berlin"
  CronSpec cron;                           ///< when it opens, in local time of `zone`
  std::int64_t duration_s = 0;             ///< how long it stays open, elapsed seconds
  const date::time_zone* zone = nullptr;   ///< the IANA zone (owned by the tz database)

  /// Parses "MIN HOUR DOM MON DOW DURATION TZ"; DURATION like 4h, 90m, 1h30m, 2d (1 minute to
  /// 31 days); TZ an IANA name such as Europe/Berlin or UTC.
  static Result<Window> parse(std::string_view text);

  /// Every opening [start, start + duration) that overlaps [from, until), ordered by start,
  /// unclipped; starts follow the DST rules at the top of this file.
  std::vector<Interval> occurrences(util::UnixTime from, util::UnixTime until) const;
};

/// Parses a duration "4h", "90m", "1h30m", "2d" into seconds; errors on anything else.
Result<std::int64_t> parse_duration(std::string_view text);

/// Where and when a job may dispatch: inside any window (no windows = always) and outside
/// every blackout. Blackouts are windows or absolute intervals "2026-12-24T00:00Z/2026-12-27T00:00Z".
class Schedule {
 public:
  /// Builds a schedule; errors on an empty or inverted blackout interval.
  static Result<Schedule> make(std::vector<Window> windows, std::vector<Window> blackout_windows,
                               std::vector<Interval> blackout_intervals);
  /// Parses a blackout given as "START/END" (ISO 8601, via util::parse_iso8601) or as a
  /// window; exactly one of the pair is set.
  static Result<std::pair<std::optional<Window>, std::optional<Interval>>> parse_blackout(std::string_view text);

  /// True when there are no windows and no blackouts: every instant is open.
  bool always_open() const;
  /// True when instant t is inside a window (or there are none) and outside every blackout.
  bool is_open(util::UnixTime t) const;
  /// The open interval containing t, or the next one starting after t, with blackouts cut
  /// out; nullopt when nothing opens within `horizon_days` (default 400). The result is
  /// clipped to the searched range: start is never before t and end is never after
  /// t + horizon_days (an end equal to that bound means "open at least until then").
  std::optional<Interval> next_open(util::UnixTime t, int horizon_days = 400) const;
  /// Open seconds in [from, until).
  std::int64_t open_seconds(util::UnixTime from, util::UnixTime until) const;
  /// When the n-th dispatch (1-based) happens at `per_minute` dispatches per minute of open
  /// time, starting at `from`: dispatch k comes after (k-1)/per_minute minutes of open time,
  /// so the first is at the first open instant. n == 0 gives `from`; per_minute <= 0 means
  /// unlimited (every dispatch at the first open instant). nullopt when not within the horizon.
  std::optional<util::UnixTime> finish_time(std::size_t n, double per_minute, util::UnixTime from,
                                            int horizon_days = 400) const;

  /// The windows as given.
  const std::vector<Window>& windows() const { return windows_; }
  /// The blackout windows as given.
  const std::vector<Window>& blackout_windows() const { return blackout_windows_; }
  /// The absolute blackout intervals as given.
  const std::vector<Interval>& blackout_intervals() const { return blackout_intervals_; }

 private:
  /// Maximal open intervals overlapping [from, until), clipped to it, ordered.
  std::vector<Interval> open_intervals(util::UnixTime from, util::UnixTime until) const;
  /// next_open with an absolute search limit.
  std::optional<Interval> next_open_until(util::UnixTime t, util::UnixTime limit) const;

  std::vector<Window> windows_;
  std::vector<Window> blackout_windows_;
  std::vector<Interval> blackout_intervals_;
};

/// The outcome of the submit-time check.
struct CapacityCheck {
  bool fits = true;                              ///< every device dispatches before the deadline
  std::size_t possible = 0;                      ///< dispatches the windows allow before the deadline
  std::optional<util::UnixTime> last_dispatch;   ///< when the last device dispatches (nullopt: beyond the horizon)
  std::string message;                           ///< one sentence with the numbers, for the operator
};

/// The submit-time check: can the windows meet a deadline? Returns a sentence with numbers,
/// e.g. "the windows allow 1,440 dispatches before 2027-03-01T00:00:00Z at 300/min; 2,000 devices
/// need until 2027-03-08T03:00:00Z" or "all 2,000 devices fit: the last dispatch at ...".
/// Without a deadline, `possible` counts dispatches within the 400-day horizon.
CapacityCheck check_capacity(const Schedule& s, std::size_t devices, double per_minute, util::UnixTime from,
                             std::optional<util::UnixTime> deadline);

/// "1,440": a count with thousands separators, for operator messages.
std::string format_count(std::size_t n);

}  // namespace capf::engine
