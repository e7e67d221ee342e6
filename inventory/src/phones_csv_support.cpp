// Small helpers of the phone CSV import: UTF-8 validation, the duplicate-name index and the
// fast path for Operation Completes By.
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>

#include "phones_csv_rows.hpp"

namespace capf::inventory::detail {

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// A full 128→64-bit mix (splitmix64 finaliser): names differ mostly in their last bytes,
/// which a plain multiply would leave in the high bits the table never looks at.
std::uint64_t mix(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t h = lo * 0x9E3779B97F4A7C15ULL ^ hi;
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

}  // namespace

void NameIndex::reserve(std::size_t names) {
  std::size_t n = 16;
  while (n < names * 2) n *= 2;
  if (n <= capacity_) return;
  static_assert(std::is_trivial_v<Slot>);
  auto memory = util::zeroed_buffer(n * sizeof(Slot));  // all empty
  Slot* const slots = reinterpret_cast<Slot*>(memory.get());
  for (std::size_t k = 0; k < capacity_; ++k) {
    const Slot& s = slots_[k];
    if (s.line == 0) continue;
    for (std::size_t i = mix(s.lo, s.hi) & (n - 1);; i = (i + 1) & (n - 1))
      if (slots[i].line == 0) {
        slots[i] = s;
        break;
      }
  }
  memory_ = std::move(memory);
  slots_ = slots;
  capacity_ = n;
}

void NameIndex::grow() {
  reserve(capacity_);
}

std::size_t NameIndex::insert(std::string_view name, std::size_t line) {
  if ((used_ + 1) * 2 > capacity_) grow();
  char key[16] = {};
  const std::size_t n = std::min<std::size_t>(name.size(), sizeof key);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = name[i];
    key[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::uint64_t lo, hi;
  std::memcpy(&lo, key, 8);
  std::memcpy(&hi, key + 8, 8);
  const std::size_t mask = capacity_ - 1;
  for (std::size_t i = mix(lo, hi) & mask;; i = (i + 1) & mask) {
    auto& s = slots_[i];
    if (s.line == 0) {
      s = Slot{lo, hi, line};
      ++used_;
      return line;
    }
    if (s.lo == lo && s.hi == hi) return s.line;
  }
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII runs are the common case: skip 8 bytes at a time while no high bit is set.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t need;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      cp = c & 0x07;
    } else
      return false;
    if (static_cast<std::size_t>(end - p) <= need) return false;
    for (std::size_t i = 1; i <= need; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += need + 1;
  }
  return true;
}

// util::parse_iso8601 builds an istringstream per format it tries, which dominates a large
// import; only the plain UTC spellings are read here, anything else still goes to it.
std::optional<util::UnixTime> parse_deadline(std::string_view v) {
  const auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > v.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
      out = out * 10 + (v[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  bool fast = digits(0, 4, y) && v.size() >= 10 && v[4] == '-' && digits(5, 2, mo) && v[7] == '-' && digits(8, 2, d);
  std::size_t at = 10;
  if (fast && at < v.size()) {
    const bool t = v[at] == 'T';
    fast =
        (t || v[at] == ' ') && digits(at + 1, 2, h) && at + 3 < v.size() && v[at + 3] == ':' && digits(at + 4, 2, mi);
    at += 6;
    if (fast && at < v.size() && v[at] == ':') {
      fast = digits(at + 1, 2, sec);
      at += 3;
    }
    if (fast && t && at < v.size() && v[at] == 'Z') ++at;
    fast = fast && at == v.size();
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (fast && mo >= 1 && mo <= 12 && d >= 1 && d <= kDays[mo - 1] && (mo != 2 || d <= 28 || leap) && h <= 23 &&
      mi <= 59 && sec <= 59)
    return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + sec;
  return util::parse_iso8601(v);
}

}  // namespace capf::inventory::detail
