#include "capf/util/time.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <sstream>

#include <date/date.h>

namespace capf::util {

UnixTime SystemClock::now() const { return util::now(); }

std::int64_t SystemClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

UnixTime now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_iso8601(UnixTime t) {
  date::sys_seconds tp{std::chrono::seconds{t}};
  return date::format("%Y-%m-%dT%H:%M:%SZ", tp);
}

std::optional<UnixTime> parse_iso8601(std::string_view text) {
  const std::string s(text);
  // Most specific formats first; each must consume the whole string.
  static const char* const kFormats[] = {
      "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M%Ez",
      "%Y-%m-%d %H:%M:%S",  "%Y-%m-%dT%H:%M:%S",    "%Y-%m-%d %H:%M",  "%Y-%m-%dT%H:%M",
  };
  for (const char* fmt : kFormats) {
    std::istringstream in(s);
    date::sys_seconds tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return tp.time_since_epoch().count();
  }
  std::istringstream in(s);
  date::sys_days day;
  in >> date::parse("%Y-%m-%d", day);
  if (!in.fail() && in.peek() == std::char_traits<char>::eof())
    return date::sys_seconds(day).time_since_epoch().count();
  return std::nullopt;
}

std::optional<std::int64_t> parse_retry_after(std::string_view value, UnixTime now) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!value.empty() && space(value.front())) value.remove_prefix(1);
  while (!value.empty() && space(value.back())) value.remove_suffix(1);
  if (value.empty() || value.size() > 64) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    // Accumulated against the bound: any number of digits is read without overflow.
    std::int64_t v = 0;
    for (char c : value) {
      v = v * 10 + (c - '0');
      if (v > kMaxRetryAfterS) return kMaxRetryAfterS;
    }
    return v;
  }
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::int64_t at = ::timegm(&tm);
  if (at <= now) return 0;
  // Both are real times here, so the difference cannot overflow; only its size is bounded.
  return std::min<std::int64_t>(at - now, kMaxRetryAfterS);
}

}  // namespace capf::util
