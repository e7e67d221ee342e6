#include "capf/admin/router.hpp"

#include "capf/util/text.hpp"

namespace capf::admin {

void Router::add(std::shared_ptr<RouteModule> module) {
  modules_.push_back(std::move(module));
}

std::optional<Response> Router::route(const Request& r, const std::string& path, const std::string& query) const {
  for (const auto& m : modules_)
    if (auto answer = m->handle(r, path, query)) return answer;
  return std::nullopt;
}

Response error_response(int status, const std::string& message) {
  return {status, {{"error", message}}};
}

Response error_response(const Error& error) {
  switch (error.code) {
    case Errc::invalid_argument:
      return error_response(400, error.message);
    case Errc::not_found:
      return error_response(404, error.message);
    case Errc::already_exists:
      return error_response(409, error.message);
    default:
      return error_response(500, error.message);
  }
}

std::string query_param(const std::string& query, const std::string& key) {
  for (const auto& pair : util::split(query, '&')) {
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    return util::percent_decode(eq == std::string::npos ? "" : pair.substr(eq + 1), true);
  }
  return "";
}

std::optional<std::string> json_text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace capf::admin
