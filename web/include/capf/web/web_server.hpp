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
};

/// Parses "HOST:PORT" / "[V6]:PORT"; throws std::invalid_argument naming the problem.
net::tcp::endpoint parse_listen(const std::string& listen);

/// Serves the dashboard. start() binds or throws; stop() closes the listener and open streams.
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

/// A page or file built into the binary.
struct Asset {
  std::string_view path;          ///< "/index.html"
  std::string_view content_type;  ///< "text/html; charset=utf-8"
  std::string_view data;
};
/// Every asset (generated from web/assets/ at build time).
const std::vector<Asset>& assets();

}  // namespace capf::web
