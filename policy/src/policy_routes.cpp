// Admin routes of templates and policies.
#include "capf/policy/policy_routes.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "capf/crypto/crypto.hpp"
#include "capf/util/text.hpp"
#include "policy_json.hpp"

namespace capf::policy {

namespace {

using admin::error_response;
using admin::json_text;
using admin::Response;

Result<DeviceTemplate> template_from_json(const nlohmann::json& j) {
  DeviceTemplate t;
  t.name = json_text(j, "name").value_or("");
  t.where = json_text(j, "where").value_or("");
  if (auto v = json_text(j, "priority")) {
    auto n = util::parse_int(*v);
    if (!n) return make_error(Errc::invalid_argument, "--priority must be a whole number, got " + *v);
    t.priority = static_cast<int>(*n);
  }
  if (auto v = json_text(j, "operation")) {
    t.operation = parse_operation(*v);
    if (!t.operation)
      return make_error(Errc::invalid_argument,
                        "unknown Certificate Operation \"" + *v + "\" (install, delete, troubleshoot, none)");
  }
  if (auto v = json_text(j, "auth_mode")) {
    t.auth_mode = parse_auth_mode(*v);
    if (!t.auth_mode)
      return make_error(Errc::invalid_argument, "unknown Authentication Mode \"" + *v + "\" (string, null, lsc, mic)");
  }
  if (auto v = json_text(j, "string_policy")) {
    t.string_policy = parse_string_policy(*v);
    if (!t.string_policy)
      return make_error(Errc::invalid_argument, "unknown string policy \"" + *v + "\" (keep, unique, shared, csv)");
  }
  if (auto v = json_text(j, "key_size")) {
    auto n = util::parse_int(*v);
    if (!n) return make_error(Errc::invalid_argument, "--key-size must be 1024, 2048, 3072 or 4096, got " + *v);
    t.rsa_key_bits = static_cast<int>(*n);
  }
  if (auto v = json_text(j, "key_order")) {
    t.key_order = parse_key_order(*v);
    if (!t.key_order)
      return make_error(Errc::invalid_argument, "unknown Key Order \"" + *v + "\" (rsa, ec, ec-rsa, rsa-ec)");
  }
  if (auto v = json_text(j, "ec_key_size")) {
    auto n = util::parse_int(*v);
    if (!n) return make_error(Errc::invalid_argument, "--ec-key-size must be 256, 384 or 521, got " + *v);
    t.ec_key_bits = static_cast<int>(*n);
  }
  if (auto v = json_text(j, "issuer")) {
    t.issuer = parse_issuer(*v);
    if (!t.issuer)
      return make_error(Errc::invalid_argument,
                        "unknown Certificate Issuer to Endpoint \"" + *v + "\" (capf, online, offline)");
  }
  if (auto v = json_text(j, "auth_string")) t.auth_string = *v;
  if (j.value("generate_string", false)) {
    // The seed's Generate String on a template: one string for all its phones, made here.
    if (t.auth_string) return make_error(Errc::invalid_argument, "give --auth-string or --generate-string, not both");
    t.auth_string = crypto::random_digits(admin::kGeneratedStringDigits);
  }
  if (t.auth_string && !t.string_policy) t.string_policy = StringPolicy::shared;
  if (auto v = validate(t); !v) return v.error();
  return t;
}

/// Refuses By Authentication String for the devices a query matches whose Device Security Mode
/// is Authenticated or Encrypted, naming how many and the first few.
Result<void> check_security_modes(const store::Store& store, const std::string& where, util::UnixTime now,
                                  const std::string& who) {
  auto q = inventory::Query::parse(where);
  if (!q) return q.error();
  std::size_t secure = 0;
  std::string first;
  std::optional<SecurityMode> mode;
  auto scan = store.for_each_device([&](const Device& d) {
    if (d.security_mode == SecurityMode::non_secure || !q->matches(d, now)) return true;
    if (secure++ < 3) first += (first.empty() ? "" : ", ") + d.name;
    mode = d.security_mode;
    return true;
  });
  if (!scan) return scan.error();
  if (secure == 0) return ok();
  return make_error(Errc::invalid_argument, who + ": " + *auth_string_refusal(*mode) + "; " + std::to_string(secure) +
                                                " devices it matches are Authenticated or Encrypted (" + first +
                                                (secure > 3 ? ", …" : "") +
                                                "): narrow --where, e.g. add AND security_mode = \"Non Secure\"");
}

Result<Policy> policy_from_json(const nlohmann::json& j) {
  Policy p;
  p.name = json_text(j, "name").value_or("");
  p.where = json_text(j, "where").value_or("");
  p.template_name = json_text(j, "template").value_or("");
  p.rate_per_minute = j.value("rate", 0.0);  // the API's name for rate_per_minute
  if (j.contains("renew_at_fraction") && j.contains("renew_days_before"))
    return make_error(Errc::invalid_argument, "give --renew-at-fraction or --renew-days-before, not both");
  detail::read_common_fields(j, p);
  if (j.contains("renew_days_before") && p.renew_days_before < 1)
    return make_error(Errc::invalid_argument, "--renew-days-before must be 1 or more");
  if (auto v = validate(p); !v) return v.error();
  return p;
}

Response store_failure(const Error& e) {
  return error_response(500, e.message);
}

}  // namespace

nlohmann::json template_json(const DeviceTemplate& t) {
  nlohmann::json j{{"name", t.name},
                   {"where", t.where},
                   {"priority", t.priority},
                   {"created_at", util::format_iso8601(t.created_at)},
                   {"created_by", t.created_by}};
  if (t.operation) j["operation"] = to_string(*t.operation);
  if (t.auth_mode) j["auth_mode"] = to_string(*t.auth_mode);
  if (t.string_policy) j["string_policy"] = to_string(*t.string_policy);
  if (t.rsa_key_bits) j["key_size"] = *t.rsa_key_bits;
  if (t.key_order) j["key_order"] = to_string(*t.key_order);
  if (t.ec_key_bits) j["ec_key_size"] = *t.ec_key_bits;
  if (t.issuer) j["issuer"] = to_string(*t.issuer);
  j["auth_string_set"] = t.auth_string.has_value();  // the string itself is never shown
  return j;
}

nlohmann::json policy_json(const Policy& p) {
  // The API names the state and the time in words, and shows only the renewal rule in force.
  auto j = detail::common_fields(p);
  j["state"] = p.paused ? "paused" : "active";
  j["created_at"] = util::format_iso8601(p.created_at);
  if (p.renew_days_before > 0)
    j["renew_days_before"] = p.renew_days_before;
  else
    j["renew_at_fraction"] = p.renew_at_fraction;
  return j;
}

Result<nlohmann::json> forecast_json(const store::Store& store, const Policy& p, const std::string& ca_subject,
                                     util::UnixTime now, int days) {
  auto query = inventory::Query::parse(p.where);
  if (!query) return query.error();
  auto state = load_state(store, p.name);
  if (!state) return state.error();
  auto ca = load_ca_facts(store, ca_subject);
  if (!ca) return ca.error();
  auto cal = NightCalendar::make(p);
  if (!cal) return cal.error();
  auto snapshot = load_snapshot(store, *query, now, *ca);
  if (!snapshot) return snapshot.error();
  const util::UnixTime until = now + std::int64_t{days} * 86400;
  const Plan planned = plan(p, *state, *cal, *snapshot, now, until);
  nlohmann::json nights = nlohmann::json::array(), warnings = nlohmann::json::array();
  std::size_t total = 0;
  for (const auto& np : planned.nights) {
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& [r, c] : np.by_reason) reasons[std::string(to_string(r))] = c;
    const double minutes = static_cast<double>(np.night.end - np.night.start) / 60.0;
    nlohmann::json n{{"start", util::format_iso8601(np.night.start)},
                     {"end", util::format_iso8601(np.night.end)},
                     {"window_minutes", minutes},
                     {"devices", np.devices},
                     {"by_reason", reasons},
                     {"over", np.over}};
    if (np.capacity >= 0) n["capacity"] = static_cast<std::size_t>(std::floor(np.capacity));
    nights.push_back(std::move(n));
    total += np.devices;
    if (np.over) {
      warnings.push_back(fmt::format(
          "{}: {} devices > {:.0f} ({:g}/min × {:.0f} min); the rest runs into the next window",
          util::format_iso8601(np.night.start), np.devices, std::floor(np.capacity), p.rate_per_minute, minutes));
    }
  }
  nlohmann::json out{{"policy", p.name},
                     {"state", p.paused ? "paused" : "active"},
                     {"from", util::format_iso8601(now)},
                     {"until", util::format_iso8601(until)},
                     {"days", days},
                     {"rate_per_minute", p.rate_per_minute},
                     {"matched", planned.matched},
                     {"in_job", planned.in_job},
                     {"total", total},
                     {"nights", nights},
                     {"warnings", warnings}};
  if (!planned.note.empty()) out["note"] = planned.note;
  if (p.paused) out["note"] = "paused: nothing runs until `capf policy resume " + p.name + "`";
  return out;
}

AdminRoutes::AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_subject)
    : store_(store), clock_(clock), ca_subject_(std::move(ca_subject)) {}

std::optional<Response> AdminRoutes::handle(const admin::Request& r, const std::string& path,
                                            const std::string& query) {
  const std::string templates = "/v1/templates", policies = "/v1/policies";
  if (path == templates || path.rfind(templates + "/", 0) == 0) {
    if (path == templates && r.method == "GET") {
      auto all = load_templates(store_);
      if (!all) return store_failure(all.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& t : *all) list.push_back(template_json(t));
      return Response{200, {{"templates", list}}};
    }
    if (path == templates && r.method == "POST") return create_template(r);
    auto rest = util::split(path.substr(templates.size() + 1), '/');
    if (rest.size() == 1 && r.method == "GET") {
      auto t = load_template(store_, rest[0]);
      if (!t) return store_failure(t.error());
      if (!t->has_value()) return error_response(404, "no template named " + rest[0]);
      return Response{200, template_json(**t)};
    }
    if ((rest.size() == 1 && r.method == "DELETE") || (rest.size() == 2 && rest[1] == "delete" && r.method == "POST"))
      return delete_template(r, rest[0]);
    return std::nullopt;
  }
  if (path == policies || path.rfind(policies + "/", 0) == 0) {
    if (path == policies && r.method == "GET") {
      auto all = load_policies(store_);
      if (!all) return store_failure(all.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : *all) {
        auto j = policy_json(p);
        if (auto s = load_state(store_, p.name)) {
          j["last_run"] = s->last_run ? util::format_iso8601(s->last_run) : "";
          j["jobs_created"] = s->jobs_created;
          j["devices_submitted"] = s->devices_submitted;
        }
        list.push_back(std::move(j));
      }
      return Response{200, {{"policies", list}}};
    }
    if (path == policies && r.method == "POST") return create_policy(r);
    auto rest = util::split(path.substr(policies.size() + 1), '/');
    if (rest.size() == 1 && r.method == "GET") return show_policy(rest[0]);
    if (rest.size() == 2 && rest[1] == "forecast" && r.method == "GET") return forecast(rest[0], query);
    if (rest.size() == 2 && r.method == "POST" && (rest[1] == "pause" || rest[1] == "resume"))
      return set_paused(r, rest[0], rest[1] == "pause");
    if ((rest.size() == 1 && r.method == "DELETE") || (rest.size() == 2 && rest[1] == "delete" && r.method == "POST"))
      return delete_policy(r, rest[0]);
    return std::nullopt;
  }
  return std::nullopt;
}

Response AdminRoutes::create_template(const admin::Request& r) {
  const auto body = r.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.body);
  auto t = template_from_json(body);
  if (!t) return error_response(400, t.error().message);
  if (t->auth_mode == AuthMode::auth_string)
    if (auto c = check_security_modes(store_, t->where, clock_.now(), "template " + t->name); !c)
      return error_response(c.error().code == Errc::invalid_argument ? 400 : 500, c.error().message);
  std::lock_guard lock(mutex_);
  auto existing = load_template(store_, t->name);
  if (!existing) return store_failure(existing.error());
  if (existing->has_value()) return error_response(409, "template " + t->name + " already exists (delete it first)");
  t->created_at = clock_.now();
  t->created_by = r.actor;
  store::Transition w;
  w.put_docs.push_back({store::Family::templates, t->name, encode_template(*t)});
  w.audit.push_back(AuditEntry{t->created_at, r.actor, "template.create", t->name, "where: " + t->where});
  if (auto a = store_.apply(w, store::Sync::yes); !a) return store_failure(a.error());
  auto out = template_json(*t);
  if (body.value("generate_string", false)) out["generated_auth_string"] = *t->auth_string;  // this once
  return Response{200, out};
}

Response AdminRoutes::delete_template(const admin::Request& r, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto existing = load_template(store_, name);
  if (!existing) return store_failure(existing.error());
  if (!existing->has_value()) return error_response(404, "no template named " + name);
  auto all = load_policies(store_);
  if (!all) return store_failure(all.error());
  for (const auto& p : *all)
    if (p.template_name == name)
      return error_response(409, "template " + name + " is used by policy " + p.name + " (delete the policy first)");
  store::Transition w;
  w.delete_docs.emplace_back(store::Family::templates, name);
  w.audit.push_back(AuditEntry{clock_.now(), r.actor, "template.delete", name, ""});
  if (auto a = store_.apply(w, store::Sync::yes); !a) return store_failure(a.error());
  return Response{200, {{"deleted", name}}};
}

Response AdminRoutes::create_policy(const admin::Request& r) {
  const auto body = r.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.body);
  auto p = policy_from_json(body);
  if (!p) return error_response(400, p.error().message);
  std::lock_guard lock(mutex_);
  auto t = load_template(store_, p->template_name);
  if (!t) return store_failure(t.error());
  if (!t->has_value())
    return error_response(400, "no template named " + p->template_name + " (capf template create …)");
  const DeviceTemplate& tmpl = **t;
  // A policy's jobs keep each phone's string (the one its import gave it, the template's own
  // included); strings made per phone at job time would have nobody to hand them to.
  if (tmpl.auth_mode == AuthMode::auth_string && tmpl.string_policy == StringPolicy::unique)
    return error_response(400,
                          "template " + tmpl.name + ": a policy runs unattended, so nobody could hand out " +
                              "generated Authentication Strings; use a template with its own string (--auth-string or "
                              "--generate-string), or Authentication Mode lsc, mic or null");
  if (tmpl.auth_mode == AuthMode::auth_string)
    if (auto c =
            check_security_modes(store_, p->where, clock_.now(), "policy " + p->name + " (template " + tmpl.name + ")");
        !c)
      return error_response(c.error().code == Errc::invalid_argument ? 400 : 500, c.error().message);
  auto existing = load_policy(store_, p->name);
  if (!existing) return store_failure(existing.error());
  if (existing->has_value()) return error_response(409, "policy " + p->name + " already exists (delete it first)");
  p->created_at = clock_.now();
  p->created_by = r.actor;
  store::Transition w;
  w.put_docs.push_back({store::Family::policies, policy_key(p->name), encode_policy(*p)});
  w.put_docs.push_back({store::Family::policies, state_key(p->name), encode_state(PolicyState{})});
  w.audit.push_back(AuditEntry{p->created_at, r.actor, "policy.create", p->name,
                               "where: " + p->where + "; template " + p->template_name});
  if (auto a = store_.apply(w, store::Sync::yes); !a) return store_failure(a.error());
  return Response{200, policy_json(*p)};
}

Response AdminRoutes::show_policy(const std::string& name) {
  auto p = load_policy(store_, name);
  if (!p) return store_failure(p.error());
  if (!p->has_value()) return error_response(404, "no policy named " + name);
  auto s = load_state(store_, name);
  if (!s) return store_failure(s.error());
  auto j = policy_json(**p);
  std::size_t waiting = 0;
  for (const auto& [device, a] : s->acted) waiting += a.job.empty() ? 1 : 0;
  j["last_run"] = s->last_run ? util::format_iso8601(s->last_run) : "";
  j["last_night"] = s->last_night ? util::format_iso8601(s->last_night) : "";
  j["jobs_created"] = s->jobs_created;
  j["devices_submitted"] = s->devices_submitted;
  j["recent_jobs"] = s->recent_jobs;
  j["note"] = s->note;
  j["acted_devices"] = s->acted.size();
  j["refused_devices"] = waiting;
  return Response{200, j};
}

Response AdminRoutes::set_paused(const admin::Request& r, const std::string& name, bool paused) {
  std::lock_guard lock(mutex_);
  auto p = load_policy(store_, name);
  if (!p) return store_failure(p.error());
  if (!p->has_value()) return error_response(404, "no policy named " + name);
  Policy policy = **p;
  if (policy.paused == paused)
    return error_response(409, "policy " + name + " is already " + (paused ? "paused" : "active"));
  policy.paused = paused;
  store::Transition w;
  w.put_docs.push_back({store::Family::policies, policy_key(name), encode_policy(policy)});
  w.audit.push_back(AuditEntry{clock_.now(), r.actor, paused ? "policy.pause" : "policy.resume", name, ""});
  if (auto a = store_.apply(w, store::Sync::yes); !a) return store_failure(a.error());
  return Response{200, policy_json(policy)};
}

Response AdminRoutes::delete_policy(const admin::Request& r, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto p = load_policy(store_, name);
  if (!p) return store_failure(p.error());
  if (!p->has_value()) return error_response(404, "no policy named " + name);
  store::Transition w;
  w.delete_docs.emplace_back(store::Family::policies, policy_key(name));
  w.delete_docs.emplace_back(store::Family::policies, state_key(name));
  w.audit.push_back(AuditEntry{clock_.now(), r.actor, "policy.delete", name, "jobs it created keep running"});
  if (auto a = store_.apply(w, store::Sync::yes); !a) return store_failure(a.error());
  return Response{200, {{"deleted", name}}};
}

Response AdminRoutes::forecast(const std::string& name, const std::string& query) {
  auto p = load_policy(store_, name);
  if (!p) return store_failure(p.error());
  if (!p->has_value()) return error_response(404, "no policy named " + name);
  const std::string days_text = admin::query_param(query, "days");
  const auto days = days_text.empty() ? std::optional<std::int64_t>{90} : util::parse_int(days_text);
  if (!days || *days < 1 || *days > 400) return error_response(400, "--days must be 1–400, got " + days_text);
  auto f = forecast_json(store_, **p, ca_subject_, clock_.now(), static_cast<int>(*days));
  if (!f) return store_failure(f.error());
  return Response{200, *f};
}

}  // namespace capf::policy
