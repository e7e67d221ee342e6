// The dashboard's HTTPS server: one coroutine per connection on a strand, blocking work
// (the admin API, password hashing) on the worker pool.
#include "capf/web/web_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <nlohmann/json.hpp>

#include "capf/crypto/crypto.hpp"
#include "capf/crypto/tls.hpp"
#include "capf/net/message_io.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"

namespace capf::web {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// "__Host-" makes the browser insist on Secure, Path=/ and no Domain attribute.
constexpr const char* kCookie = "__Host-capf_session";
constexpr const char* kCsrfHeader = "X-CSRF-Token";
constexpr std::size_t kBodyLimit = 64 * 1024 * 1024;  // CSV uploads of large sites

auto log() {
  static auto l = util::logger("web");
  return l;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// What one request is answered with.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Peer text (a Host header, a path) may be any bytes: invalid UTF-8 is replaced, never thrown
// out of the connection's coroutine.
std::string dump_peer_safe(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
Reply json_reply(int status, const nlohmann::json& body) { return {status, "application/json", dump_peer_safe(body), {}}; }
Reply error_reply(int status, const std::string& message) { return json_reply(status, {{"error", message}}); }

const Asset* find_asset(std::string_view path) {
  for (const auto& a : assets())
    if (a.path == path) return &a;
  return nullptr;
}

// Pages and files a browser may fetch before logging in.
bool public_path(std::string_view path) {
  return path == "/login" || path == "/login.html" || path == "/login.js" || path == "/app.css" || path == "/favicon.svg";
}

std::string sv(beast::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace

net::tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("\"" + listen + "\" is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  auto port = util::parse_int(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) throw std::invalid_argument("\"" + listen + "\": bad port");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("\"" + listen + "\": \"" + host + "\" is not an IP address");
  return {address, static_cast<unsigned short>(*port)};
}

struct WebServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, asio::thread_pool& workers, admin::AdminService& service, WebConfig config)
      : io(io), workers(workers), service(service), config(std::move(config)), sessions(this->config.session_idle) {}

  asio::io_context& io;
  asio::thread_pool& workers;
  admin::AdminService& service;
  WebConfig config;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  tcp::endpoint bound;
  std::vector<std::string> host_names;
  SessionTable sessions;
  LoginThrottle throttle;
  std::atomic<bool> stopping{false};

  void start() {
    if (auto r = crypto::configure_server_tls(tls.native_handle(), config.cert_pem, config.key_pem, crypto::TlsLegacy::no); !r)
      throw std::runtime_error("web dashboard TLS: " + r.error().message);
    const auto ep = parse_listen(config.listen);
    acceptor = std::make_unique<tcp::acceptor>(io);
    boost::system::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen for the web dashboard on " + config.listen + ": " + ec.message());
    bound = acceptor->local_endpoint();
    host_names = {"localhost", "127.0.0.1", "[::1]"};
    const auto a = bound.address();
    if (!a.is_unspecified()) host_names.push_back(a.is_v6() ? "[" + a.to_string() + "]" : a.to_string());
    for (const auto& n : config.host_names) host_names.push_back(n);
    asio::co_spawn(io, accept_loop(shared_from_this()), asio::detached);
  }

  void stop() {
    stopping = true;
    boost::system::error_code ignored;
    if (acceptor) acceptor->close(ignored);
  }

  net::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(asio::make_strand(io));
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) continue;
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(self, std::move(socket)), asio::detached);
    }
  }

  net::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string client = ec ? "?" : remote.address().to_string();
    Stream stream(std::move(socket), tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(15));
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      log()->debug("TLS handshake from {} failed: {}", client, ec.message());
      co_return;
    }
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(120));
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      auto req = parser.release();
      const std::string target = sv(req.target());
      const std::string path = target.substr(0, target.find('?'));
      if (req.method() == http::verb::get && path == "/api/events") {
        auto session = authorize_stream(req);
        if (session) {
          beast::get_lowest_layer(stream).expires_never();
          const std::string id = cookie_value(sv(req[http::field::cookie]), kCookie);
          co_await stream_events(stream, target, id, *session);
          co_return;  // the stream ends with the connection
        }
      }
      Reply reply = co_await handle(req, target, path, client);
      http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
      set_common_headers(res, reply.content_type);
      for (const auto& [k, v] : reply.headers) res.insert(k, v);
      res.keep_alive(req.keep_alive());
      res.body() = std::move(reply.body);
      res.prepare_payload();
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  template <class Message>
  static void set_common_headers(Message& res, const std::string& content_type) {
    res.set(http::field::server, "capf");
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "same-origin");
    res.set("Cross-Origin-Opener-Policy", "same-origin");
    res.set("Cross-Origin-Resource-Policy", "same-origin");
  }

  std::optional<WebSession> session_of(const http::request<http::string_body>& req) {
    const std::string cookie = cookie_value(sv(req[http::field::cookie]), kCookie);
    if (cookie.empty()) return std::nullopt;
    return sessions.find(cookie, now_ms());
  }

  std::optional<WebSession> authorize_stream(const http::request<http::string_body>& req) {
    if (!host_allowed(sv(req[http::field::host]), host_names, bound.port())) return std::nullopt;
    return session_of(req);
  }

  net::awaitable<Reply> handle(const http::request<http::string_body>& req, const std::string& target,
                               const std::string& path, const std::string& client) {
    const std::string host = sv(req[http::field::host]);
    if (!host_allowed(host, host_names, bound.port()))
      co_return error_reply(421, "this dashboard does not answer for Host \"" + host + "\"");
    const auto method = req.method();
    if (method != http::verb::get && method != http::verb::post) co_return error_reply(405, "only GET and POST are served");
    const bool changes_state = method == http::verb::post;
    if (changes_state) {
      if (!same_origin(sv(req[http::field::origin]), sv(req[http::field::referer]), host)) {
        log()->warn("refused {} {} from {}: cross-site (Origin \"{}\")", sv(req.method_string()), path, client,
                    sv(req[http::field::origin]));
        co_return error_reply(403, "cross-site request refused: Origin/Referer is not this dashboard");
      }
      const std::string type = sv(req[http::field::content_type]);
      if (type.rfind("application/json", 0) != 0) co_return error_reply(415, "state-changing requests take application/json");
    }
    if (path == "/login" && changes_state) co_return co_await login(req, client);
    if (method == http::verb::get && public_path(path)) co_return static_asset(path == "/login" ? "/login.html" : path);

    auto session = session_of(req);
    if (!session) {
      if (path.rfind("/api/", 0) == 0 || changes_state) co_return error_reply(401, "log in first");
      Reply r{303, "text/plain; charset=utf-8", "log in first\n", {{"Location", "/login"}}};
      co_return r;
    }
    if (changes_state) {
      const std::string csrf = sv(req[kCsrfHeader]);
      if (csrf.empty() || !crypto::constant_time_equal(csrf, session->csrf)) {
        log()->warn("refused POST {} from {} ({}): missing or wrong CSRF token", path, client, session->user);
        co_return error_reply(403, "missing or wrong CSRF token");
      }
    }
    if (path == "/api/session" && method == http::verb::get)
      co_return json_reply(200, {{"user", session->user}, {"csrf", session->csrf}});
    if (path == "/logout" && changes_state) {
      sessions.remove(cookie_value(sv(req[http::field::cookie]), kCookie));
      Reply r = json_reply(200, {{"logged_out", true}});
      r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
      co_return r;
    }
    if (path.rfind("/api/v1/", 0) == 0) {
      admin::Request r{changes_state ? "POST" : "GET", target.substr(4), req.body(), "web:" + session->user};
      // Captures by reference only: GCC 12 may destroy the by-value argument of run_blocking twice.
      auto call = [this, &r] { return service.handle(r); };
      auto answer = co_await net::run_blocking(workers.get_executor(), std::move(call));
      co_return json_reply(answer.status, answer.body);
    }
    if (path.rfind("/api/", 0) == 0) co_return error_reply(404, "no such dashboard API route: " + path);
    if (method != http::verb::get) co_return error_reply(404, "nothing to POST at " + path);
    co_return static_asset(path == "/" ? "/index.html" : path);
  }

  Reply static_asset(const std::string& path) {
    const Asset* a = find_asset(path);
    if (a == nullptr) a = find_asset(path + ".html");
    if (a == nullptr) return {404, "text/plain; charset=utf-8", "no such page: " + path + "\n", {}};
    return {200, std::string(a->content_type), std::string(a->data), {}};
  }

  net::awaitable<Reply> login(const http::request<http::string_body>& req, const std::string& client) {
    if (!throttle.allowed(client, now_ms())) co_return error_reply(429, "too many failed logins from this address; try again later");
    const auto body = nlohmann::json::parse(req.body(), nullptr, false);
    if (!body.is_object()) co_return error_reply(400, "login takes {\"user\", \"password\"} or {\"token\"}");
    std::string user;
    bool ok = false;
    if (body.contains("token") && body["token"].is_string()) {
      const std::string token = body["token"].get<std::string>();
      user = "admin";
      ok = !config.admin_token.empty() && crypto::constant_time_equal(token, config.admin_token);
    } else {
      user = body.value("user", "");
      const std::string password = body.value("password", "");
      const std::string path = config.users_path;
      auto check = [&user, &password, &path] {  // by reference: see `call` above
        auto users = load_users(path);
        if (!users) {
          log()->error("web users: {}", users.error().message);
          return false;
        }
        auto it = users->find(user);
        if (it == users->end()) {
          // Same work for an unknown name, so timing does not tell which names exist.
          PasswordRecord dummy;
          dummy.salt_hex = std::string(32, '0');
          dummy.hash_hex = std::string(64, '0');
          verify_password(password, dummy);
          return false;
        }
        return verify_password(password, it->second);
      };
      ok = co_await net::run_blocking(workers.get_executor(), std::move(check));
    }
    if (!ok) {
      throttle.failed(client, now_ms());
      log()->warn("web login refused for \"{}\" from {}", valid_user_name(user) ? user : "(bad name)", client);
      co_return error_reply(401, "wrong user name, password or token");
    }
    throttle.succeeded(client);
    const std::string id = sessions.create(user, now_ms());
    auto session = sessions.find(id, now_ms());
    log()->info("web login: {} from {}", user, client);
    Reply r = json_reply(200, {{"user", user}, {"csrf", session ? session->csrf : ""}});
    r.headers.emplace_back("Set-Cookie", std::string(kCookie) + "=" + id + "; Path=/; Secure; HttpOnly; SameSite=Strict");
    co_return r;
  }

  /// Server-sent events: the job list (and one job when ?job=ID), sent when it changed, checked
  /// every event period; a comment line keeps idle connections open. Ends when the session is
  /// logged out or expires (the stream itself does not extend it).
  net::awaitable<void> stream_events(Stream& stream, const std::string& target, const std::string& session_id,
                                     const WebSession& session) {
    const auto qpos = target.find('?');
    const std::string job = admin::query_param(qpos == std::string::npos ? "" : target.substr(qpos + 1), "job");
    http::response<http::empty_body> res{http::status::ok, 11};
    set_common_headers(res, "text/event-stream");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    boost::system::error_code ec;
    co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const std::string actor = "web:" + session.user;
    std::string last;
    int quiet = 0;
    asio::steady_timer timer(stream.get_executor());
      while (!stopping && sessions.valid(session_id, now_ms())) {
      auto snapshot = [this, &job, &actor] {  // by reference: GCC 12 and co_await arguments
        nlohmann::json p;
        auto jobs = service.handle(admin::Request{"GET", "/v1/jobs", "", actor});
        p["jobs"] = jobs.status == 200 ? jobs.body["jobs"] : nlohmann::json::array();
        if (!job.empty()) {
          // With its per-minute chart and failure reasons, so the job page's chart grows live.
          auto one = service.handle(admin::Request{"GET", "/v1/jobs/" + admin::url_encode(job) + "?chart=1", "", actor});
          p["job"] = one.status == 200 ? one.body : nlohmann::json();
        }
        return p;
      };
      nlohmann::json payload = co_await net::run_blocking(workers.get_executor(), std::move(snapshot));
      std::string text = dump_peer_safe(payload);
      std::string frame;
      if (text != last) {
        frame = "event: jobs\ndata: " + text + "\n\n";
        last = std::move(text);
        quiet = 0;
      } else if (++quiet >= 15) {
        frame = ": still here\n\n";
        quiet = 0;
      }
      if (!frame.empty()) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
        auto buffer = asio::buffer(frame);
        co_await asio::async_write(stream, buffer, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        beast::get_lowest_layer(stream).expires_never();
      }
      timer.expires_after(config.event_period);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

WebServer::WebServer(asio::io_context& io, asio::thread_pool& workers, admin::AdminService& service, WebConfig config)
    : impl_(std::make_shared<Impl>(io, workers, service, std::move(config))) {}

WebServer::~WebServer() { impl_->stop(); }

void WebServer::start() { impl_->start(); }
void WebServer::stop() { impl_->stop(); }
net::tcp::endpoint WebServer::endpoint() const { return impl_->bound; }

std::string WebServer::url() const {
  const auto a = impl_->bound.address();
  std::string host = a.is_unspecified() ? "localhost" : a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return "https://" + host + ":" + std::to_string(impl_->bound.port()) + "/";
}

}  // namespace capf::web
