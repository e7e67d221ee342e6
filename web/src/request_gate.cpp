#include "capf/web/request_gate.hpp"

#include <nlohmann/json.hpp>

#include "capf/crypto/crypto.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "capf/web/assets.hpp"

namespace capf::web {

namespace http = boost::beast::http;

namespace {

constexpr const char* kCsrfHeader = "X-CSRF-Token";

const util::ModuleLogger log{"web"};

std::string sv(boost::beast::string_view s) {
  return std::string(s.data(), s.size());
}

// Pages and files a browser may fetch before logging in.
bool public_path(std::string_view path) {
  return path == "/login" || path == "/login.html" || path == "/login.js" || path == "/app.css" ||
         path == "/favicon.svg";
}

const Asset* find_asset(std::string_view path) {
  for (const auto& a : assets())
    if (a.path == path) return &a;
  return nullptr;
}

Reply static_asset(const std::string& path) {
  const Asset* a = find_asset(path);
  if (a == nullptr) a = find_asset(path + ".html");
  if (a == nullptr) return {404, "text/plain; charset=utf-8", "no such page: " + path + "\n", {}, false};
  return {200, std::string(a->content_type), std::string(a->data), {}, false};
}

// A login page that sends the browser back where it was going, when that is a path here.
Reply to_login(const std::string& target) {
  std::string location = "/login";
  if (auto next = same_origin_path(target); next && *next != "/")
    location += "?next=" + util::percent_encode(*next, "/");
  return {303, "text/plain; charset=utf-8", "log in first\n", {{"Location", location}}, false};
}

std::string printable_user(const std::string& user) {
  return valid_user_name(user) ? user : "(bad name)";
}

}  // namespace

// Invalid UTF-8 (a Host header, a path, a device name) is replaced, not thrown: dump() would
// otherwise throw out of the request's handler.
Reply json_reply(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}, false};
}

Reply error_reply(int status, const std::string& message) {
  return json_reply(status, {{"error", message}});
}

std::optional<WebSession> RequestGate::current_session(const std::string& id, std::int64_t now_ms, bool extend) {
  auto session = extend ? sessions_.find(id, now_ms) : sessions_.peek(id, now_ms);
  if (!session || session->password_version.empty()) return session;
  auto record = users_.find(session->user);
  if (!record) log()->error("web users: {}", record.error().message);
  if (record && *record && password_version(**record) == session->password_version) return session;
  // Removed, or the password was set again: that ends every session of the old password.
  sessions_.remove(id);
  log()->info("web session of {} ended: {}", printable_user(session->user),
              !record   ? "the users file cannot be read"
              : *record ? "its password changed"
                        : "the user was removed");
  return std::nullopt;
}

std::optional<WebSession> RequestGate::session_of(const HttpRequest& req, std::int64_t now_ms, bool extend) {
  const std::string cookie = cookie_value(sv(req[http::field::cookie]), kSessionCookie);
  if (cookie.empty()) return std::nullopt;
  return current_session(cookie, now_ms, extend);
}

std::variant<std::size_t, Reply> RequestGate::admit_header(const HttpRequest& header,
                                                           std::optional<std::uint64_t> content_length,
                                                           std::int64_t now_ms) {
  const bool logged_in = session_of(header, now_ms, false).has_value();
  const std::size_t limit = logged_in ? kSessionBodyLimit : kAnonymousBodyLimit;
  if (content_length && *content_length > limit) {
    Reply r = error_reply(413, "request body of " + std::to_string(*content_length) + " bytes refused: at most " +
                                   std::to_string(limit / 1024) + " KiB" + (logged_in ? "" : " before logging in"));
    r.close = true;
    return r;
  }
  return limit;
}

Route RequestGate::route(const HttpRequest& req, const std::string& client, std::int64_t now_ms) {
  const std::string host = sv(req[http::field::host]);
  if (!host_allowed(host, config_.host_names, config_.port))
    return error_reply(421, "this dashboard does not answer for Host \"" + host + "\"");
  const auto method = req.method();
  if (method != http::verb::get && method != http::verb::post) return error_reply(405, "only GET and POST are served");
  const std::string target = sv(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const bool changes_state = method == http::verb::post;
  if (changes_state) {
    if (!same_origin(sv(req[http::field::origin]), sv(req[http::field::referer]), host)) {
      log()->warn("refused POST {} from {}: cross-site (Origin \"{}\")", path, client, sv(req[http::field::origin]));
      return error_reply(403, "cross-site request refused: Origin/Referer is not this dashboard");
    }
    const std::string type = sv(req[http::field::content_type]);
    if (type.rfind("application/json", 0) != 0)
      return error_reply(415, "state-changing requests take application/json");
  }
  if (path == "/login" && changes_state) return login(req, client, now_ms);
  if (method == http::verb::get && public_path(path)) return static_asset(path == "/login" ? "/login.html" : path);

  const std::string id = cookie_value(sv(req[http::field::cookie]), kSessionCookie);
  auto session = id.empty() ? std::nullopt : current_session(id, now_ms, true);
  if (!session) {
    if (path.rfind("/api/", 0) == 0 || changes_state) return error_reply(401, "log in first");
    return to_login(target);
  }
  if (changes_state) {
    const std::string csrf = sv(req[kCsrfHeader]);
    if (csrf.empty() || !crypto::constant_time_equal(csrf, session->csrf)) {
      log()->warn("refused POST {} from {} ({}): missing or wrong CSRF token", path, client, session->user);
      return error_reply(403, "missing or wrong CSRF token");
    }
  }
  if (path == "/api/events" && method == http::verb::get) return EventStream{id, *session};
  if (path == "/api/session" && method == http::verb::get)
    return json_reply(200, {{"user", session->user}, {"csrf", session->csrf}});
  if (path == "/logout" && changes_state) {
    sessions_.remove(id);
    Reply r = json_reply(200, {{"logged_out", true}});
    r.headers.emplace_back("Set-Cookie",
                           std::string(kSessionCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    return r;
  }
  if (path.rfind("/api/v1/", 0) == 0)
    return AdminCall{changes_state ? "POST" : "GET", target.substr(4), req.body(), "web:" + session->user};
  if (path.rfind("/api/", 0) == 0) return error_reply(404, "no such dashboard API route: " + path);
  if (method != http::verb::get) return error_reply(404, "nothing to POST at " + path);
  return static_asset(path == "/" ? "/index.html" : path);
}

Route RequestGate::login(const HttpRequest& req, const std::string& client, std::int64_t now_ms) {
  const auto body = nlohmann::json::parse(req.body(), nullptr, false);
  if (!body.is_object()) return error_reply(400, "login takes {\"user\", \"password\"} or {\"token\"}");
  std::string next = "/";
  if (auto it = body.find("next"); it != body.end() && it->is_string())
    next = same_origin_path(it->get_ref<const std::string&>()).value_or("/");
  // Counted before the credentials are checked: parallel guesses cannot overtake the count.
  if (!throttle_.try_attempt(client, now_ms))
    return error_reply(429, "too many login attempts from this address; try again later");
  auto text = [&](const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto it = body.find("token"); it != body.end() && it->is_string()) {
    if (config_.admin_token.empty() || !crypto::constant_time_equal(text("token"), config_.admin_token))
      return refused("admin", client);
    throttle_.succeeded(client);
    return open_session("admin", "", next, client, now_ms);
  }
  return PasswordLogin{text("user"), text("password"), next, client};
}

std::optional<std::string> RequestGate::check_password(const PasswordLogin& login) {
  auto record = users_.find(login.user);
  if (!record) {
    log()->error("web users: {}", record.error().message);
    return std::nullopt;
  }
  if (!*record) {
    // Same work for an unknown name, so timing does not tell which names exist.
    PasswordRecord dummy;
    dummy.iterations = config_.unknown_user_iterations;
    dummy.salt_hex = std::string(32, '0');
    dummy.hash_hex = std::string(64, '0');
    verify_password(login.password, dummy);
    return std::nullopt;
  }
  if (!verify_password(login.password, **record)) return std::nullopt;
  return password_version(**record);
}

Reply RequestGate::finish_login(const PasswordLogin& login, const std::optional<std::string>& version,
                                std::int64_t now_ms) {
  if (!version) return refused(login.user, login.client);
  throttle_.succeeded(login.client);
  return open_session(login.user, *version, login.next, login.client, now_ms);
}

Reply RequestGate::refused(const std::string& user, const std::string& client) {
  log()->warn("web login refused for \"{}\" from {}", printable_user(user), client);
  return error_reply(401, "wrong user name, password or token");
}

Reply RequestGate::open_session(const std::string& user, const std::string& version, const std::string& next,
                                const std::string& client, std::int64_t now_ms) {
  const std::string id = sessions_.create(user, version, now_ms);
  auto session = sessions_.peek(id, now_ms);
  log()->info("web login: {} from {}", user, client);
  Reply r = json_reply(200, {{"user", user}, {"csrf", session ? session->csrf : ""}, {"next", next}});
  r.headers.emplace_back("Set-Cookie",
                         std::string(kSessionCookie) + "=" + id + "; Path=/; Secure; HttpOnly; SameSite=Strict");
  return r;
}

}  // namespace capf::web
