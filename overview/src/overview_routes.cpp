#include "capf/overview/overview_routes.hpp"

#include <algorithm>
#include <map>

#include "capf/ca_offline/offline.hpp"
#include "capf/config/params.hpp"
#include "capf/core/csr.hpp"
#include "capf/crypto/ca_lifecycle.hpp"
#include "capf/overview/fleet_figures.hpp"
#include "capf/policy/plan.hpp"
#include "capf/policy/policy_routes.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/trust/trust.hpp"
#include "capf/util/files.hpp"

namespace capf::overview {

namespace {

std::string iso(util::UnixTime t) {
  return util::format_iso8601(t);
}

/// A certificate with an expiry date the overview lists.
struct Expiring {
  std::string what;  ///< "CAPF CA", "retired CAPF CA", "CAPF-trust", "CallManager-trust"
  std::string subject;
  std::string id;  ///< trust entry id or CA serial
  util::UnixTime not_after = 0;
};

/// The CAPF CA (current and retired) as the figures and the expiry list need it.
struct CaView {
  std::string subject;
  std::vector<Expiring> expiring;
  std::set<std::string> retired_subjects;
};

Result<CaView> load_cas(const store::Store& store, const std::string& ca_dir) {
  CaView out;
  if (auto pem = util::read_file(ca_dir + "/capf-ca.pem")) {
    auto cert = crypto::Certificate::from_pem(*pem);
    if (!cert) return make_error(Errc::io, ca_dir + "/capf-ca.pem: " + cert.error().message);
    out.subject = cert->subject();
    out.expiring.push_back({"CAPF CA", out.subject, cert->serial_hex(), cert->not_after()});
  }
  auto retired = crypto::retired_cas(ca_dir);
  if (!retired) return retired.error();
  for (const auto& r : *retired) {
    out.retired_subjects.insert(r.certificate.subject());
    out.expiring.push_back(
        {"retired CAPF CA", r.certificate.subject(), r.certificate.serial_hex(), r.certificate.not_after()});
  }
  auto facts = policy::load_ca_facts(store, out.subject);
  if (!facts) return facts.error();
  out.retired_subjects.insert(facts->retired_subjects.begin(), facts->retired_subjects.end());
  return out;
}

/// Which external CA issued the LSCs of each DN: the CSR ledger's record whose certificate is
/// one of the sampled devices' LSC.
void resolve_external(const store::Store& store,
                      const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& samples,
                      FleetFacts& facts) {
  for (const auto& [dn, devices] : samples) {
    for (const auto& [device, serial] : devices) {
      auto csr = store::CsrLedger(store).latest(device);
      if (!csr || !csr->has_value() || (*csr)->serial != serial || (*csr)->issuer == IssuerKind::capf) continue;
      facts.external[dn] = (*csr)->issuer;
      break;
    }
  }
}

nlohmann::json fleet_json(const FleetSummary& s, const FleetFacts& f, std::size_t stale) {
  nlohmann::json status = nlohmann::json::array(), issuers = nlohmann::json::array(), buckets = nlohmann::json::array();
  for (std::size_t i = 0; i < kStatuses; ++i) {
    const auto st = static_cast<Status>(i);
    status.push_back({{"status", to_string(st)}, {"count", s.by_status[i]}, {"where", status_query(st, f)}});
  }
  for (std::size_t i = 0; i < kIssuers; ++i) {
    const auto is = static_cast<Issuer>(i);
    issuers.push_back({{"issuer", to_string(is)},
                       {"label", label(is)},
                       {"count", s.by_issuer[i]},
                       {"subjects", s.issuer_subjects[i]},
                       {"where", issuer_query(s.issuer_subjects[i])}});
  }
  for (const auto& b : s.expiry)
    buckets.push_back({{"from", iso(b.from)},
                       {"to", iso(b.to)},
                       {"unit", b.weekly ? "week" : "month"},
                       {"count", b.count},
                       {"where", bucket_query(b, f.now)}});
  const util::UnixTime end = s.expiry.empty() ? f.now : s.expiry.back().to;
  return {{"devices", s.devices},
          {"status", status},
          {"issuers", issuers},
          {"stale_lscs", stale},
          {"expiry",
           {{"buckets", buckets},
            {"expired", s.expired},
            {"expired_where", "lsc_expires <= " + iso(f.now)},
            {"later", s.later},
            {"later_where", "lsc_expires >= " + iso(end)}}}};
}

/// Every active policy's forecast, added up per night (by the UTC date a night starts on).
Result<nlohmann::json> nights_json(const store::Store& store, const std::string& ca_subject, util::UnixTime now) {
  auto policies = policy::load_policies(store);
  if (!policies) return policies.error();
  struct Night {
    std::size_t devices = 0;
    double capacity = 0;
    bool unlimited = false, over = false;
    std::string start, end;
    nlohmann::json policies = nlohmann::json::array();
  };
  std::map<std::string, Night> by_date;
  nlohmann::json names = nlohmann::json::array(), notes = nlohmann::json::array();
  for (const auto& p : *policies) {
    if (p.paused) continue;
    auto f = policy::forecast_json(store, p, ca_subject, now, kNightsAhead);
    if (!f) return f.error();
    names.push_back(p.name);
    if (f->contains("note")) notes.push_back(p.name + ": " + (*f)["note"].get<std::string>());
    for (const auto& n : (*f)["nights"]) {
      const std::string start = n["start"];
      Night& night = by_date[start.substr(0, 10)];
      if (night.start.empty() || start < night.start) night.start = start;
      night.end = std::max(night.end, n["end"].get<std::string>());
      night.devices += n["devices"].get<std::size_t>();
      if (n.contains("capacity"))
        night.capacity += n["capacity"].get<double>();
      else
        night.unlimited = true;
      night.over = night.over || n["over"].get<bool>();
      night.policies.push_back({{"policy", p.name},
                                {"devices", n["devices"]},
                                {"capacity", n.value("capacity", nlohmann::json())},
                                {"over", n["over"]},
                                {"start", start},
                                {"end", n["end"]}});
    }
  }
  nlohmann::json nights = nlohmann::json::array();
  for (auto& [date, n] : by_date)
    nights.push_back({{"date", date},
                      {"start", n.start},
                      {"end", n.end},
                      {"devices", n.devices},
                      {"capacity", n.unlimited ? nlohmann::json() : nlohmann::json(n.capacity)},
                      {"over", n.over},
                      {"policies", std::move(n.policies)}});
  return nlohmann::json{{"days", kNightsAhead}, {"policies", names}, {"nights", nights}, {"notes", notes}};
}

nlohmann::json jobs_json(engine::Engine* engine) {
  nlohmann::json out = nlohmann::json::array();
  if (engine == nullptr) return out;
  for (const auto& v : engine->list())
    if (v.job.state != JobState::completed && v.job.state != JobState::cancelled) out.push_back(admin::job_json(v));
  return out;
}

Result<nlohmann::json> expiry_dates_json(const store::Store& store, std::vector<Expiring> all, util::UnixTime now) {
  auto entries = trust::list(store);
  if (!entries) return entries.error();
  for (const auto& e : *entries) all.push_back({std::string(trust::to_string(e.store)), e.subject, e.id, e.not_after});
  std::sort(all.begin(), all.end(), [](const Expiring& a, const Expiring& b) { return a.not_after < b.not_after; });
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : all)
    list.push_back({{"what", e.what},
                    {"subject", e.subject},
                    {"id", e.id},
                    {"not_after", iso(e.not_after)},
                    {"days_left", (e.not_after - now) / 86400},
                    // The first one still valid is the one to act on.
                    {"nearest", false}});
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].not_after > now) {
      list[i]["nearest"] = true;
      break;
    }
  return list;
}

}  // namespace

Result<nlohmann::json> overview_json(const store::Store& store, const std::string& ca_dir, engine::Engine* engine,
                                     util::UnixTime now) {
  auto params = config::load(store);
  if (!params) return params.error();
  auto cas = load_cas(store, ca_dir);
  if (!cas) return cas.error();
  FleetFacts facts;
  if (auto r = admin::read_revoked_serials(store, facts.revoked); !r) return r.error();
  facts.now = now;
  facts.notice_days = params->expiry_notice_days;
  facts.ca_subject = cas->subject;
  facts.retired_subjects = cas->retired_subjects;
  FleetCounter counter(facts);
  auto scan = store.for_each_device([&](const Device& d) {
    counter.add(d);
    return true;
  });
  if (!scan) return scan.error();
  resolve_external(store, counter.samples(), facts);
  auto stale = offline::stale_lscs(store);
  if (!stale) return stale.error();
  auto nights = nights_json(store, cas->subject, now);
  if (!nights) return nights.error();
  auto dates = expiry_dates_json(store, cas->expiring, now);
  if (!dates) return dates.error();
  nlohmann::json out = fleet_json(counter.finish(facts), facts, stale->size());
  out["generated_at"] = iso(now);
  out["notice_days"] = facts.notice_days;
  out["notice_at"] = iso(facts.notice_at());
  out["nights"] = std::move(*nights);
  out["jobs"] = jobs_json(engine);
  out["expiry_dates"] = std::move(*dates);
  return out;
}

AdminRoutes::AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_dir, engine::Engine* engine)
    : store_(store), clock_(clock), ca_dir_(std::move(ca_dir)), engine_(engine) {}

std::optional<admin::Response> AdminRoutes::handle(const admin::Request& r, const std::string& path,
                                                   const std::string&) {
  if (path != "/v1/overview" || r.method != "GET") return std::nullopt;
  auto out = overview_json(store_, ca_dir_, engine_, clock_.now());
  if (!out) return admin::error_response(500, out.error().message);
  return admin::Response{200, std::move(*out)};
}

}  // namespace capf::overview
