// The admin API's routes: requests and answers, the route modules feature libraries add, and
// the one way an Error becomes an answer.
//
// Rule: each feature library (config, trust, ca-offline, policy, monitor, overview, …) defines
// its own routes as a RouteModule and registers them through the Router; app/ only wires them
// (app/modules.cpp), it holds no route of its own. A route answers a failed Result with
// error_response(const Error&), never with a status mapping of its own.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "capf/util/result.hpp"

namespace capf::admin {

/// An HTTP-like answer: status code and JSON body ({"error": "..."} when not 2xx). A route
/// that answers something other than JSON (the Prometheus text of /metrics) sets
/// `content_type` and `text` instead; `body` is then ignored.
struct Response {
  Response() = default;
  Response(int s, nlohmann::json b) : status(s), body(std::move(b)) {}  // NOLINT(google-explicit-constructor)
  int status = 200;
  nlohmann::json body;
  std::string content_type;  ///< empty: JSON `body`
  std::string text;          ///< the raw body when `content_type` is set
};

/// A request in the admin API's terms.
struct Request {
  std::string method;  ///< "GET", "POST"
  std::string target;  ///< "/v1/phones?x=y"
  std::string body;
  std::string actor = "admin";  ///< who asks: the caller's user name (Unix socket peer credentials)
};

/// A group of admin routes a feature library adds (trust stores, offline CA, config, …).
/// Thread-safe; calls may block.
class RouteModule {
 public:
  virtual ~RouteModule() = default;
  /// The answer, or nullopt when the route is not this module's. `path` has no query string.
  virtual std::optional<Response> handle(const Request& r, const std::string& path, const std::string& query) = 0;
};

/// The route modules of the admin API, asked in the order added. Add them before serving;
/// route() may then be called from any thread.
class Router {
 public:
  void add(std::shared_ptr<RouteModule> module);
  /// The answer of the first module that knows the route; nullopt when none does.
  std::optional<Response> route(const Request& r, const std::string& path, const std::string& query) const;

 private:
  std::vector<std::shared_ptr<RouteModule>> modules_;
};

/// {"error": message} with `status`.
Response error_response(int status, const std::string& message);
/// A failed Result as an answer with its message: invalid_argument 400, not_found 404,
/// already_exists 409, anything else 500.
Response error_response(const Error& error);

/// Value of `key` in a query string "a=1&b=2" (percent-decoded), or "".
std::string query_param(const std::string& query, const std::string& key);
/// The value of `key` in a JSON request body as text: strings as they are, other values as
/// JSON; nullopt when absent or null.
std::optional<std::string> json_text(const nlohmann::json& j, const char* key);

}  // namespace capf::admin
