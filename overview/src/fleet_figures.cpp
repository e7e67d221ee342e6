#include "capf/overview/fleet_figures.hpp"

#include <algorithm>
#include <chrono>

namespace capf::overview {

namespace {

constexpr util::UnixTime kDay = 86400;
constexpr int kWeeks = 26;
constexpr int kYears = 5;

/// `t` moved by `months` calendar months, keeping the time of day; a day of the month the
/// target month lacks becomes its last day.
util::UnixTime add_months(util::UnixTime t, int months) {
  using namespace std::chrono;
  const sys_seconds tp{seconds{t}};
  const auto day = floor<days>(tp);
  const auto time_of_day = tp - day;
  const year_month_day ymd{day};
  const year_month target = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  const auto last = year_month_day_last{target.year(), month_day_last{target.month()}}.day();
  const year_month_day moved{target.year(), target.month(), std::min(ymd.day(), last)};
  return duration_cast<seconds>((sys_days{moved} + time_of_day).time_since_epoch()).count();
}

std::string iso(util::UnixTime t) {
  return util::format_iso8601(t);
}

}  // namespace

std::string_view to_string(Status s) {
  switch (s) {
    case Status::none:
      return "none";
    case Status::revoked:
      return "revoked";
    case Status::expired:
      return "expired";
    case Status::expiring:
      return "expiring";
    case Status::valid:
      return "valid";
  }
  return "none";
}

std::string_view to_string(Issuer i) {
  switch (i) {
    case Issuer::capf_ca:
      return "capf-ca";
    case Issuer::retired_capf_ca:
      return "retired-capf-ca";
    case Issuer::online_ca:
      return "online-ca";
    case Issuer::offline_ca:
      return "offline-ca";
    case Issuer::other:
      return "other";
  }
  return "other";
}

std::string_view label(Issuer i) {
  switch (i) {
    case Issuer::capf_ca:
      return "CAPF CA";
    case Issuer::retired_capf_ca:
      return "retired CAPF CA";
    case Issuer::online_ca:
      return "Online CA";
    case Issuer::offline_ca:
      return "Offline CA";
    case Issuer::other:
      return "other issuer";
  }
  return "other issuer";
}

std::vector<Bucket> expiry_buckets(util::UnixTime now) {
  std::vector<Bucket> out;
  for (int w = 0; w < kWeeks; ++w) out.push_back({now + w * 7 * kDay, now + (w + 1) * 7 * kDay, true, 0});
  const util::UnixTime start = out.back().to;
  const util::UnixTime end = add_months(now, 12 * kYears);
  for (int m = 0;; ++m) {
    const util::UnixTime from = add_months(start, m);
    if (from >= end) break;
    out.push_back({from, std::min(add_months(start, m + 1), end), false, 0});
  }
  return out;
}

Status status_of(const Device& d, const FleetFacts& f) {
  if (d.lsc_serial.empty()) return Status::none;
  if (f.revoked.count(d.lsc_serial) != 0) return Status::revoked;
  if (d.lsc_not_after <= f.now) return Status::expired;
  if (d.lsc_not_after < f.notice_at()) return Status::expiring;
  return Status::valid;
}

Issuer issuer_of(const std::string& dn, const FleetFacts& f) {
  if (!f.ca_subject.empty() && dn == f.ca_subject) return Issuer::capf_ca;
  if (f.retired_subjects.count(dn) != 0) return Issuer::retired_capf_ca;
  if (auto it = f.external.find(dn); it != f.external.end())
    return it->second == IssuerKind::online_ca ? Issuer::online_ca : Issuer::offline_ca;
  return Issuer::other;
}

FleetCounter::FleetCounter(const FleetFacts& facts) : facts_(facts) {
  summary_.expiry = expiry_buckets(facts.now);
  for (const auto& b : summary_.expiry) ends_.push_back(b.to);
}

void FleetCounter::add(const Device& d) {
  ++summary_.devices;
  ++summary_.by_status[static_cast<std::size_t>(status_of(d, facts_))];
  if (d.lsc_serial.empty()) return;
  auto& tally = by_dn_[d.lsc_issuer];
  ++tally.count;
  if (tally.samples.size() < 8) tally.samples.emplace_back(d.name, d.lsc_serial);
  if (d.lsc_not_after <= facts_.now) {
    ++summary_.expired;
    return;
  }
  const auto it = std::upper_bound(ends_.begin(), ends_.end(), d.lsc_not_after);
  if (it == ends_.end())
    ++summary_.later;
  else
    ++summary_.expiry[static_cast<std::size_t>(it - ends_.begin())].count;
}

std::map<std::string, std::vector<std::pair<std::string, std::string>>> FleetCounter::samples() const {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  for (const auto& [dn, tally] : by_dn_) {
    const Issuer i = issuer_of(dn, facts_);
    if (i != Issuer::capf_ca && i != Issuer::retired_capf_ca) out[dn] = tally.samples;
  }
  return out;
}

FleetSummary FleetCounter::finish(const FleetFacts& facts) const {
  FleetSummary s = summary_;
  for (const auto& [dn, tally] : by_dn_) {
    const auto i = static_cast<std::size_t>(issuer_of(dn, facts));
    s.by_issuer[i] += tally.count;
    s.issuer_subjects[i].insert(dn);
  }
  return s;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string status_query(Status s, const FleetFacts& f) {
  switch (s) {
    case Status::none:
      return "lsc_status = none";
    case Status::revoked:
      return "lsc_status = revoked";
    case Status::expired:
      return "lsc_status = expired";
    case Status::expiring:
      return "lsc_status = valid AND lsc_expires < " + iso(f.notice_at());
    case Status::valid:
      return "lsc_status = valid AND lsc_expires >= " + iso(f.notice_at());
  }
  return "";
}

std::string issuer_query(const std::set<std::string>& subjects) {
  if (subjects.empty()) return "";
  std::string list;
  for (const auto& s : subjects) list += (list.empty() ? "" : ", ") + quoted(s);
  return "lsc_issuer in (" + list + ")";
}

std::string bucket_query(const Bucket& b, util::UnixTime now) {
  // The first bucket leaves out an LSC expiring at `now` itself: it counts as expired.
  return (b.from <= now ? "lsc_expires > " : "lsc_expires >= ") + iso(b.from) + " AND lsc_expires < " + iso(b.to);
}

}  // namespace capf::overview
