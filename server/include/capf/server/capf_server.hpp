// The CAPF protocol listener: TLS on port 3804 (dual stack), one session per connection on its
// own strand, every step under a timeout.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "capf/net/asio.hpp"
#include "capf/server/config.hpp"
#include "capf/server/enrollment.hpp"

namespace capf::server {

/// Counters shown in logs and summaries.
struct ServerStats {
  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> sessions_open{0};
  std::atomic<std::uint64_t> sessions_rejected{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> lscs_issued{0};
};

/// Accepts phones and runs their sessions.
class CapfServer {
 public:
  /// `cert_pem`/`key_pem` are the CAPF CA (TLS certificate of the port).
  CapfServer(net::asio::io_context& io, net::asio::thread_pool& workers, EnrollmentService& service,
             const ServerConfig& config, const std::string& cert_pem, const std::string& key_pem);
  ~CapfServer();

  /// Binds every listen address; throws std::runtime_error naming the address on failure.
  void start();
  /// Closes the listeners; running sessions finish on their own.
  void stop();
  /// The bound endpoints (port 0 resolved).
  std::vector<net::tcp::endpoint> endpoints() const;
  const ServerStats& stats() const { return stats_; }

 private:
  net::awaitable<void> accept_loop(net::tcp::acceptor& acceptor);

  net::asio::io_context& io_;
  net::asio::thread_pool& workers_;
  EnrollmentService& service_;
  ServerConfig config_;
  net::asio::ssl::context tls_;
  std::vector<std::unique_ptr<net::tcp::acceptor>> acceptors_;
  ServerStats stats_;
  std::atomic<std::uint32_t> next_session_id_{1};
};

}  // namespace capf::server
