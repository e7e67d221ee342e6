// Idle phone sessions held open: a real `capf serve`, N TLS connections from this process that
// each read the daemon's AUTH_REQUEST and then stay silent, the daemon's resident memory.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <utility>

#include "capf/bench/bench.hpp"
#include "capf/net/asio.hpp"  // Boost.Asio, with the <utility> Boost 1.74 forgets
#include "capf/util/open_files.hpp"
#include "serve_child.hpp"

namespace capf::bench {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// The silent phones: connect, TLS handshake, read AUTH_REQUEST, then wait for anything more
/// (which would mean the daemon closed the session).
class IdlePhones {
 public:
  IdlePhones(int port, const std::string& ca_pem, std::size_t n, std::size_t at_once)
      : ctx_(asio::ssl::context::tls_client),
        ep_(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
        n_(n),
        at_once_(at_once) {
    ctx_.set_verify_mode(asio::ssl::verify_peer);
    ctx_.add_certificate_authority(asio::buffer(ca_pem));
    phones_.resize(n);
  }
  /// Starts the I/O thread; connections open at most `at_once` at a time.
  void start() {
    asio::co_spawn(io_, launch(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  /// Stops the I/O thread and closes every connection.
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
    phones_.clear();
  }
  ~IdlePhones() { stop(); }
  std::size_t established() const { return established_; }
  std::size_t failed() const { return failed_; }
  std::size_t closed_early() const { return closed_early_; }
  std::size_t finished() const { return established_ + failed_; }
  std::string first_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_error_;
  }

 private:
  struct Phone {
    explicit Phone(asio::io_context& io, asio::ssl::context& ctx) : stream(io, ctx) {}
    asio::ssl::stream<tcp::socket> stream;
    std::array<char, 256> buffer{};
  };

  asio::awaitable<void> launch() {
    asio::steady_timer timer(io_);
    for (std::size_t i = 0; i < n_; ++i) {
      while (i - finished() >= at_once_) {
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(asio::use_awaitable);
      }
      phones_[i] = std::make_unique<Phone>(io_, ctx_);
      asio::co_spawn(io_, one(*phones_[i]), asio::detached);
    }
  }

  void note(const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_error_.empty()) first_error_ = what;
  }

  asio::awaitable<void> one(Phone& p) {
    bool open = false;
    try {
      co_await p.stream.next_layer().async_connect(ep_, asio::use_awaitable);
      co_await p.stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      const std::size_t got = co_await p.stream.async_read_some(asio::buffer(p.buffer), asio::use_awaitable);
      if (got == 0) throw std::runtime_error("no AUTH_REQUEST");
      open = true;
      ++established_;
      // Idle: anything more from the daemon, or the end of the connection, ends the session early.
      const std::size_t more = co_await p.stream.async_read_some(asio::buffer(p.buffer), asio::use_awaitable);
      (void)more;
      ++closed_early_;
      note("the daemon spoke or closed an idle session");
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted) co_return;
      if (open) {
        ++closed_early_;
        note("idle session ended: " + e.code().message());
      } else {
        ++failed_;
        note("connection failed: " + e.code().message());
      }
    } catch (const std::exception& e) {
      ++failed_;
      note(e.what());
    }
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  tcp::endpoint ep_;
  std::size_t n_, at_once_;
  std::vector<std::unique_ptr<Phone>> phones_;
  std::atomic<std::size_t> established_{0}, failed_{0}, closed_early_{0};
  mutable std::mutex mutex_;
  std::string first_error_;
  std::thread thread_;
};

/// `capf_sessions_open N` from `capf metrics`, -1 when absent.
long sessions_open_metric(const std::string& binary, const std::string& data, const std::string& dir) {
  const std::string out = dir + "/metrics.out";
  if (run_process({binary, "metrics", "--data-dir", data}, out, dir + "/metrics.err") != 0) return -1;
  std::istringstream in(slurp(out));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("capf_sessions_open ", 0) == 0) return std::stol(line.substr(19));
  return -1;
}

}  // namespace

IdleResult bench_idle(std::size_t sessions, double hold_seconds, const std::string& capf_binary) {
  IdleResult r;
  r.sessions = sessions;
  const std::uint64_t limit = util::raise_open_file_limit();
  if (limit < sessions + 64)
    throw std::runtime_error("the open-file limit is " + std::to_string(limit) + "; " + std::to_string(sessions) +
                             " sessions need at least " + std::to_string(sessions + 64) + " (ulimit -n)");
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string binary = capf_binary.empty() ? self_exe() : capf_binary;
  // Timeouts longer than the run, so that only a fault can end a session while it is held.
  Daemon daemon(
      binary, data,
      {"--step-timeout", "900", "--handshake-timeout", "300", "--max-sessions", std::to_string(sessions + 100)},
      dir.path() + "/serve.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r.rss_before_kib = daemon.status_kib("VmRSS");

  IdlePhones phones(daemon.port(), slurp(data + "/ca/capf-ca.pem"), sessions, 64);
  const double start = now_seconds();
  phones.start();
  const double give_up = start + 120;
  while (phones.finished() < sessions && now_seconds() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r.open_seconds = now_seconds() - start;
  // Held: the daemon's memory sampled over the hold, its own count of open sessions at the end.
  const double hold_until = now_seconds() + hold_seconds;
  while (now_seconds() < hold_until) {
    r.rss_kib = std::max(r.rss_kib, daemon.status_kib("VmRSS"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  r.rss_kib = std::max(r.rss_kib, daemon.status_kib("VmRSS"));
  r.hwm_kib = daemon.status_kib("VmHWM");
  r.daemon_sessions_open = sessions_open_metric(binary, data, dir.path());
  r.established = phones.established();
  r.failed = phones.failed() + (sessions - phones.finished());
  r.closed_early = phones.closed_early();
  r.first_error = phones.first_error();
  r.held_seconds = hold_seconds;
  phones.stop();
  daemon.stop();
  return r;
}

}  // namespace capf::bench
