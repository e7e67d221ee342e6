// Policies and their last-run state: validation, JSON records, loading.
#include "capf/policy/policy.hpp"

#include <nlohmann/json.hpp>

#include "capf/engine/schedule.hpp"
#include "capf/inventory/query.hpp"
#include "capf/policy/template.hpp"
#include "policy_json.hpp"

namespace capf::policy {

Result<void> validate(const Policy& p) {
  if (!valid_name(p.name))
    return make_error(Errc::invalid_argument, "policy name \"" + p.name + "\" must be 1–64 of A-Z a-z 0-9 . _ -");
  if (auto q = inventory::Query::parse(p.where); !q)
    return make_error(Errc::invalid_argument, "--where: " + q.error().message);
  if (p.template_name.empty()) return make_error(Errc::invalid_argument, "a policy needs --template NAME");
  for (const auto& w : p.windows)
    if (auto parsed = engine::Window::parse(w); !parsed)
      return make_error(Errc::invalid_argument, "--window \"" + w + "\": " + parsed.error().message);
  for (const auto& b : p.blackouts)
    if (auto parsed = engine::Schedule::parse_blackout(b); !parsed)
      return make_error(Errc::invalid_argument, "--blackout \"" + b + "\": " + parsed.error().message);
  if (p.rate_per_minute < 0) return make_error(Errc::invalid_argument, "--rate must be 0 (no cap) or more");
  if (p.max_in_flight < 0) return make_error(Errc::invalid_argument, "--max-in-flight must be 0 (no cap) or more");
  if (p.renew_days_before < 0) return make_error(Errc::invalid_argument, "--renew-days-before must be 1 or more");
  if (p.renew_days_before == 0 && !(p.renew_at_fraction > 0 && p.renew_at_fraction < 1))
    return make_error(Errc::invalid_argument, "--renew-at-fraction must be between 0 and 1 (e.g. 0.667)");
  if (p.jitter_nights < 1 || p.jitter_nights > 366)
    return make_error(Errc::invalid_argument, "--jitter-nights must be 1–366");
  return ok();
}

std::string policy_key(const std::string& name) {
  return "policy/" + name;
}
std::string state_key(const std::string& name) {
  return "state/" + name;
}

namespace detail {

nlohmann::json common_fields(const Policy& p) {
  return nlohmann::json{{"name", p.name},
                        {"where", p.where},
                        {"template", p.template_name},
                        {"windows", p.windows},
                        {"blackouts", p.blackouts},
                        {"rate_per_minute", p.rate_per_minute},
                        {"max_in_flight", p.max_in_flight},
                        {"install_missing", p.install_missing},
                        {"reenroll_retired_ca", p.reenroll_retired_ca},
                        {"reenroll_revoked", p.reenroll_revoked},
                        {"jitter_nights", p.jitter_nights},
                        {"created_by", p.created_by}};
}

void read_common_fields(const nlohmann::json& j, Policy& p) {
  p.windows = j.value("windows", std::vector<std::string>{});
  p.blackouts = j.value("blackouts", std::vector<std::string>{});
  p.max_in_flight = j.value("max_in_flight", 0);
  p.renew_at_fraction = j.value("renew_at_fraction", 2.0 / 3.0);
  p.renew_days_before = j.value("renew_days_before", 0);
  p.install_missing = j.value("install_missing", false);
  p.reenroll_retired_ca = j.value("reenroll_retired_ca", false);
  p.reenroll_revoked = j.value("reenroll_revoked", false);
  p.jitter_nights = j.value("jitter_nights", 7);
}

}  // namespace detail

std::string encode_policy(const Policy& p) {
  // The stored record keeps both renewal fields and the time as a number.
  auto j = detail::common_fields(p);
  j["renew_at_fraction"] = p.renew_at_fraction;
  j["renew_days_before"] = p.renew_days_before;
  j["paused"] = p.paused;
  j["created_at"] = p.created_at;
  return j.dump();
}

Result<Policy> decode_policy(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "policy record is not a JSON object");
  Policy p;
  try {
    p.name = j.at("name").get<std::string>();
    p.where = j.value("where", "");
    p.template_name = j.at("template").get<std::string>();
    p.rate_per_minute = j.value("rate_per_minute", 0.0);
    detail::read_common_fields(j, p);
    p.paused = j.value("paused", false);
    p.created_at = j.at("created_at").get<util::UnixTime>();
    p.created_by = j.value("created_by", "");
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, std::string("policy record: ") + e.what());
  }
  return p;
}

std::string encode_state(const PolicyState& s) {
  nlohmann::json acted = nlohmann::json::object();
  for (const auto& [device, a] : s.acted) acted[device] = {{"night", a.night}, {"serial", a.serial}, {"job", a.job}};
  return nlohmann::json{{"last_run", s.last_run},
                        {"last_night", s.last_night},
                        {"jobs_created", s.jobs_created},
                        {"devices_submitted", s.devices_submitted},
                        {"recent_jobs", s.recent_jobs},
                        {"note", s.note},
                        {"acted", acted}}
      .dump();
}

Result<PolicyState> decode_state(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "policy state is not a JSON object");
  PolicyState s;
  try {
    s.last_run = j.value("last_run", util::UnixTime{0});
    s.last_night = j.value("last_night", util::UnixTime{0});
    s.jobs_created = j.value("jobs_created", std::size_t{0});
    s.devices_submitted = j.value("devices_submitted", std::size_t{0});
    s.recent_jobs = j.value("recent_jobs", std::vector<std::string>{});
    s.note = j.value("note", "");
    if (j.contains("acted"))
      for (const auto& [device, a] : j["acted"].items())
        s.acted[device] = Acted{a.at("night").get<util::UnixTime>(), a.value("serial", ""), a.value("job", "")};
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::io, std::string("policy state: ") + e.what());
  }
  return s;
}

Result<std::vector<Policy>> load_policies(const store::Store& store) {
  std::vector<Policy> out;
  std::optional<Error> bad;
  auto r = store.for_each_doc(store::Family::policies, "policy/", [&](const std::string& key, const std::string& json) {
    auto p = decode_policy(json);
    if (!p) {
      bad = make_error(Errc::io, key + ": " + p.error().message);
      return false;
    }
    out.push_back(std::move(*p));
    return true;
  });
  if (!r) return r.error();
  if (bad) return *bad;
  return out;
}

Result<std::optional<Policy>> load_policy(const store::Store& store, const std::string& name) {
  auto doc = store.get_doc(store::Family::policies, policy_key(name));
  if (!doc) return doc.error();
  if (!doc->has_value()) return std::optional<Policy>{};
  auto p = decode_policy(**doc);
  if (!p) return make_error(Errc::io, "policy " + name + ": " + p.error().message);
  return std::optional<Policy>{std::move(*p)};
}

Result<PolicyState> load_state(const store::Store& store, const std::string& name) {
  auto doc = store.get_doc(store::Family::policies, state_key(name));
  if (!doc) return doc.error();
  if (!doc->has_value()) return PolicyState{};
  auto s = decode_state(**doc);
  if (!s) return make_error(Errc::io, "policy " + name + ": " + s.error().message);
  return s;
}

}  // namespace capf::policy
