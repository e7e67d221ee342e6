// Schedules: windows minus blackouts as interval sets, the next open interval, open time,
// dispatch estimates and the submit-time capacity check.
#include "capf/engine/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "capf/util/text.hpp"

namespace capf::engine {
namespace {

constexpr std::int64_t kDay = 86400;

/// Sorts and merges overlapping or touching intervals.
std::vector<Interval> merge(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> out;
  for (const Interval& iv : v) {
    if (iv.end <= iv.start) continue;
    if (!out.empty() && iv.start <= out.back().end)
      out.back().end = std::max(out.back().end, iv.end);
    else
      out.push_back(iv);
  }
  return out;
}

/// Restricts sorted intervals to [from, until).
std::vector<Interval> clip(std::vector<Interval> v, util::UnixTime from, util::UnixTime until) {
  std::vector<Interval> out;
  for (Interval iv : v) {
    iv.start = std::max(iv.start, from);
    iv.end = std::min(iv.end, until);
    if (iv.start < iv.end) out.push_back(iv);
  }
  return out;
}

/// a minus b; both sorted and merged.
std::vector<Interval> subtract(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  std::vector<Interval> out;
  std::size_t j = 0;
  for (const Interval& iv : a) {
    while (j < b.size() && b[j].end <= iv.start) ++j;
    util::UnixTime cur = iv.start;
    for (std::size_t k = j; k < b.size() && b[k].start < iv.end; ++k) {
      if (b[k].start > cur) out.push_back({cur, b[k].start});
      cur = std::max(cur, b[k].end);
    }
    if (cur < iv.end) out.push_back({cur, iv.end});
  }
  return out;
}

/// Open time needed before dispatch k (1-based) at `per_minute`; the one formula shared by
/// finish_time and check_capacity so the two always agree.
double offset_of(std::size_t k, double per_minute) {
  return per_minute > 0 ? static_cast<double>(k - 1) * 60.0 / per_minute : 0.0;
}

/// How many dispatches fit into `open` seconds of open time.
std::size_t dispatches_in(std::int64_t open, double per_minute, std::size_t cap) {
  if (open <= 0) return 0;
  if (per_minute <= 0) return cap;
  auto k = static_cast<std::size_t>(std::max(1.0, std::ceil(static_cast<double>(open) * per_minute / 60.0)));
  while (k > 0 && offset_of(k, per_minute) >= static_cast<double>(open)) --k;
  while (offset_of(k + 1, per_minute) < static_cast<double>(open)) ++k;
  return k;
}

std::string format_rate(double per_minute) {
  if (per_minute <= 0) return "an unlimited rate";
  if (per_minute == std::floor(per_minute) && per_minute < 1e15)
    return fmt::format("{}/min", static_cast<long long>(per_minute));
  return fmt::format("{:.2f}/min", per_minute);
}

}  // namespace

std::string format_count(std::size_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

Result<Schedule> Schedule::make(std::vector<Window> windows, std::vector<Window> blackout_windows,
                                std::vector<Interval> blackout_intervals) {
  for (const auto* list : {&windows, &blackout_windows})
    for (const Window& w : *list)
      if (w.zone == nullptr || w.duration_s <= 0)
        return make_error(Errc::invalid_argument, "window '" + w.text + "' has no time zone or no duration");
  for (const Interval& iv : blackout_intervals)
    if (iv.end <= iv.start)
      return make_error(Errc::invalid_argument, "blackout " + util::format_iso8601(iv.start) + "/" +
                                                    util::format_iso8601(iv.end) + " ends before it starts");
  Schedule s;
  s.windows_ = std::move(windows);
  s.blackout_windows_ = std::move(blackout_windows);
  s.blackout_intervals_ = std::move(blackout_intervals);
  return s;
}

Result<std::pair<std::optional<Window>, std::optional<Interval>>> Schedule::parse_blackout(std::string_view text) {
  using Pair = std::pair<std::optional<Window>, std::optional<Interval>>;
  const std::string_view t = util::trim(text);
  // ISO 8601 times contain no '/', so an interval has exactly one; a window's zone may have several.
  if (std::count(t.begin(), t.end(), '/') == 1) {
    const auto slash = t.find('/');
    const auto a = util::parse_iso8601(util::trim(t.substr(0, slash)));
    const auto b = util::parse_iso8601(util::trim(t.substr(slash + 1)));
    if (a && b) {
      if (*b <= *a)
        return make_error(Errc::invalid_argument, "blackout '" + std::string(t) + "' ends before it starts");
      return Pair{std::nullopt, Interval{*a, *b}};
    }
  }
  auto w = Window::parse(t);
  if (!w)
    return make_error(Errc::invalid_argument,
                      "blackout '" + std::string(t) +
                          "' is neither START/END in ISO 8601 (e.g. 2026-12-24T00:00Z/2026-12-27T00:00Z) nor a "
                          "window: " +
                          w.error().message);
  return Pair{std::move(*w), std::nullopt};
}

bool Schedule::always_open() const {
  return windows_.empty() && blackout_windows_.empty() && blackout_intervals_.empty();
}

std::vector<Interval> Schedule::open_intervals(util::UnixTime from, util::UnixTime until) const {
  if (until <= from) return {};
  std::vector<Interval> open;
  if (windows_.empty()) {
    open.push_back({from, until});
  } else {
    for (const Window& w : windows_) {
      auto occ = w.occurrences(from, until);
      open.insert(open.end(), occ.begin(), occ.end());
    }
    open = clip(merge(std::move(open)), from, until);
  }
  std::vector<Interval> black;
  for (const Window& w : blackout_windows_) {
    auto occ = w.occurrences(from, until);
    black.insert(black.end(), occ.begin(), occ.end());
  }
  for (const Interval& iv : blackout_intervals_)
    if (iv.end > from && iv.start < until) black.push_back(iv);
  if (black.empty()) return open;
  return subtract(open, merge(std::move(black)));
}

bool Schedule::is_open(util::UnixTime t) const {
  return !open_intervals(t, t + 1).empty();
}

std::optional<Interval> Schedule::next_open_until(util::UnixTime t, util::UnixTime limit) const {
  if (limit <= t) return std::nullopt;
  // Look a little ahead first and widen by four each time: a weekly window is found in the
  // first or second round, and an impossible one costs about 1.5 horizons of day checks.
  std::int64_t span = 2 * kDay;
  for (;;) {
    const util::UnixTime end = (limit - t <= span) ? limit : t + span;
    const auto ivs = open_intervals(t, end);
    // An interval that reaches the end of the searched range may go on beyond it.
    if (!ivs.empty() && (ivs.front().end < end || end == limit)) return ivs.front();
    if (end == limit) return std::nullopt;
    span *= 4;
  }
}

std::optional<Interval> Schedule::next_open(util::UnixTime t, int horizon_days) const {
  return next_open_until(t, t + std::int64_t{std::max(horizon_days, 0)} * kDay);
}

std::int64_t Schedule::open_seconds(util::UnixTime from, util::UnixTime until) const {
  std::int64_t total = 0;
  for (const Interval& iv : open_intervals(from, until)) total += iv.end - iv.start;
  return total;
}

std::optional<util::UnixTime> Schedule::finish_time(std::size_t n, double per_minute, util::UnixTime from,
                                                    int horizon_days) const {
  if (n == 0) return from;
  const util::UnixTime limit = from + std::int64_t{std::max(horizon_days, 0)} * kDay;
  double need = offset_of(n, per_minute);  // open seconds that pass before dispatch n
  util::UnixTime cursor = from;
  while (cursor < limit) {
    const auto iv = next_open_until(cursor, limit);
    if (!iv) return std::nullopt;
    const auto len = static_cast<double>(iv->end - iv->start);
    if (need < len) return iv->start + static_cast<util::UnixTime>(std::floor(need));
    need -= len;
    cursor = iv->end;
  }
  return std::nullopt;
}

CapacityCheck check_capacity(const Schedule& s, std::size_t devices, double per_minute, util::UnixTime from,
                             std::optional<util::UnixTime> deadline) {
  CapacityCheck r;
  const std::string rate = format_rate(per_minute);
  const std::string count = format_count(devices) + (devices == 1 ? " device" : " devices");
  if (devices == 0) {
    r.message = "no devices to dispatch";
    return r;
  }
  int horizon = 400;
  if (deadline && *deadline > from)
    horizon = static_cast<int>(std::max<std::int64_t>(horizon, (*deadline - from) / kDay + 1));
  r.last_dispatch = s.finish_time(devices, per_minute, from, horizon);
  const std::string need = r.last_dispatch ? "need until " + util::format_iso8601(*r.last_dispatch)
                                           : "do not finish within " + std::to_string(horizon) + " days";
  if (!deadline) {
    r.fits = r.last_dispatch.has_value();
    r.possible = r.fits ? devices : dispatches_in(s.open_seconds(from, from + horizon * kDay), per_minute, devices);
    r.message =
        r.fits ? "all " + count + " fit: the last dispatch at " + util::format_iso8601(*r.last_dispatch) + " at " + rate
               : "the windows allow " + format_count(r.possible) + " dispatches within " + std::to_string(horizon) +
                     " days at " + rate + "; " + count + " " + need;
    return r;
  }
  const std::int64_t open = *deadline > from ? s.open_seconds(from, *deadline) : 0;
  r.possible = dispatches_in(open, per_minute, devices);
  r.fits = devices <= r.possible && r.last_dispatch.has_value();
  if (r.fits)
    r.message = "all " + count + " fit: the last dispatch at " + util::format_iso8601(*r.last_dispatch) +
                ", before the deadline " + util::format_iso8601(*deadline) + " at " + rate;
  else
    r.message = "the windows allow " + format_count(r.possible) + " dispatches before " +
                util::format_iso8601(*deadline) + " at " + rate + "; " + count + " " + need;
  return r;
}

}  // namespace capf::engine
