// The web dashboard: HTTPS (TLS 1.2+) with Boost.Beast, serving the pages built into the
// binary, a login (admin token or a user from DATA/web-users.json), the admin API itself under
// /api/v1/… (AdminService::handle: no second source of truth), and live job updates as
// server-sent events under /api/events.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capf/admin/admin_service.hpp"
#include "capf/net/asio.hpp"
#include "capf/web/assets.hpp"
#include "capf/web/auth.hpp"

namespace capf::web {

struct WebConfig {
  std::string listen = "127.0.0.1:8443";  ///< HOST:PORT (port 0 = any free port)
  std::string cert_pem;                   ///< server certificate (+ chain)
  std::string key_pem;
  std::string admin_token;                ///< the admin API's bearer token; also a login
  std::string users_path;                 ///< DATA/web-users.json
  std::vector<std::string> host_names;    ///< names the Host header may carry besides the listen address and localhost
  std::chrono::seconds session_idle{std::chrono::hours(8)};
  std::chrono::milliseconds event_period{1000};  ///< how often live updates are checked
  std::size_t max_connections = 256;             ///< open dashboard connections at once (0 = no cap)
  std::size_t max_connections_per_address = 32;  ///< of those, from one client address (0 = no cap)
  /// Threads of the dashboard's own password pool: PBKDF2 checks never run on the workers that
  /// sign LSCs, so a login flood cannot starve enrollments.
  unsigned password_threads = 1;
  /// Password logins waiting for or in a check at once; more are answered 503.
  int max_pending_logins = 32;
};

/// Serves the dashboard. start() binds or throws; stop() closes the listener and open streams.
/// Connections beyond the caps are closed at once; request bodies are limited before they are
/// read (request_gate.hpp).
class WebServer {
 public:
  WebServer(net::asio::io_context& io, net::asio::thread_pool& workers, admin::AdminService& service, WebConfig config);
  ~WebServer();
  void start();
  void stop();
  /// Where it listens (after start()).
  net::tcp::endpoint endpoint() const;
  /// "https://HOST:PORT/" for people (localhost for a loopback address).
  std::string url() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace capf::web
