// Cron expressions, durations and maintenance windows: parsing and local-time occurrences.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#include <date/date.h>
#include <date/tz.h>

#include "capf/engine/schedule.hpp"
#include "capf/util/text.hpp"

namespace capf::engine {
namespace {

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/// One of the five cron fields: its name for messages, its range and its optional names.
struct FieldDef {
  std::string_view name;
  int lo;
  int hi;
  const std::string_view* names;  ///< names[i] stands for names_base + i
  int names_count;
  int names_base;
};

constexpr FieldDef kFields[5] = {
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day of month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames.data(), 12, 1},
    {"day of week", 0, 7, kDayNames.data(), 7, 0},  // 7 is Sunday too; folded onto 0
};

Error field_error(const FieldDef& f, std::string_view item, std::string_view why) {
  return make_error(Errc::invalid_argument, "cron " + std::string(f.name) + " field '" + std::string(item) +
                                                "': " + std::string(why));
}

/// A number or a name of the field, range-checked.
Result<int> parse_value(const FieldDef& f, std::string_view text, std::string_view item) {
  int v = -1;
  if (auto n = util::parse_int(text)) {
    if (*n < f.lo || *n > f.hi)
      return field_error(f, item, std::to_string(*n) + " is out of range " + std::to_string(f.lo) + "-" +
                                      std::to_string(f.hi));
    v = static_cast<int>(*n);
  } else {
    for (int i = 0; i < f.names_count; ++i)
      if (util::iequals(text, f.names[i])) v = f.names_base + i;
    if (v < 0) return field_error(f, item, "'" + std::string(text) + "' is not a number or a name");
  }
  return v;
}

/// Parses one field into a bit mask over f.lo..f.hi; `restricted` is false when it starts with '*'.
Result<std::uint64_t> parse_field(const FieldDef& f, std::string_view text, bool& restricted) {
  restricted = text.empty() || text.front() != '*';
  std::uint64_t mask = 0;
  for (const std::string& item_s : util::split(text, ',')) {
    std::string_view item = item_s;
    if (item.empty()) return field_error(f, text, "empty list item");
    std::string_view base = item;
    int step = 1;
    bool has_step = false;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      base = item.substr(0, slash);
      auto s = util::parse_int(item.substr(slash + 1));
      if (!s || *s < 1 || *s > f.hi) return field_error(f, item, "the step must be a number 1-" + std::to_string(f.hi));
      step = static_cast<int>(*s);
      has_step = true;
    }
    int lo = 0;
    int hi = 0;
    if (base == "*") {
      lo = f.lo;
      hi = f.name == "day of week" ? 6 : f.hi;
    } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
      auto a = parse_value(f, base.substr(0, dash), item);
      if (!a) return a.error();
      auto b = parse_value(f, base.substr(dash + 1), item);
      if (!b) return b.error();
      if (*a > *b) return field_error(f, item, "the range runs backwards");
      lo = *a;
      hi = *b;
    } else {
      auto a = parse_value(f, base, item);
      if (!a) return a.error();
      lo = *a;
      hi = has_step ? f.hi : *a;  // "5/10" means 5, 15, 25, ... to the end of the range
    }
    for (int v = lo; v <= hi; v += step) mask |= std::uint64_t{1} << v;
  }
  return mask;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

/// The seconds of a std::chrono time point.
template <class TP>
util::UnixTime unix_of(TP tp) {
  return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
}

}  // namespace

Result<CronSpec> CronSpec::parse(std::string_view text) {
  auto fields = split_ws(text);
  if (fields.size() != 5)
    return make_error(Errc::invalid_argument, "cron '" + std::string(util::trim(text)) + "' needs 5 fields (minute hour "
                                              "day-of-month month day-of-week), got " + std::to_string(fields.size()));
  CronSpec c;
  std::uint64_t masks[5] = {};
  bool restricted[5] = {};
  for (int i = 0; i < 5; ++i) {
    auto m = parse_field(kFields[i], fields[i], restricted[i]);
    if (!m) return m.error();
    masks[i] = *m;
  }
  if (masks[4] & (std::uint64_t{1} << 7)) masks[4] = (masks[4] | 1) & 0x7f;  // 7 = Sunday = 0
  c.minutes_ = std::bitset<60>(masks[0]);
  c.hours_ = std::bitset<24>(masks[1]);
  c.dom_ = std::bitset<32>(masks[2]);
  c.months_ = std::bitset<13>(masks[3]);
  c.dow_ = std::bitset<7>(masks[4]);
  c.dom_restricted_ = restricted[2];
  c.dow_restricted_ = restricted[4];
  return c;
}

bool CronSpec::matches_day(int year, unsigned month, unsigned day) const {
  if (month < 1 || month > 12 || day < 1 || day > 31 || !months_[month]) return false;
  const date::year_month_day ymd{date::year{year}, date::month{month}, date::day{day}};
  if (!ymd.ok()) return false;
  const bool dom_ok = dom_[day];
  const bool dow_ok = dow_[date::weekday{date::sys_days{ymd}}.c_encoding()];
  // Vixie cron: both day fields restricted -> either may match; otherwise both must.
  if (dom_restricted_ && dow_restricted_) return dom_ok || dow_ok;
  return dom_ok && dow_ok;
}

bool CronSpec::matches(int year, unsigned month, unsigned day, unsigned hour, unsigned minute) const {
  return hour < 24 && minute < 60 && hours_[hour] && minutes_[minute] && matches_day(year, month, day);
}

Result<std::int64_t> parse_duration(std::string_view text) {
  const std::string_view t = util::trim(text);
  auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_argument, "duration '" + std::string(t) + "' " + std::string(why) +
                                                  " (write e.g. 4h, 90m, 1h30m, 2d)");
  };
  if (t.empty()) return bad("is empty");
  std::int64_t total = 0;
  int last_rank = 3;  // units must come in the order d, h, m, each at most once
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t j = i;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
    if (j == i || j == t.size() || j - i > 6) return bad("is not a sequence of <number><unit>");
    auto n = util::parse_int(t.substr(i, j - i));
    const char u = static_cast<char>(std::tolower(static_cast<unsigned char>(t[j])));
    const int rank = u == 'd' ? 2 : u == 'h' ? 1 : u == 'm' ? 0 : -1;
    if (rank < 0) return bad("has an unknown unit '" + std::string(1, t[j]) + "'");
    if (rank >= last_rank) return bad("repeats a unit or has them out of order");
    last_rank = rank;
    total += *n * (rank == 2 ? 86400 : rank == 1 ? 3600 : 60);
    i = j + 1;
  }
  if (total < 60 || total > 31 * 86400) return bad("must be between 1m and 31d");
  return total;
}

Result<Window> Window::parse(std::string_view text) {
  const std::string_view t = util::trim(text);
  auto tokens = split_ws(t);
  if (tokens.size() != 7)
    return make_error(Errc::invalid_argument, "window '" + std::string(t) +
                                                  "' needs 'MIN HOUR DOM MON DOW DURATION TZ', e.g. "
                                                  "'0 1 * * 6 4h Europe/Berlin'");
  const std::string cron_text = std::string(tokens[0]) + " " + std::string(tokens[1]) + " " +
                                std::string(tokens[2]) + " " + std::string(tokens[3]) + " " +
                                std::string(tokens[4]);
  auto cron = CronSpec::parse(cron_text);
  if (!cron) return make_error(Errc::invalid_argument, "window '" + std::string(t) + "': " + cron.error().message);
  auto dur = parse_duration(tokens[5]);
  if (!dur) return make_error(Errc::invalid_argument, "window '" + std::string(t) + "': " + dur.error().message);
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(tokens[6]);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "window '" + std::string(t) + "': unknown time zone '" +
                                                  std::string(tokens[6]) + "' (use an IANA name like Europe/Berlin)");
  }
  Window w;
  w.text = std::string(t);
  w.cron = std::move(*cron);
  w.duration_s = *dur;
  w.zone = zone;
  return w;
}

std::vector<Interval> Window::occurrences(util::UnixTime from, util::UnixTime until) const {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  std::vector<Interval> out;
  if (zone == nullptr || until <= from) return out;
  auto local_day = [&](util::UnixTime t) {
    const date::zoned_seconds z(zone, date::sys_seconds{seconds{t}});
    return date::floor<date::days>(z.get_local_time());
  };
  // Any opening that overlaps [from, until) starts within [from - duration, until); one day of
  // slack each side covers the largest UTC offsets.
  const auto first = local_day(from - duration_s) - date::days{1};
  const auto last = local_day(until) + date::days{1};
  for (auto d = first; d <= last; d += date::days{1}) {
    const date::year_month_day ymd{d};
    if (!cron.matches_day(int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()))) continue;
    for (unsigned h = 0; h < 24; ++h) {
      if (!cron.hours()[h]) continue;
      for (unsigned m = 0; m < 60; ++m) {
        if (!cron.minutes()[m]) continue;
        const date::local_seconds nominal = d + hours{h} + minutes{m};
        // earliest: an ambiguous time opens at its first occurrence; a time in a gap maps to
        // the transition instant, i.e. the gap's end.
        const date::zoned_seconds z(zone, nominal, date::choose::earliest);
        const util::UnixTime s = unix_of(z.get_sys_time());
        if (s + duration_s > from && s < until) out.push_back({s, s + duration_s});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace capf::engine
