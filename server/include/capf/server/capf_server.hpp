// The CAPF protocol listener: TLS on port 3804 (dual stack), one session per connection on its
// own strand, every step under a timeout.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "capf/net/asio.hpp"
#include "capf/net/connection_caps.hpp"
#include "capf/server/config.hpp"
#include "capf/server/enrollment.hpp"

namespace capf::server {

/// Counters shown in logs and summaries.
struct ServerStats {
  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> sessions_open{0};
  std::atomic<std::uint64_t> sessions_rejected{0};
  std::atomic<std::uint64_t> sessions_rejected_per_address{0};  ///< closed: their address had its cap of sessions open
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> lscs_issued{0};
  std::atomic<std::uint64_t> enrollments{0};  ///< LSCs the phone confirmed storing
  // Sessions that ended without success, by reason (the bounded label set of
  // capf_session_failures_total; malformed messages are `protocol_errors`).
  std::atomic<std::uint64_t> fail_timeout{0};         ///< a step's timeout passed
  std::atomic<std::uint64_t> fail_keep_alive{0};      ///< the phone was silent past the keep-alive
  std::atomic<std::uint64_t> fail_phone_abort{0};     ///< the phone ended the session itself (END_SESSION, user abort)
  std::atomic<std::uint64_t> fail_connection{0};      ///< the peer closed or reset the connection
  std::atomic<std::uint64_t> fail_refused{0};         ///< END 7: authentication or checks refused
  std::atomic<std::uint64_t> fail_unknown_device{0};  ///< END 9
  std::atomic<std::uint64_t> fail_keygen{0};          ///< the phone could not generate any key in the Key Order
  std::atomic<std::uint64_t> fail_issue{0};           ///< signing or recording the LSC failed
  std::atomic<std::uint64_t> fail_internal{0};
};

class GroupSync;

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
  /// Changes the live session settings (service parameters set while the daemon runs); new
  /// reads and new connections use them.
  void set_keep_alive(std::chrono::seconds v);
  void set_keygen_timeout(std::chrono::seconds v) { config_.keygen_timeout = v; }
  void set_session_limit(std::chrono::seconds v) { config_.session_limit = v; }
  void set_max_sessions_per_address(std::size_t n) { per_address_.set_per_address(n); }

 private:
  net::awaitable<void> accept_loop(net::tcp::acceptor& acceptor);
  void set_socket_options(net::tcp::acceptor& acceptor);

  net::asio::io_context& io_;
  net::asio::thread_pool& workers_;
  EnrollmentService& service_;
  ServerConfig config_;
  net::asio::ssl::context tls_;
  std::vector<std::unique_ptr<net::tcp::acceptor>> acceptors_;
  ServerStats stats_;
  net::ConnectionCaps per_address_;  ///< sessions open by client address
  std::atomic<std::uint32_t> next_session_id_{1};
  std::unique_ptr<GroupSync> sync_;  ///< the sessions' group commit (server/src/group_sync.hpp)
};

}  // namespace capf::server
