// The dashboard's HTTPS server: one coroutine per connection on a strand; the admin API on the
// worker pool, password checks on a pool of their own; what each request may do is decided by
// the RequestGate.
#include "capf/web/web_server.hpp"

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "capf/crypto/tls.hpp"
#include "capf/net/connection_caps.hpp"
#include "capf/net/host_port.hpp"
#include "capf/net/message_io.hpp"
#include "capf/net/spawn.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "capf/web/request_gate.hpp"

namespace capf::web {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

namespace {

const util::ModuleLogger log{"web"};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct WebServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, asio::thread_pool& workers, admin::AdminService& service, WebConfig config)
      : io(io),
        workers(workers),
        service(service),
        config(std::move(config)),
        sessions(this->config.session_idle),
        users(this->config.users_path),
        caps(this->config.max_connections, this->config.max_connections_per_address),
        passwords(std::max(1u, this->config.password_threads)) {}

  asio::io_context& io;
  asio::thread_pool& workers;
  admin::AdminService& service;
  WebConfig config;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  tcp::endpoint bound;
  SessionTable sessions;
  UserDirectory users;
  LoginThrottle throttle;
  std::unique_ptr<RequestGate> gate;  ///< made in start(), once the bound port is known
  net::ConnectionCaps caps;
  asio::thread_pool passwords;
  std::atomic<int> pending_logins{0};
  std::atomic<bool> stopping{false};

  void start() {
    if (auto r =
            crypto::configure_server_tls(tls.native_handle(), config.cert_pem, config.key_pem, crypto::TlsLegacy::no);
        !r)
      throw std::runtime_error("web dashboard TLS: " + r.error().message);
    const auto parsed = net::parse_listen_endpoint(config.listen, "--web");
    if (!parsed) throw std::invalid_argument(parsed.error().message);
    const tcp::endpoint ep = *parsed;
    acceptor = std::make_unique<tcp::acceptor>(io);
    boost::system::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen for the web dashboard on " + config.listen + ": " + ec.message());
    bound = acceptor->local_endpoint();
    GateConfig gc;
    gc.host_names = {"localhost", "127.0.0.1", "[::1]"};
    const auto a = bound.address();
    if (!a.is_unspecified()) gc.host_names.push_back(net::url_host(a));
    for (const auto& n : config.host_names) gc.host_names.push_back(n);
    gc.port = bound.port();
    gc.admin_token = config.admin_token;
    gate = std::make_unique<RequestGate>(std::move(gc), sessions, users, throttle);
    net::spawn(io.get_executor(), accept_loop(shared_from_this()), "web", "the dashboard's accept loop");
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
      const auto remote = socket.remote_endpoint(ec);
      const std::string client = ec ? "?" : remote.address().to_string();
      auto slot = caps.admit(client);
      if (!slot) {
        log()->debug("dashboard connection from {} closed: {}", client,
                     slot.refusal() == net::ConnectionCaps::Refusal::total ? "too many connections"
                                                                           : "too many connections from that address");
        socket.close(ec);
        continue;
      }
      auto executor = socket.get_executor();
      net::spawn(executor, serve(self, std::move(socket), client, std::move(slot)), "web", "a dashboard connection");
    }
  }

  net::awaitable<void> serve(std::shared_ptr<Impl> self, tcp::socket socket, std::string client,
                             net::ConnectionCaps::Slot slot) {
    boost::system::error_code ec;
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
      // Beast would refuse a large Content-Length while reading the header, before the gate
      // could answer it: the limit is set once the header is known.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(120));
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      // The body limit depends on the session, and is applied before any byte of the body is read.
      auto admitted = gate->admit_header(parser.get(), content_length(parser), now_ms());
      if (auto* refusal = std::get_if<Reply>(&admitted)) {
        co_await answer(stream, parser.get(), std::move(*refusal));
        co_await linger(stream);
        co_return;
      }
      const std::size_t limit = std::get<std::size_t>(admitted);
      parser.body_limit(limit);
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {
        Reply too_large = error_reply(413, "request body refused: more than " + std::to_string(limit / 1024) + " KiB");
        too_large.close = true;
        co_await answer(stream, parser.get(), std::move(too_large));
        co_await linger(stream);
        co_return;
      }
      if (ec) break;
      auto req = parser.release();
      Route route = gate->route(req, client, now_ms());
      if (auto* events = std::get_if<EventStream>(&route)) {
        beast::get_lowest_layer(stream).expires_never();
        co_await stream_events(stream, req.target(), *events);
        co_return;  // the stream ends with the connection
      }
      Reply reply = co_await resolve_contained(route, req);
      if (!co_await answer(stream, req, std::move(reply))) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  /// The reply of a route that needs blocking work: the admin API on the workers, a password
  /// check on the password pool.
  net::awaitable<Reply> resolve(Route& route) {
    if (auto* call = std::get_if<AdminCall>(&route)) {
      admin::Request r{call->method, call->target, call->body, call->actor};
      // Captures by reference only: GCC 12 may destroy the by-value argument of run_blocking twice.
      auto run = [this, &r] { return service.handle(r); };
      auto answer = co_await net::run_blocking(workers.get_executor(), std::move(run));
      co_return json_reply(answer.status, answer.body);
    }
    if (auto* login = std::get_if<PasswordLogin>(&route)) {
      const std::shared_ptr<void> pending(nullptr, [this](void*) { --pending_logins; });
      if (pending_logins.fetch_add(1) >= config.max_pending_logins) {
        Reply busy = error_reply(503, "too many logins are being checked; try again in a few seconds");
        busy.headers.emplace_back("Retry-After", "5");
        co_return busy;
      }
      auto check = [this, login] { return gate->check_password(*login); };  // a pointer into this frame, as `run` above
      auto version = co_await net::run_blocking(passwords.get_executor(), std::move(check));
      co_return gate->finish_login(*login, version, now_ms());
    }
    co_return std::get<Reply>(std::move(route));
  }

  /// Ends a connection whose request was refused before its body was read. The client may still
  /// be sending that body: closing with unread bytes would reset the connection, and the client
  /// could lose the answer before reading it. So: no more writes, then the bytes that still come
  /// are read and dropped (at most 1 MiB, 5 s) until the client closes.
  static net::awaitable<void> linger(Stream& stream) {
    auto& tcp_stream = beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp_stream.expires_after(std::chrono::seconds(5));
    std::array<char, 16384> sink{};
    for (std::size_t dropped = 0; !ec && dropped < 1024 * 1024;)
      dropped += co_await tcp_stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }

  /// Writes `reply`; false when the connection is to end (asked for, or a write error).
  net::awaitable<bool> answer(Stream& stream, const HttpRequest& req, Reply reply) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    set_common_headers(res, reply.content_type);
    for (const auto& [k, v] : reply.headers) res.insert(k, v);
    res.keep_alive(req.keep_alive() && !reply.close);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && res.keep_alive();
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

  /// resolve(), but a request whose handling throws is answered 500 and logged; the connection
  /// and the dashboard go on.
  net::awaitable<Reply> resolve_contained(Route& route, const HttpRequest& req) {
    const std::string target(req.target().data(), req.target().size());
    const std::string path = target.substr(0, target.find('?'));
    std::exception_ptr failure;
    try {
      util::fault_point_for_test("web", path);
      co_return co_await resolve(route);
    } catch (...) {
      failure = std::current_exception();
    }
    util::report_contained(
        "web", "dashboard request " + std::string(req.method_string().data(), req.method_string().size()) + " " + path,
        failure);
    co_return error_reply(500, "internal error while answering " + path + " (the daemon log has the detail)");
  }

  /// Server-sent events: the job list (and one job when ?job=ID), sent when it changed, checked
  /// every event period; a comment line keeps idle connections open. Ends when the session is
  /// logged out or expires (the stream itself does not extend it).
  net::awaitable<void> stream_events(Stream& stream, beast::string_view target_view, const EventStream& events) {
    const std::string target(target_view);
    const WebSession& session = events.session;
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
    while (!stopping && gate->current_session(events.session_id, now_ms(), false)) {
      auto snapshot = [this, &job, &actor] {  // by reference: GCC 12 and co_await arguments
        nlohmann::json p;
        auto jobs = service.handle(admin::Request{"GET", "/v1/jobs", "", actor});
        p["jobs"] = jobs.status == 200 ? jobs.body["jobs"] : nlohmann::json::array();
        if (!job.empty()) {
          // With its per-minute chart and failure reasons, so the job page's chart grows live.
          auto one =
              service.handle(admin::Request{"GET", "/v1/jobs/" + admin::url_encode(job) + "?chart=1", "", actor});
          p["job"] = one.status == 200 ? one.body : nlohmann::json();
        }
        return p;
      };
      nlohmann::json payload = co_await net::run_blocking(workers.get_executor(), std::move(snapshot));
      std::string text = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // as json_reply
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

WebServer::~WebServer() {
  impl_->stop();
}

void WebServer::start() {
  impl_->start();
}
void WebServer::stop() {
  impl_->stop();
}
net::tcp::endpoint WebServer::endpoint() const {
  return impl_->bound;
}

std::string WebServer::url() const {
  const auto a = impl_->bound.address();
  const std::string host = a.is_unspecified() ? "localhost" : net::url_host(a);
  return "https://" + host + ":" + std::to_string(impl_->bound.port()) + "/";
}

}  // namespace capf::web
