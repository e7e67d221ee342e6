#include "capf/ca_offline/offline_routes.hpp"

#include <mutex>

#include "capf/admin/paging.hpp"
#include "capf/ca_offline/offline.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/trust/trust.hpp"

namespace capf::offline {

namespace {

std::string iso(util::UnixTime t) {
  return t ? util::format_iso8601(t) : "";
}

nlohmann::json round_json(const offline::Round& r) {
  return {{"number", r.number}, {"created_at", iso(r.created_at)},
          {"count", r.count},   {"directory", r.directory},
          {"again", r.again},   {"actor", r.actor}};
}

nlohmann::json csr_json(const CsrRecord& c) {
  return {{"id", c.id},
          {"device", c.device},
          {"job", c.job},
          {"issuer", std::string(to_string(c.issuer))},
          {"key", c.key},
          {"state", std::string(to_string(c.state))},
          {"created_at", iso(c.created_at)},
          {"updated_at", iso(c.updated_at)},
          {"round", c.round},
          {"ca", c.ca},
          {"handle", c.handle},
          {"submissions", c.submissions},
          {"error_class", std::string(to_string(c.error_class))},
          {"error", c.error},
          {"serial", c.serial}};
}

/// Columns the CSR listing sorts by; newest first by default.
const std::vector<std::string_view> kCsrColumns{"created_at", "updated_at", "device", "state"};

nlohmann::json lsc_json(const CertificateRecord& c) {
  return {{"serial", c.serial},
          {"device", c.device},
          {"issued_at", iso(c.issued_at)},
          {"issuer", c.issuer},
          {"not_after", iso(c.not_after)},
          {"key", c.key}};
}

class OfflineRoutes : public admin::RouteModule {
 public:
  OfflineRoutes(store::Store& store, const util::Clock& clock, engine::Engine* engine)
      : store_(store), clock_(clock), engine_(engine) {}

  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path,
                                        const std::string& query) override {
    if (r.method == "POST" && path == "/v1/offline/export") return export_round(r);
    if (r.method == "POST" && path == "/v1/offline/import") return import(r);
    if (r.method == "GET" && path == "/v1/offline/rounds") return rounds();
    if (r.method == "GET" && path == "/v1/csrs") return csrs(query);
    if (r.method == "GET" && path == "/v1/stale-lscs") return stale();
    if (r.method == "POST" && path == "/v1/stale-lscs/delete") return delete_stale(r);
    return std::nullopt;
  }

 private:
  static nlohmann::json body_of(const admin::Request& r) {
    auto body = nlohmann::json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
    return body.is_object() ? body : nlohmann::json();
  }

  admin::Response export_round(const admin::Request& r) {
    auto body = body_of(r);
    if (body.is_null()) return admin::error_response(400, "export body must be a JSON object");
    const std::string out = body.value("out", "");
    if (out.empty() || out[0] != '/') return admin::error_response(400, "export needs an absolute --out directory");
    Result<offline::ExportResult> result = make_error(Errc::internal, "not run");
    {
      std::lock_guard lock(mutex_);
      result = offline::record_export(store_, out, body.value("again", false), r.actor, clock_.now());
    }
    if (!result) return admin::error_response(500, result.error().message);
    nlohmann::json j{{"round", result->round.number ? round_json(result->round) : nlohmann::json()},
                     {"csrs", nlohmann::json::array()}};
    for (const auto& c : result->csrs)
      j["csrs"].push_back({{"id", c.id},
                           {"device", c.device},
                           {"job", c.job},
                           {"key", c.key},
                           {"created_at", c.created_at},
                           {"file", c.file},
                           {"pem", c.pem}});
    return {200, j};
  }

  admin::Response import(const admin::Request& r) {
    auto body = body_of(r);
    if (body.is_null() || !body.contains("files") || !body["files"].is_array())
      return admin::error_response(400, "import body must be {\"files\": [{\"name\", \"data\"}]}");
    std::vector<offline::InputFile> files;
    files.reserve(body["files"].size());
    for (const auto& f : body["files"]) {
      offline::InputFile in;
      in.name = f.value("name", "");
      auto data = crypto::base64_decode(f.value("data", ""));
      if (!data) return admin::error_response(400, in.name + ": " + data.error().message);
      in.data = std::move(*data);
      files.push_back(std::move(in));
    }
    body = nullptr;  // the decoded copies are all that is needed now
    Result<offline::ImportReport> report = make_error(Errc::internal, "not run");
    {
      std::lock_guard lock(mutex_);
      auto capf_trust = trust::capf_trust(store_);
      if (!capf_trust) return admin::error_response(500, "CAPF-trust: " + capf_trust.error().message);
      if (capf_trust->size() == 0)
        return admin::error_response(409,
                                     "CAPF-trust is empty: upload the Offline CA's chain first "
                                     "(capf trust upload --store capf-trust CHAIN.pem --description ...)");
      report = offline::import_certificates(store_, *capf_trust, files, r.actor, clock_.now());
    }
    if (!report) return admin::error_response(500, report.error().message);
    // The daemon's engine sends the phones whose certificate arrived back to be triggered.
    if (engine_ && !report->devices.empty()) engine_->certificates_ready(report->devices);
    nlohmann::json j{{"imported", report->imported},
                     {"already", report->already},
                     {"failed", report->failed},
                     {"problems", nlohmann::json::array()},
                     {"issued", nlohmann::json::array()}};
    for (const auto& p : report->problems)
      j["problems"].push_back({{"file", p.file}, {"subject", p.subject}, {"reason", p.reason}});
    for (const auto& [device, serial] : report->issued) j["issued"].push_back({{"device", device}, {"serial", serial}});
    return {200, j};
  }

  admin::Response rounds() {
    auto all = offline::list_rounds(store_);
    if (!all) return admin::error_response(500, all.error().message);
    nlohmann::json j{{"rounds", nlohmann::json::array()}};
    for (const auto& r : *all) j["rounds"].push_back(round_json(r));
    return {200, j};
  }

  admin::Response csrs(const std::string& query) {
    std::optional<CsrState> state = CsrState::pending;
    const std::string s = admin::query_param(query, "state");
    if (s == "all") {
      state.reset();
    } else if (!s.empty()) {
      state = parse_csr_state(s);
      if (!state)
        return admin::error_response(
            400, "unknown CSR state \"" + s +
                     "\" (pending, submitting, submitted, issued, delivered, rejected, stale, all)");
    }
    auto paged = admin::page_request(query, kCsrColumns, true);
    if (!paged) return admin::error_response(400, paged.error().message);
    auto list = offline::list_csrs(store_, state);
    if (!list) return admin::error_response(500, list.error().message);
    if (*paged) return page_of_csrs(*list, **paged);
    nlohmann::json j{{"csrs", nlohmann::json::array()}};
    for (const auto& c : *list) j["csrs"].push_back(csr_json(c));
    return {200, j};
  }

  static admin::Response page_of_csrs(const std::vector<CsrRecord>& all, const admin::PageRequest& request) {
    admin::PageCollector<const CsrRecord*> page(request);
    for (const auto& c : all) {
      std::string key = request.sort == "device"       ? admin::sort_key(c.device, c.id)
                        : request.sort == "state"      ? admin::sort_key(to_string(c.state), c.id)
                        : request.sort == "updated_at" ? admin::sort_key(c.updated_at, c.id)
                                                       : admin::sort_key(c.created_at, c.id);
      if (page.offer(key)) page.add(std::move(key), &c);
    }
    std::string next;
    nlohmann::json j{{"csrs", nlohmann::json::array()},
                     {"matched", page.matched()},
                     {"sort", request.sort},
                     {"order", request.descending ? "desc" : "asc"}};
    for (const auto* c : page.take(next)) j["csrs"].push_back(csr_json(*c));
    j["next"] = next.empty() ? nlohmann::json() : nlohmann::json(next);
    return {200, j};
  }

  admin::Response stale() {
    auto list = offline::stale_lscs(store_);
    if (!list) return admin::error_response(500, list.error().message);
    nlohmann::json j{{"lscs", nlohmann::json::array()}};
    for (const auto& c : *list) j["lscs"].push_back(lsc_json(c));
    return {200, j};
  }

  admin::Response delete_stale(const admin::Request& r) {
    auto body = body_of(r);
    if (body.is_null() || !body.value("all", false))
      return admin::error_response(400, "stale LSCs are deleted all at once: {\"all\": true}");
    Result<std::vector<CertificateRecord>> deleted = make_error(Errc::internal, "not run");
    {
      std::lock_guard lock(mutex_);
      deleted = offline::delete_stale_lscs(store_, r.actor, clock_.now());
    }
    if (!deleted) return admin::error_response(500, deleted.error().message);
    nlohmann::json j{{"deleted", deleted->size()}, {"lscs", nlohmann::json::array()}};
    for (const auto& c : *deleted) j["lscs"].push_back(lsc_json(c));
    return {200, j};
  }

  store::Store& store_;
  const util::Clock& clock_;
  engine::Engine* engine_;
  std::mutex mutex_;
};

}  // namespace

std::shared_ptr<admin::RouteModule> make_admin_routes(store::Store& store, const util::Clock& clock,
                                                      engine::Engine* engine) {
  return std::make_shared<OfflineRoutes>(store, clock, engine);
}

}  // namespace capf::offline
