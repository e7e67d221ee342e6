// Control mode: phones wait until the engine triggers them over HTTP, as real phones wait for
// "Apply Config". The HTTP side is Boost.Beast on loopback; the sessions are run_fleet's.
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

// clang-format off
#include "phone.hpp"  // first: it brings Asio in through capf/net/asio.hpp, before Beast
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on
#include <nlohmann/json.hpp>

#include "capf/net/host_port.hpp"
#include "capf/util/files.hpp"
#include "capf/util/text.hpp"

namespace capf::sim {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

/// Parses a loopback HOST:PORT ("127.0.0.1:0", "[::1]:8080", "localhost:0").
Result<net::tcp::endpoint> loopback_endpoint(const std::string& listen) {
  auto endpoint = net::parse_listen_endpoint(listen, "--control");
  if (!endpoint) return endpoint.error();
  if (!endpoint->address().is_loopback())
    return make_error(Errc::invalid_argument, "--control refuses " + endpoint->address().to_string() +
                                                  ": the trigger endpoint is loopback only");
  return endpoint;
}

/// A JSON answer.
struct Reply {
  http::status status = http::status::ok;
  nlohmann::json body;
  bool retry_after = false;
};

class ControlServer {
 public:
  ControlServer(const SimOptions& options, const std::vector<PhoneProfile>& phones, const ControlOptions& control)
      : options_(options),
        phones_(phones),
        control_(control),
        in_session_(phones.size()),
        queued_(phones.size()),
        again_(phones.size()),
        rng_(control.seed),
        key_pool_(options.key_threads ? options.key_threads : 1),
        acceptor_(io_),
        signals_(io_, SIGINT, SIGTERM),
        idle_timer_(io_) {
    for (std::size_t i = 0; i < phones.size(); ++i) index_.emplace(phones[i].name, i);
  }

  Result<Summary> run() {
    auto endpoint = loopback_endpoint(control_.listen);
    if (!endpoint) return endpoint.error();
    auto setup = prepare_fleet(options_, io_);
    if (!setup) return setup.error();
    setup_ = std::move(*setup);
    ctx_ = std::make_unique<FleetContext>(
        FleetContext{options_, *setup_.tls, key_pool_, setup_.trust, setup_.server, setup_.source});
    boot_outcomes_.resize(phones_.size());
    flashes_ = boot(options_, phones_, boot_outcomes_);

    boost::system::error_code ec;
    acceptor_.open(endpoint->protocol(), ec);
    if (!ec) acceptor_.set_option(net::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(*endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(Errc::unavailable, "cannot listen on " + control_.listen + ": " + ec.message());
    const unsigned short port = acceptor_.local_endpoint().port();
    if (!control_.port_file.empty()) {
      const nlohmann::json port_json{{"port", port}};
      if (auto w = util::write_file_atomic(control_.port_file, port_json.dump() + "\n", 0644); !w) return w.error();
    }
    if (control_.on_listening) control_.on_listening(port);

    last_end_ = Clock::now();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) stop();
    });
    asio::co_spawn(asio::make_strand(io_), accept_loop(), asio::detached);
    if (control_.idle_exit_seconds > 0) asio::co_spawn(asio::make_strand(io_), idle_watch(), asio::detached);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) threads.emplace_back([this] { io_.run(); });
    for (auto& t : threads) t.join();
    key_pool_.stop();
    key_pool_.join();

    std::lock_guard lock(mutex_);
    const double elapsed = first_start_ ? std::chrono::duration<double>(last_end_ - *first_start_).count() : 0.0;
    return summarize(outcomes_, elapsed > 0 ? elapsed : 0.0);
  }

 private:
  /// Thread-safe: the acceptor, timer and signals are closed by their destructors once
  /// io_.run() has returned on every thread. Sessions still running at a signal are
  /// abandoned, as phones losing power.
  void stop() { io_.stop(); }

  net::awaitable<void> idle_watch() {
    for (;;) {
      idle_timer_.expires_after(std::chrono::milliseconds(100));
      boost::system::error_code ec;
      co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::lock_guard lock(mutex_);
      const auto idle = std::chrono::duration<double>(Clock::now() - last_end_).count();
      if (in_flight_ == 0 && waiting_.empty() && idle >= control_.idle_exit_seconds) {
        stop();
        co_return;
      }
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      net::tcp::socket socket(asio::make_strand(io_));
      boost::system::error_code ec;
      co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      if (ec) continue;
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }

  net::awaitable<void> serve(net::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      stream.expires_after(std::chrono::seconds(30));
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;  // closed, timed out or not HTTP: nothing to answer
      const auto req = parser.release();
      const Reply reply = handle(req);
      http::response<http::string_body> res{reply.status, req.version()};
      res.set(http::field::content_type, "application/json");
      if (reply.retry_after) res.set(http::field::retry_after, "1");
      res.keep_alive(req.keep_alive());
      res.body() = reply.body.dump() + "\n";
      res.prepare_payload();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) co_return;
    }
  }

  Reply handle(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    constexpr std::string_view kTrigger = "/trigger/";
    if (target.substr(0, kTrigger.size()) == kTrigger) {
      if (req.method() != http::verb::post) return {http::status::method_not_allowed, {{"error", "use POST"}}};
      return trigger(util::percent_decode(target.substr(kTrigger.size())));
    }
    if (target == "/status") {
      if (req.method() != http::verb::get) return {http::status::method_not_allowed, {{"error", "use GET"}}};
      std::lock_guard lock(mutex_);
      std::map<std::string, std::size_t> by_result;
      for (const auto& o : outcomes_) ++by_result[result_key(o)];
      return {http::status::ok,
              {{"phones", phones_.size()},
               {"sessions", started_},
               {"in_session", in_flight_},
               {"queued", waiting_.size()},
               {"by_result", by_result}}};
    }
    return {http::status::not_found, {{"error", "no such endpoint; use POST /trigger/{device} or GET /status"}}};
  }

  Reply trigger(const std::string& device) {
    const auto it = index_.find(device);
    if (it == index_.end()) return {http::status::not_found, {{"error", "unknown phone " + device}}};
    const std::size_t i = it->second;
    if (!flashes_[i]) return {http::status::internal_server_error, {{"error", boot_outcomes_[i].detail}}};
    std::vector<std::size_t> start;
    {
      std::lock_guard lock(mutex_);
      if (control_.fail_percent > 0 && std::uniform_real_distribution<double>(0, 100)(rng_) < control_.fail_percent)
        return {http::status::service_unavailable, {{"error", "injected failure"}}, true};
      if (in_session_[i]) {
        again_[i] = true;  // one more session after the current one
      } else if (!queued_[i]) {
        queued_[i] = true;
        waiting_.push_back(i);
      }
      start = take_startable();
    }
    spawn(start);
    return {http::status::accepted, {{"accepted", device}}};
  }

  /// Under the lock: moves waiting phones into sessions while the concurrency limit allows.
  std::vector<std::size_t> take_startable() {
    std::vector<std::size_t> start;
    while (in_flight_ < std::max<std::size_t>(1, options_.concurrency) && !waiting_.empty()) {
      const std::size_t i = waiting_.front();
      waiting_.pop_front();
      queued_[i] = false;
      in_session_[i] = true;
      ++in_flight_;
      ++started_;
      if (!first_start_) first_start_ = Clock::now();
      start.push_back(i);
    }
    return start;
  }

  void spawn(const std::vector<std::size_t>& start) {
    for (std::size_t i : start) asio::co_spawn(asio::make_strand(io_), session(i), asio::detached);
  }

  net::awaitable<void> session(std::size_t i) {
    Outcome outcome = co_await run_and_save(*ctx_, phones_[i], *flashes_[i]);
    std::vector<std::size_t> start;
    {
      std::lock_guard lock(mutex_);
      outcomes_.push_back(std::move(outcome));
      --in_flight_;
      in_session_[i] = false;
      last_end_ = Clock::now();
      if (again_[i]) {
        again_[i] = false;
        queued_[i] = true;
        waiting_.push_back(i);
      }
      start = take_startable();
    }
    spawn(start);
  }

  const SimOptions& options_;
  const std::vector<PhoneProfile>& phones_;
  const ControlOptions& control_;
  FleetSetup setup_;
  std::vector<Outcome> boot_outcomes_;
  std::vector<std::optional<PhoneFlash>> flashes_;
  std::unique_ptr<FleetContext> ctx_;
  std::map<std::string, std::size_t> index_;

  std::mutex mutex_;  // guards everything down to rng_
  std::vector<bool> in_session_, queued_, again_;
  std::deque<std::size_t> waiting_;
  std::size_t in_flight_ = 0;
  std::size_t started_ = 0;
  std::vector<Outcome> outcomes_;
  Clock::time_point last_end_{};
  std::optional<Clock::time_point> first_start_;
  std::mt19937_64 rng_;

  // Declared after everything a coroutine frame points to: frames abandoned by stop() are
  // destroyed with the io_context, while what they reference still exists. The key pool goes
  // before the io_context, as its abandoned handlers hold work on it.
  asio::io_context io_;
  asio::thread_pool key_pool_;
  net::tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer idle_timer_;
};

}  // namespace

Result<Summary> run_controlled(const SimOptions& options, const std::vector<PhoneProfile>& phones,
                               const ControlOptions& control) {
  ControlServer server(options, phones, control);
  return server.run();
}

}  // namespace capf::sim
