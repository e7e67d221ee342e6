#include "capf/server/capf_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>

#include "capf/crypto/tls.hpp"
#include "capf/net/host_port.hpp"
#include "capf/net/spawn.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/log.hpp"
#include "session.hpp"

namespace capf::server {

namespace asio = net::asio;

namespace {
const util::ModuleLogger log{"capf"};
}  // namespace

// TCP_NODELAY and the keep-alive probes are set once on each listening socket: Linux copies a
// listener's socket into every connection it accepts (tcp_create_openreq_child), options and
// keep-alive timer included, so a phone's connection costs no option syscalls of its own.
void CapfServer::set_socket_options(net::tcp::acceptor& acceptor) {
  boost::system::error_code ec;
  acceptor.set_option(net::tcp::no_delay(true), ec);  // §11.5: no delayed-ACK stall per message
  // The seed's KeepAlive Timer: after each interval of silence the CAPF side sends a keep-alive
  // (TCP keep-alive probes: the CAPF protocol has none) so a firewall does not time the
  // connection out; a peer that answers none of 3 probes is gone and the connection fails.
  const auto interval = config_.keep_alive.get().count();
  acceptor.set_option(asio::socket_base::keep_alive(interval > 0), ec);
  if (interval <= 0) return;
  const int idle = static_cast<int>(interval);
  const int count = 3;
  const int fd = acceptor.native_handle();
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

void CapfServer::set_keep_alive(std::chrono::seconds v) {
  config_.keep_alive = v;
  for (auto& a : acceptors_) set_socket_options(*a);
}

CapfServer::CapfServer(asio::io_context& io, asio::thread_pool& workers, EnrollmentService& service,
                       const ServerConfig& config, const std::string& cert_pem, const std::string& key_pem)
    : io_(io),
      workers_(workers),
      service_(service),
      config_(config),
      tls_(asio::ssl::context::tls_server),
      per_address_(0, config.max_sessions_per_address),
      sync_(std::make_unique<GroupSync>(service)) {
  if (auto r = crypto::configure_server_tls(tls_.native_handle(), cert_pem, key_pem, config.tls_legacy); !r)
    throw std::runtime_error("TLS setup failed: " + r.error().message);
}

CapfServer::~CapfServer() = default;

void CapfServer::start() {
  for (const auto& text : config_.listen) {
    const auto parsed = net::parse_listen_endpoint(text, "--listen");
    if (!parsed) throw std::runtime_error(parsed.error().message);
    const net::tcp::endpoint& ep = *parsed;
    const auto address = ep.address();
    const auto port = ep.port();
    boost::system::error_code ec;
    auto acceptor = std::make_unique<net::tcp::acceptor>(io_);
    acceptor->open(ep.protocol(), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(false), ec);  // dual stack on [::]
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + text + ": " + ec.message());
    set_socket_options(*acceptor);
    log()->info("CAPF listening on {}", text == "[::]:0" || port == 0
                                            ? acceptor->local_endpoint().address().to_string() + ":" +
                                                  std::to_string(acceptor->local_endpoint().port())
                                            : text);
    acceptors_.push_back(std::move(acceptor));
  }
  for (auto& a : acceptors_) net::spawn(io_.get_executor(), accept_loop(*a), "session", "the CAPF accept loop");
}

void CapfServer::stop() {
  for (auto& a : acceptors_) {
    boost::system::error_code ignored;
    a->close(ignored);
  }
}

std::vector<net::tcp::endpoint> CapfServer::endpoints() const {
  std::vector<net::tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    boost::system::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

net::awaitable<void> CapfServer::accept_loop(net::tcp::acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    net::tcp::socket socket(asio::make_strand(io_));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and similar: say so and keep serving the phones already connected.
      log()->error("accept failed: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (stats_.sessions_open.load() >= config_.max_sessions) {
      ++stats_.sessions_rejected;
      socket.close(ec);
      continue;
    }
    const auto remote = socket.remote_endpoint(ec);
    const std::string address = ec ? "?" : remote.address().to_string();
    const std::string peer = ec ? "?" : address + ":" + std::to_string(remote.port());
    auto slot = per_address_.admit(address);
    if (!slot) {
      // Logged at the 1st, 2nd, 4th, 8th, … refusal, so a flood does not flood the log too.
      const auto n = ++stats_.sessions_rejected_per_address;
      if ((n & (n - 1)) == 0)
        log()->warn(
            "CAPF connection from {} closed: it has its maximum of sessions open (max-sessions-per-address); "
            "{} refused so far",
            address, n);
      socket.close(ec);
      continue;
    }
    // A failure to set up one connection costs that connection, never the accept loop.
    util::contain("session", "accepting a CAPF connection", [&] {
      util::fault_point_for_test("accept");
      const auto sid = next_session_id_++;
      auto session =
          std::make_shared<Session>(std::move(socket), peer, tls_, workers_, service_, *sync_, config_, stats_, sid);
      session->hold(std::move(slot));
      auto ex = session->executor();
      net::spawn(ex, Session::run(std::move(session)), "session", "CAPF session " + std::to_string(sid));
    });
  }
}

}  // namespace capf::server
