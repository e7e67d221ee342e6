// Operation Completes By: Unified CM's "YYYY:MM:DD:HH" in the cluster's time zone, or ISO 8601.
#include "capf/inventory/completes_by.hpp"

#include <date/tz.h>

#include <chrono>
#include <exception>

#include "capf/util/text.hpp"

namespace capf::inventory {

const char* const kCompletesByForms =
    "YYYY:MM:DD:HH (Unified CM's bulk form, that hour in the time-zone service parameter's zone), YYYY-MM-DD, "
    "YYYY-MM-DD HH:MM[:SS] or ISO 8601 with Z or an offset (UTC unless it has one)";

Result<const date::time_zone*> find_time_zone(std::string_view name) {
  const std::string n(util::trim(name));
  try {
    return date::locate_zone(n.empty() ? "UTC" : n);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument,
                      "unknown time zone \"" + n + "\" (an IANA name such as UTC, Europe/Berlin or America/New_York)");
  }
}

std::optional<util::UnixTime> parse_ucm_completes_by(std::string_view v, const date::time_zone& zone) {
  v = util::trim(v);
  if (v.size() != 13 || v[4] != ':' || v[7] != ':' || v[10] != ':') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t n) -> int {
    int out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      out = out * 10 + (v[i] - '0');
    }
    return out;
  };
  const int y = number(0, 4), m = number(5, 2), d = number(8, 2), h = number(11, 2);
  if (y < 0 || m < 1 || d < 1 || h < 0 || h > 23) return std::nullopt;
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(m)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const auto local = date::local_days{ymd} + std::chrono::hours{h};
  // choose::earliest: a repeated hour is its first occurrence; an hour in a gap maps to the
  // transition itself.
  const auto sys = zone.to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
}

Result<util::UnixTime> parse_completes_by(std::string_view text, std::string_view time_zone) {
  const auto v = util::trim(text);
  if (v.size() == 13 && v[4] == ':') {
    auto zone = find_time_zone(time_zone);
    if (!zone) return zone.error();
    if (auto t = parse_ucm_completes_by(v, **zone)) return *t;
  } else if (auto t = util::parse_iso8601(v)) {
    return *t;
  }
  return make_error(Errc::invalid_argument, "Operation Completes By \"" + std::string(v) +
                                                "\" is not a date/time (use " + kCompletesByForms + ")");
}

}  // namespace capf::inventory
