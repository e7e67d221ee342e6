#include "capf/config/admin_routes.hpp"

#include "capf/util/log.hpp"

namespace capf::config {

namespace {
const util::ModuleLogger log{"config"};
}  // namespace

nlohmann::json param_json(const ParamInfo& info, const ServiceParams& p) {
  return {{"name", info.name},
          {"display", info.display},
          {"value", shown_value(p, info)},
          {"default", shown_default(info)},
          {"range", shown_range(info)},
          {"unit", info.unit},
          {"secret", info.secret},
          {"is_default", raw_value(p, info) == raw_value(ServiceParams{}, info)},
          {"applies", info.applies},
          {"description", info.description}};
}

AdminRoutes::AdminRoutes(store::Store& store, const util::Clock& clock,
                         std::function<void(const ServiceParams&)> on_change)
    : store_(store), clock_(clock), on_change_(std::move(on_change)) {}

std::optional<admin::Response> AdminRoutes::handle(const admin::Request& r, const std::string& path,
                                                   const std::string&) {
  const std::string base = "/v1/config";
  if (path == base && r.method == "GET") return list();
  if (path.rfind(base + "/", 0) == 0 && path.size() > base.size() + 1) {
    const std::string name = path.substr(base.size() + 1);
    if (r.method == "GET") return get(name);
    if (r.method == "POST" || r.method == "PUT") return set(r, name);
  }
  return std::nullopt;
}

admin::Response AdminRoutes::list() {
  auto p = load(store_);
  if (!p) return admin::error_response(500, p.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& info : parameters()) list.push_back(param_json(info, *p));
  return {200, {{"parameters", list}, {"warnings", warnings(*p)}}};
}

admin::Response AdminRoutes::get(const std::string& name) {
  const auto* info = find_parameter(name);
  if (!info) return admin::error_response(404, "no service parameter \"" + name + "\" (see `capf config list`)");
  auto p = load(store_);
  if (!p) return admin::error_response(500, p.error().message);
  return {200, param_json(*info, *p)};
}

admin::Response AdminRoutes::set(const admin::Request& r, const std::string& name) {
  const auto* info = find_parameter(name);
  if (!info) return admin::error_response(404, "no service parameter \"" + name + "\" (see `capf config list`)");
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return admin::error_response(400, "expected a JSON object {\"value\": ...}");
  const bool reset = body.value("reset", false);
  if (!reset && !body.contains("value")) return admin::error_response(400, "give \"value\" or \"reset\": true");
  std::string value;
  if (!reset) {
    const auto& v = body["value"];
    if (v.is_string())
      value = v.get<std::string>();
    else if (v.is_number_integer())
      value = std::to_string(v.get<long long>());
    else if (v.is_boolean())
      value = v.get<bool>() ? "true" : "false";
    else
      return admin::error_response(400, std::string(info->name) + ": the value must be a string, number or boolean");
  }

  ServiceParams after;
  {
    std::lock_guard lock(mutex_);
    auto before = load(store_);
    if (!before) return admin::error_response(500, before.error().message);
    after = *before;
    auto changed = reset ? reset_parameter(after, info->name) : set_parameter(after, info->name, value);
    if (!changed) return admin::error_response(changed.error());
    const std::string detail = change_detail(*info, *before, after);
    if (auto w =
            save(store_, after, {AuditEntry{clock_.now(), r.actor, "config.set", std::string(info->name), detail}});
        !w)
      return admin::error_response(500, w.error().message);
    log()->info("service parameter {} by {}", detail, r.actor);  // change_detail never holds a secret
  }
  if (on_change_) on_change_(after);
  auto out = param_json(*info, after);
  out["changed"] = true;
  out["warnings"] = warnings(after);
  return {200, out};
}

}  // namespace capf::config
