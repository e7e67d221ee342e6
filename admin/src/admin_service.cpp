#include "capf/admin/admin_service.hpp"

#include "capf/admin/paging.hpp"
#include "capf/config/params.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/text.hpp"

namespace capf::admin {

std::string url_encode(const std::string& s) {
  return util::percent_encode(s);
}

nlohmann::json device_json(const Device& d) {
  nlohmann::json j{
      {"name", d.name},
      {"description", d.description},
      {"device_type", d.device_type},
      {"device_pool", d.device_pool},
      {"security_profile", d.security_profile},
      {"security_mode", to_string(d.security_mode)},
      {"operation", to_string(d.operation)},
      {"auth_mode", to_string(d.auth_mode)},
      {"auth_string_set", !d.auth_string.empty()},
      {"key_size", d.rsa_key_bits},
      {"key_order", to_string(d.key_order)},
      {"ec_key_size", d.ec_key_bits},
      {"completes_by", d.completes_by ? nlohmann::json(util::format_iso8601(*d.completes_by)) : nlohmann::json()},
      {"ipv4", d.ipv4},
      {"ipv6", d.ipv6},
      {"status", to_string(d.status)},
      {"status_reason", d.status_reason},
      {"auth_failures", d.auth_failures},
      {"keygen_failures", d.keygen_failures},
      {"last_seen", d.last_seen ? nlohmann::json(util::format_iso8601(d.last_seen)) : nlohmann::json()},
  };
  if (!d.lsc_serial.empty())
    j["lsc"] = {
        {"serial", d.lsc_serial}, {"issuer", d.lsc_issuer}, {"not_after", util::format_iso8601(d.lsc_not_after)}};
  else
    j["lsc"] = nullptr;
  if (!d.fetched_cert_pem.empty()) j["fetched_certificate"] = d.fetched_cert_pem;
  return j;
}

nlohmann::json audit_json(const AuditEntry& a) {
  return {{"time", util::format_iso8601(a.time)},
          {"actor", a.actor},
          {"action", a.action},
          {"subject", a.subject},
          {"detail", a.detail}};
}

nlohmann::json certificate_json(const CertificateRecord& c) {
  return {{"serial", c.serial},
          {"device", c.device},
          {"issuer", c.issuer},
          {"key", c.key},
          {"issued_at", util::format_iso8601(c.issued_at)},
          {"delivered_at", c.delivered_at ? nlohmann::json(util::format_iso8601(c.delivered_at)) : nlohmann::json()},
          {"not_after", util::format_iso8601(c.not_after)},
          {"state", to_string(c.state)}};
}

Result<void> read_revoked_serials(const store::Store& store, std::unordered_set<std::string>& out) {
  return store.for_each_meta(kRevocationMetaPrefix, [&](const std::string& key, const std::string&) {
    out.insert(key.substr(kRevocationMetaPrefix.size()));
    return true;
  });
}

Result<inventory::EvalContext> query_context(const store::Store& store, const inventory::Query& q, util::UnixTime now,
                                             std::unordered_set<std::string>& revoked) {
  if (q.uses_revocation()) {
    if (auto r = read_revoked_serials(store, revoked); !r) return r.error();
  }
  return inventory::EvalContext{now, &revoked};
}

AdminService::AdminService(store::Store& store, CaInfo ca, const util::Clock& clock, engine::Engine* engine)
    : store_(store), ca_(std::move(ca)), clock_(clock), engine_(engine) {}

Response AdminService::handle(const Request& r) {
  const auto qpos = r.target.find('?');
  const std::string path = r.target.substr(0, qpos);
  const std::string query = qpos == std::string::npos ? "" : r.target.substr(qpos + 1);
  const std::string phones = "/v1/phones/";
  try {
    util::fault_point_for_test("admin", path);
    if (r.method == "GET" && path == "/v1/ca")
      return {200,
              {{"subject", ca_.subject},
               {"serial", ca_.serial},
               {"key", ca_.key},
               {"fingerprint_sha256", ca_.fingerprint_sha256},
               {"not_before", util::format_iso8601(ca_.not_before)},
               {"not_after", util::format_iso8601(ca_.not_after)},
               {"pem", ca_.pem}}};
    if (r.method == "POST" && path == "/v1/phones/import") return import_phones(r, query);
    if (r.method == "GET" && path == "/v1/phones") return list_phones(query);
    if (path.rfind(phones, 0) == 0 && path.size() > phones.size()) {
      const std::string name = path.substr(phones.size());
      if (r.method == "GET") return show_phone(name);
      if (r.method == "POST") return set_phone(r, name);
    }
    if (r.method == "GET" && path == "/v1/certificates") return list_certificates(query);
    if (r.method == "GET" && path == "/v1/audit") return list_audit(query);
    if (r.method == "GET" && path == "/v1/health") return {200, {{"status", "ok"}}};
    if (r.method == "GET" && (path == "/metrics" || path == "/v1/metrics")) {
      if (engine_ == nullptr) return error_response(503, "metrics come from the running daemon (start `capf serve`)");
      Response m;
      m.content_type = "text/plain; version=0.0.4; charset=utf-8";
      m.text = util::metrics::Registry::global().expose();
      return m;
    }
    const std::string jobs = "/v1/jobs";
    if (path == jobs || path.rfind(jobs + "/", 0) == 0) {
      if (engine_ == nullptr) return error_response(503, "job commands need the running daemon (start `capf serve`)");
      if (path == jobs && r.method == "POST") return submit_job(r);
      if (path == jobs && r.method == "GET") return list_jobs();
      auto rest = util::split(path.substr(jobs.size() + 1), '/');
      if (rest.size() == 1 && r.method == "GET") return show_job(rest[0], query);
      if (rest.size() == 2 && rest[1] == "devices" && r.method == "GET") return job_devices(rest[0], query);
      if (rest.size() == 2 && r.method == "POST") return control_job(r, rest[0], rest[1]);
    }
    if (auto answer = router_.route(r, path, query)) return std::move(*answer);
  } catch (const nlohmann::json::exception& e) {
    return error_response(400, std::string("bad JSON in request: ") + e.what());
  } catch (...) {
    // A handler that throws ends this one request (the admin socket and the dashboard both come here).
    util::report_contained("admin", "admin request " + r.method + " " + path, std::current_exception());
    return error_response(
        500, "internal error while answering " + r.method + " " + path + " (the daemon log has the detail)");
  }
  return error_response(404, "no such admin API route: " + r.method + " " + path);
}

std::string AdminService::time_zone() const {
  auto params = config::load(store_);
  return params ? params->time_zone : ServiceParams{}.time_zone;
}

Response AdminService::list_certificates(const std::string& query) {
  const std::string device = query_param(query, "device");
  nlohmann::json list = nlohmann::json::array();
  if (!device.empty()) {
    auto certs = store_.certificates_of(device);
    if (!certs) return error_response(500, certs.error().message);
    for (const auto& c : *certs) list.push_back(certificate_json(c));
  } else {
    auto r = store_.for_each_certificate([&](const CertificateRecord& c) {
      list.push_back(certificate_json(c));
      return true;
    });
    if (!r) return error_response(500, r.error().message);
  }
  return {200, {{"certificates", list}}};
}

Response AdminService::list_audit(const std::string& query) {
  // Filters: actor (exact), action (prefix, e.g. "job." or "config.set"), since (ISO 8601 time,
  // or a duration back from now: 30m, 12h, 7d); limit keeps the newest N that match.
  const auto limit = util::parse_int(query_param(query, "limit")).value_or(0);
  if (limit < 0) return error_response(400, "limit must be 0 (all) or more");
  const std::string actor = query_param(query, "actor");
  const std::string action = query_param(query, "action");
  const std::string since_text = query_param(query, "since");
  util::UnixTime since = 0;
  if (!since_text.empty()) {
    if (auto t = util::parse_iso8601(since_text)) {
      since = *t;
    } else {
      const char unit = since_text.back();
      auto n = util::parse_int(std::string_view(since_text).substr(0, since_text.size() - 1));
      const long per = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
      if (!n || *n < 0 || per == 0)
        return error_response(
            400, "since must be an ISO 8601 time (2026-03-01T00:00:00Z) or a duration like 30m, 12h, 7d; got \"" +
                     since_text + "\"");
      // Checked before multiplying: a duration reaching back past the epoch means "everything".
      const util::UnixTime now = clock_.now();
      since = *n > now / per ? 0 : now - *n * per;
    }
  }
  const std::string subject = query_param(query, "subject");
  auto paged = page_request(query, {"time"}, true);
  if (!paged) return error_response(400, paged.error().message);
  if (*paged) return page_of_audit(**paged, actor, action, subject, since);
  const bool filtered = !actor.empty() || !action.empty() || !subject.empty() || since > 0;
  auto entries = store_.list_audit(filtered ? 0 : static_cast<std::size_t>(limit));
  if (!entries) return error_response(500, entries.error().message);
  std::vector<const AuditEntry*> kept;
  for (const auto& a : *entries) {
    if (!actor.empty() && a.actor != actor) continue;
    if (!action.empty() && a.action.rfind(action, 0) != 0) continue;
    if (!subject.empty() && a.subject != subject) continue;
    if (a.time < since) continue;
    kept.push_back(&a);
  }
  const std::size_t from = limit > 0 && kept.size() > static_cast<std::size_t>(limit) ? kept.size() - limit : 0;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = from; i < kept.size(); ++i) list.push_back(audit_json(*kept[i]));
  return {200, {{"audit", list}}};
}

Response AdminService::page_of_audit(const PageRequest& request, const std::string& actor, const std::string& action,
                                     const std::string& subject, util::UnixTime since) {
  if (!request.descending) return error_response(400, "the audit trail pages newest first (order=desc)");
  const bool filtered = !actor.empty() || !action.empty() || !subject.empty();
  nlohmann::json list = nlohmann::json::array();
  std::size_t matched = 0;
  std::string last, next;
  // After a full page the scan goes on only to count what a filter selects.
  auto take = [&](const AuditEntry& a, const std::string& position) {
    if (!actor.empty() && a.actor != actor) return true;
    if (!action.empty() && a.action.rfind(action, 0) != 0) return true;
    if (!subject.empty() && a.subject != subject) return true;
    ++matched;
    if (list.size() < request.size) {
      list.push_back(audit_json(a));
      last = position;
      return true;
    }
    if (next.empty()) next = page_cursor(request, last);
    return request.count && filtered;
  };
  // The cursor's key is the store's own audit position.
  const std::string& after = request.after;
  auto r = store_.for_each_audit_before(after, since, take);
  if (!r) return error_response(r.error().code == Errc::invalid_argument ? 400 : 500, r.error().message);
  nlohmann::json count;
  if (request.count && filtered) count = matched;
  if (request.count && !filtered) {
    auto n = store_.count_audit(since);
    if (!n) return error_response(500, n.error().message);
    count = *n;
  }
  return {200,
          {{"audit", std::move(list)},
           {"matched", count},
           {"next", next.empty() ? nlohmann::json() : nlohmann::json(next)},
           {"sort", "time"},
           {"order", "desc"}}};
}

}  // namespace capf::admin
