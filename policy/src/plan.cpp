// The planning function (see plan.hpp for the rules) and what it reads.
#include "capf/policy/plan.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "capf/admin/admin_service.hpp"
#include "capf/core/service_params.hpp"
#include "capf/util/text.hpp"

namespace capf::policy {

namespace {
constexpr util::UnixTime kDay = 86400;
constexpr int kHorizonDays = 400;

std::int64_t mod(std::int64_t a, std::int64_t n) {
  return ((a % n) + n) % n;
}
}  // namespace

// ---- nights

Result<NightCalendar> NightCalendar::make(const Policy& p) {
  std::vector<engine::Window> windows, blackout_windows;
  std::vector<engine::Interval> blackout_intervals;
  for (const auto& w : p.windows) {
    auto parsed = engine::Window::parse(w);
    if (!parsed) return make_error(Errc::invalid_argument, "window \"" + w + "\": " + parsed.error().message);
    windows.push_back(std::move(*parsed));
  }
  for (const auto& b : p.blackouts) {
    auto parsed = engine::Schedule::parse_blackout(b);
    if (!parsed) return make_error(Errc::invalid_argument, "blackout \"" + b + "\": " + parsed.error().message);
    if (parsed->first) blackout_windows.push_back(std::move(*parsed->first));
    if (parsed->second) blackout_intervals.push_back(*parsed->second);
  }
  auto s = engine::Schedule::make(std::move(windows), std::move(blackout_windows), std::move(blackout_intervals));
  if (!s) return s.error();
  return NightCalendar(std::move(*s), p.created_at);
}

bool NightCalendar::grow() {
  if (exhausted_) return false;
  auto iv = schedule_.next_open(cursor_, kHorizonDays);
  if (!iv) {
    exhausted_ = true;
    return false;
  }
  Night n;
  n.index = static_cast<std::int64_t>(nights_.size());
  n.start = iv->start;
  n.end = std::min(iv->end, iv->start + kDay);  // a schedule open for days is cut into days
  nights_.push_back(n);
  cursor_ = n.end;
  return true;
}

void NightCalendar::extend(util::UnixTime until, std::size_t extra) {
  while (nights_.empty() || nights_.back().start < until)
    if (!grow()) return;
  auto first = std::lower_bound(nights_.begin(), nights_.end(), until,
                                [](const Night& n, util::UnixTime t) { return n.start < t; });
  std::size_t after = static_cast<std::size_t>(nights_.end() - first);
  while (after < extra && grow()) ++after;
}

std::optional<Night> NightCalendar::at_or_after(util::UnixTime t) {
  while (nights_.empty() || nights_.back().end <= t)
    if (!grow()) return std::nullopt;
  auto it =
      std::lower_bound(nights_.begin(), nights_.end(), t, [](const Night& n, util::UnixTime x) { return n.end <= x; });
  return *it;
}

std::optional<Night> NightCalendar::first_starting_at_or_after(util::UnixTime t) {
  while (nights_.empty() || nights_.back().start < t)
    if (!grow()) return std::nullopt;
  auto it =
      std::lower_bound(nights_.begin(), nights_.end(), t, [](const Night& n, util::UnixTime x) { return n.start < x; });
  return *it;
}

std::optional<Night> NightCalendar::night(std::int64_t index) {
  if (index < 0) return std::nullopt;
  while (static_cast<std::int64_t>(nights_.size()) <= index)
    if (!grow()) return std::nullopt;
  return nights_[static_cast<std::size_t>(index)];
}

std::vector<Night> NightCalendar::between(util::UnixTime from, util::UnixTime until) {
  extend(until);
  std::vector<Night> out;
  for (const auto& n : nights_)
    if (n.end > from && n.start < until) out.push_back(n);
  return out;
}

// ---- what the planner reads

Result<CaFacts> load_ca_facts(const store::Store& store, std::string current_subject) {
  CaFacts ca;
  ca.current_subject = std::move(current_subject);
  auto retired = store.get_meta("retired_ca_subjects");
  if (!retired) return retired.error();
  if (retired->has_value()) {
    auto j = nlohmann::json::parse(**retired, nullptr, false);
    if (j.is_array()) {
      for (const auto& s : j)
        if (s.is_string()) ca.retired_subjects.push_back(s.get<std::string>());
    } else {
      for (const auto& line : util::split(**retired, '\n'))
        if (auto s = std::string(util::trim(line)); !s.empty()) ca.retired_subjects.push_back(s);
    }
  }
  auto params = store.get_doc(store::Family::params, "service");
  if (!params) return params.error();
  if (params->has_value())
    if (auto p = decode_params(**params)) ca.issuer = p->issuer;
  return ca;
}

Result<Snapshot> load_snapshot(const store::Store& store, const inventory::Query& query, util::UnixTime now,
                               CaFacts ca) {
  Snapshot snap;
  snap.ca = std::move(ca);
  std::unordered_set<std::string> revoked;
  auto context = admin::query_context(store, query, now, revoked);
  if (!context) return context.error();
  auto r = store.for_each_device([&](const Device& d) {
    if (query.matches(d, *context)) snap.devices.push_back(DeviceFacts{d, std::nullopt});
    return true;
  });
  if (!r) return r.error();
  for (auto& d : snap.devices) {
    if (d.device.lsc_serial.empty()) continue;
    auto c = store.get_certificate(d.device.lsc_serial);
    if (!c) return c.error();
    d.lsc = std::move(*c);
  }
  return snap;
}

std::string_view to_string(Reason r) {
  switch (r) {
    case Reason::install:
      return "install";
    case Reason::renew:
      return "renew";
    case Reason::expired:
      return "expired";
    case Reason::retired_ca:
      return "retired-ca";
    case Reason::revoked:
      return "revoked";
  }
  return "renew";
}

namespace {
bool retired_issuer(const std::string& issuer, const CaFacts& ca) {
  if (issuer.empty()) return false;
  if (std::find(ca.retired_subjects.begin(), ca.retired_subjects.end(), issuer) != ca.retired_subjects.end())
    return true;
  return ca.issuer == IssuerKind::capf && !ca.current_subject.empty() && issuer != ca.current_subject;
}
}  // namespace

std::optional<Due> due_of(const Policy& p, const DeviceFacts& d, const CaFacts& ca, util::UnixTime now) {
  const Device& dev = d.device;
  if (dev.lsc_serial.empty()) {
    if (!p.install_missing) return std::nullopt;
    return Due{Reason::install, now, true};
  }
  if (p.reenroll_revoked && d.lsc && d.lsc->state == CertificateState::revoked) return Due{Reason::revoked, now, true};
  const std::string& issuer = !dev.lsc_issuer.empty() ? dev.lsc_issuer : d.lsc ? d.lsc->issuer : dev.lsc_issuer;
  if (p.reenroll_retired_ca && retired_issuer(issuer, ca)) return Due{Reason::retired_ca, now, true};
  const util::UnixTime not_after = dev.lsc_not_after > 0 ? dev.lsc_not_after : d.lsc ? d.lsc->not_after : 0;
  if (not_after == 0) return std::nullopt;  // an LSC whose expiry nobody knows cannot be planned
  if (not_after <= now) return Due{Reason::expired, now, true};
  if (p.renew_days_before > 0) return Due{Reason::renew, not_after - p.renew_days_before * kDay, false};
  // Without capf's record of the LSC, assume the longest Duration of Certificate Validity.
  const util::UnixTime issued = d.lsc && d.lsc->issued_at > 0 && d.lsc->issued_at < not_after
                                    ? d.lsc->issued_at
                                    : not_after - kDefaultValidityDays * kDay;
  const auto at = issued + static_cast<util::UnixTime>(p.renew_at_fraction * static_cast<double>(not_after - issued));
  return Due{Reason::renew, at, false};
}

std::uint64_t jitter_hash(const std::string& policy, const std::string& device) {
  std::uint64_t h = 1469598103934665603ull;
  auto feed = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : policy) feed(c);
  feed(0);
  for (unsigned char c : device) feed(c);
  return h;
}

Plan plan(const Policy& p, const PolicyState& state, NightCalendar& calendar, const Snapshot& snapshot,
          util::UnixTime now, util::UnixTime until) {
  Plan out;
  out.matched = snapshot.devices.size();
  const std::int64_t n = std::max(1, p.jitter_nights);
  const auto first = calendar.at_or_after(now);
  if (!first) {
    out.note = "no window opens within " + std::to_string(kHorizonDays) + " days";
    return out;
  }
  const std::int64_t k_now = first->index;
  for (const auto& night : calendar.between(now, until)) {
    NightPlan np;
    np.night = night;
    if (p.rate_per_minute > 0) np.capacity = p.rate_per_minute * static_cast<double>(night.end - night.start) / 60.0;
    out.nights.push_back(np);
  }
  const std::int64_t k_last = out.nights.empty() ? k_now - 1 : out.nights.back().night.index;
  // A device due after the start of night k_last + n + 1 can only land after k_last.
  calendar.extend(until, static_cast<std::size_t>(n) + 2);
  const auto bound = calendar.night(k_last + n + 1);
  // The first night k >= k0 with k ≡ r (mod n).
  auto first_from = [n](std::int64_t k0, std::int64_t r) { return k0 + mod(r - k0, n); };

  for (const auto& d : snapshot.devices) {
    if (!d.device.job_id.empty()) {
      ++out.in_job;
      continue;
    }
    const auto due = due_of(p, d, snapshot.ca, now);
    if (!due) continue;
    if (!due->now && bound && due->at > bound->start) continue;
    const auto r = static_cast<std::int64_t>(jitter_hash(p.name, d.device.name) % static_cast<std::uint64_t>(n));
    std::int64_t after = k_now;
    if (auto a = state.acted.find(d.device.name); a != state.acted.end() && a->second.serial == d.device.lsc_serial) {
      // Acted on with the LSC it still has: not again before its next night after that one.
      if (auto an = calendar.first_starting_at_or_after(a->second.night))
        after = std::max(after, an->start == a->second.night ? an->index + 1 : an->index);
    }
    std::int64_t k;
    if (due->now) {
      k = first_from(after, r);
    } else {
      const auto nd = calendar.first_starting_at_or_after(due->at);
      if (!nd) continue;  // the schedule stops opening before the due date
      const std::int64_t target = first_from(nd->index - n, r);
      k = target >= after ? target : first_from(after, r);
    }
    if (k > k_last) continue;
    auto& np = out.nights[static_cast<std::size_t>(k - out.nights.front().night.index)];
    ++np.devices;
    ++np.by_reason[due->reason];
    out.devices.push_back(PlannedDevice{d.device.name, due->reason, k, due->at});
  }
  for (auto& np : out.nights) np.over = np.capacity >= 0 && static_cast<double>(np.devices) > np.capacity;
  return out;
}

}  // namespace capf::policy
