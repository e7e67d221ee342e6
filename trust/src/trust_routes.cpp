#include "capf/trust/trust_routes.hpp"

#include <mutex>

#include "capf/crypto/bundle.hpp"
#include "capf/trust/trust.hpp"
#include "capf/util/text.hpp"

namespace capf::trust {

namespace {

nlohmann::json entry_json(const trust::Entry& e, bool with_pem) {
  nlohmann::json j{{"id", e.id},
                   {"store", std::string(trust::to_string(e.store))},
                   {"subject", e.subject},
                   {"issuer", e.issuer},
                   {"serial", e.serial},
                   {"not_before", util::format_iso8601(e.not_before)},
                   {"not_after", util::format_iso8601(e.not_after)},
                   {"fingerprint", e.fingerprint},
                   {"ca", e.ca},
                   {"description", e.description},
                   {"added_at", util::format_iso8601(e.added_at)},
                   {"added_by", e.added_by},
                   {"origin", std::string(trust::to_string(e.origin))}};
  if (auto mic = trust::seed_mic_root(e)) {
    j["seed_mic_root"] = mic->name;
    j["advice"] = mic->advice;
  }
  if (with_pem) j["pem"] = e.pem;
  return j;
}

class TrustRoutes : public admin::RouteModule {
 public:
  TrustRoutes(store::Store& store, const util::Clock& clock, std::function<void()> capf_trust_changed)
      : store_(store), clock_(clock), capf_trust_changed_(std::move(capf_trust_changed)) {}

  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path,
                                        const std::string& query) override {
    const std::string base = "/v1/trust";
    if (path == base && r.method == "GET") return list(query);
    if (path == base && r.method == "POST") return upload(r);
    if (path.rfind(base + "/", 0) == 0 && r.method == "POST") {
      auto parts = util::split(path.substr(base.size() + 1), '/');
      if (parts.size() == 2 && parts[1] == "delete") return remove(r, parts[0], query);
    }
    return std::nullopt;
  }

 private:
  admin::Response list(const std::string& query) {
    std::optional<trust::Kind> kind;
    if (auto s = admin::query_param(query, "store"); !s.empty()) {
      kind = trust::parse_kind(s);
      if (!kind) return admin::error_response(400, "unknown trust store \"" + s + "\" (capf-trust, callmanager-trust)");
    }
    auto entries = trust::list(store_, kind);
    if (!entries) return admin::error_response(500, entries.error().message);
    const bool pem = admin::query_param(query, "pem") == "1";
    nlohmann::json out{{"entries", nlohmann::json::array()}};
    for (const auto& e : *entries) out["entries"].push_back(entry_json(e, pem));
    return {200, out};
  }

  admin::Response upload(const admin::Request& r) {
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return admin::error_response(400, "upload body must be a JSON object");
    auto kind = trust::parse_kind(body.value("store", ""));
    if (!kind) return admin::error_response(400, "--store must be capf-trust or callmanager-trust");
    auto data = crypto::base64_decode(body.value("data", ""));
    if (!data) return admin::error_response(400, "upload data: " + data.error().message);
    const std::string file = body.value("file", "upload");
    Result<trust::UploadResult> result = make_error(Errc::internal, "not run");
    {
      std::lock_guard lock(mutex_);
      result = trust::upload(store_, *kind, *data, body.value("description", ""), r.actor, clock_.now());
    }
    if (!result) return admin::error_response(Error{result.error().code, file + ": " + result.error().message});
    if (!result->added.empty() && *kind == trust::Kind::capf_trust && capf_trust_changed_) capf_trust_changed_();
    nlohmann::json out{
        {"added", nlohmann::json::array()}, {"already", nlohmann::json::array()}, {"notes", result->notes}};
    for (const auto& e : result->added) out["added"].push_back(entry_json(e, false));
    for (const auto& e : result->already) out["already"].push_back(entry_json(e, false));
    return {200, out};
  }

  admin::Response remove(const admin::Request& r, const std::string& id, const std::string& query) {
    std::optional<trust::Kind> kind;
    if (auto s = admin::query_param(query, "store"); !s.empty()) {
      kind = trust::parse_kind(s);
      if (!kind) return admin::error_response(400, "unknown trust store \"" + s + "\" (capf-trust, callmanager-trust)");
    }
    Result<trust::Entry> removed = make_error(Errc::internal, "not run");
    {
      std::lock_guard lock(mutex_);
      removed = trust::remove(store_, id, kind, r.actor, clock_.now());
    }
    if (!removed) return admin::error_response(removed.error());
    if (removed->store == trust::Kind::capf_trust && capf_trust_changed_) capf_trust_changed_();
    return {200, {{"deleted", entry_json(*removed, false)}}};
  }

  store::Store& store_;
  const util::Clock& clock_;
  std::function<void()> capf_trust_changed_;
  std::mutex mutex_;
};

}  // namespace

std::shared_ptr<admin::RouteModule> make_admin_routes(store::Store& store, const util::Clock& clock,
                                                      std::function<void()> capf_trust_changed) {
  return std::make_shared<TrustRoutes>(store, clock, std::move(capf_trust_changed));
}

}  // namespace capf::trust
