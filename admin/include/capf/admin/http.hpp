// The admin API over HTTP/1.1 (Boost.Beast) on a Unix socket in the data directory (0600),
// refusing callers without the bearer token; and the client the CLI uses.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "capf/admin/admin_service.hpp"
#include "capf/net/asio.hpp"

namespace capf::admin {

/// Serves AdminService on a Unix socket.
class AdminServer {
 public:
  AdminServer(net::asio::io_context& io, net::asio::thread_pool& workers, AdminService& service,
              std::string socket_path, std::string token);
  ~AdminServer();
  /// Binds the socket (replacing a stale one) with mode 0600; throws on failure.
  void start();
  void stop();

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(net::asio::local::stream_protocol::socket socket);

  net::asio::io_context& io_;
  net::asio::thread_pool& workers_;
  AdminService& service_;
  std::string path_;
  std::string token_;
  std::unique_ptr<net::asio::local::stream_protocol::acceptor> acceptor_;
};

/// Sends one request to a running daemon. nullopt when nothing listens at `socket_path`
/// (the daemon is not running); an Error for other failures.
Result<std::optional<Response>> call_daemon(const std::string& socket_path, const std::string& token,
                                            const Request& request);

}  // namespace capf::admin
