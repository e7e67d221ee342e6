// What the dashboard does with one HTTP request, without sockets or threads: the checks of
// every request (Host, method, origin, content type, session, CSRF), the body limit chosen from
// the header alone, the login (throttle, credentials, session) and the route a request takes.
// WebServer runs the blocking parts (the admin API, the password check) on its pools; the fuzz
// target (fuzz/web_fuzzer.cpp) drives the same functions directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "capf/web/auth.hpp"
#include "capf/web/throttle.hpp"

namespace capf::web {

/// A request as read from the connection (the body is empty until it has been read).
using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

/// The largest request body taken from a client without a session (a login is a few hundred bytes).
inline constexpr std::size_t kAnonymousBodyLimit = 64 * 1024;
/// The largest request body of a logged-in user (CSV imports of large sites).
inline constexpr std::size_t kSessionBodyLimit = 64 * 1024 * 1024;

/// The session cookie. "__Host-" makes the browser insist on Secure, Path=/ and no Domain.
inline constexpr const char* kSessionCookie = "__Host-capf_session";

/// What one request is answered with.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  ///< end the connection after this answer (the rest of the request was not read)
};

/// A call of the admin API on behalf of a logged-in user (AdminService::handle, on the workers).
struct AdminCall {
  std::string method;  ///< "GET" or "POST"
  std::string target;  ///< "/v1/…?query"
  std::string body;
  std::string actor;   ///< "web:USER"
};

/// A login with user name and password, counted by the throttle, to be checked on the
/// password pool (check_password) and finished with finish_login.
struct PasswordLogin {
  std::string user;
  std::string password;
  std::string next;    ///< where the page goes afterwards: a same-origin path ("/" when none was acceptable)
  std::string client;  ///< the client's address
};

/// The live job updates (`GET /api/events`) of a valid session.
struct EventStream {
  std::string session_id;
  WebSession session;
};

/// Where a request goes.
using Route = std::variant<Reply, AdminCall, PasswordLogin, EventStream>;

/// What the gate needs to know about the server.
struct GateConfig {
  std::vector<std::string> host_names;  ///< names the Host header may carry (host part)
  unsigned short port = 0;              ///< the port the Host header must carry
  std::string admin_token;              ///< also a login; empty = no token login
  /// PBKDF2 iterations spent on a login with an unknown user name, so timing does not tell
  /// which names exist (the fuzz target lowers it).
  int unknown_user_iterations = kPasswordIterations;
};

/// The checks and routes of the dashboard. Thread-safe (the tables are).
class RequestGate {
 public:
  RequestGate(GateConfig config, SessionTable& sessions, UserDirectory& users, LoginThrottle& throttle)
      : config_(std::move(config)), sessions_(sessions), users_(users), throttle_(throttle) {}

  /// After the header, before any byte of the body: the body limit for this request (larger
  /// with a valid session), or a refusal (413 when `content_length`, the parser's value of the
  /// Content-Length header, is above it) that ends the connection.
  std::variant<std::size_t, Reply> admit_header(const HttpRequest& header, std::optional<std::uint64_t> content_length,
                                                std::int64_t now_ms);

  /// The route of a whole request from `client` (its address).
  Route route(const HttpRequest& req, const std::string& client, std::int64_t now_ms);

  /// Checks a password login (PBKDF2: slow, blocking; run it on the password pool): the
  /// password_version() it matched, or nullopt for a wrong password, an unknown user or an
  /// unreadable users file.
  std::optional<std::string> check_password(const PasswordLogin& login);
  /// The answer to a checked login: a session bound to `version` and its cookie, or 401.
  Reply finish_login(const PasswordLogin& login, const std::optional<std::string>& version, std::int64_t now_ms);

  /// The session of a cookie value when it exists, has not expired and its user still has the
  /// password it logged in with (else it is removed). `extend` restarts its idle timeout.
  std::optional<WebSession> current_session(const std::string& id, std::int64_t now_ms, bool extend);

 private:
  Route login(const HttpRequest& req, const std::string& client, std::int64_t now_ms);
  Reply refused(const std::string& user, const std::string& client);
  Reply open_session(const std::string& user, const std::string& password_version, const std::string& next,
                     const std::string& client, std::int64_t now_ms);
  std::optional<WebSession> session_of(const HttpRequest& req, std::int64_t now_ms, bool extend);

  GateConfig config_;
  SessionTable& sessions_;
  UserDirectory& users_;
  LoginThrottle& throttle_;
};

/// The Content-Length a Beast parser read (boost::optional) as a std::optional.
template <class Parser>
std::optional<std::uint64_t> content_length(const Parser& parser) {
  const auto n = parser.content_length();
  return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
}

/// A JSON answer.
Reply json_reply(int status, const nlohmann::json& body);
/// A JSON answer {"error": message}.
Reply error_reply(int status, const std::string& message);

}  // namespace capf::web
