#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "capf/admin/http.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/net/message_io.hpp"
#include "capf/net/spawn.hpp"
#include "capf/util/log.hpp"
#include "capf/util/user.hpp"

namespace capf::admin {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

namespace {
const util::ModuleLogger log{"admin"};

/// Compares the presented bearer token in constant time.
bool token_matches(std::string_view header, const std::string& token) {
  const std::string_view prefix = "Bearer ";
  if (header.substr(0, prefix.size()) != prefix) return false;
  return !token.empty() && crypto::constant_time_equal(header.substr(prefix.size()), token);
}
/// The user name of the process at the other end of the admin socket, for the audit trail.
std::string peer_actor(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "admin";
  return util::user_name(cred.uid);
}
}  // namespace

AdminServer::AdminServer(asio::io_context& io, asio::thread_pool& workers, AdminService& service,
                         std::string socket_path, std::string token)
    : io_(io), workers_(workers), service_(service), path_(std::move(socket_path)), token_(std::move(token)) {}

AdminServer::~AdminServer() = default;

void AdminServer::start() {
  ::unlink(path_.c_str());  // a socket left by a daemon that was killed
  acceptor_ = std::make_unique<local::acceptor>(io_);
  boost::system::error_code ec;
  acceptor_->open(local(), ec);
  if (!ec) acceptor_->bind(local::endpoint(path_), ec);
  if (!ec) ::chmod(path_.c_str(), 0600);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on admin socket " + path_ + ": " + ec.message());
  net::spawn(io_.get_executor(), accept_loop(), "admin", "the admin socket's accept loop");
}

void AdminServer::stop() {
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  ::unlink(path_.c_str());
}

net::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    local::socket socket(asio::make_strand(io_));
    co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) continue;
    auto ex = socket.get_executor();
    net::spawn(ex, serve(std::move(socket)), "admin", "an admin socket connection");
  }
}

net::awaitable<void> AdminServer::serve(local::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);  // CSV imports of large sites
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;  // peer closed or sent garbage: nothing to answer
    auto req = parser.release();
    Response response;
    auto auth = req[http::field::authorization];
    if (!token_matches(std::string_view(auth.data(), auth.size()), token_)) {
      response = {401, {{"error", "missing or wrong admin token"}}};
      log()->warn("refused admin request {} {}: bad token", std::string(req.method_string()),
                  std::string(req.target()));
    } else {
      Request r{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
                peer_actor(socket.native_handle())};
      response = co_await net::run_blocking(workers_.get_executor(), [&] { return service_.handle(r); });
      log()->debug("{} {} -> {}", r.method, r.target, response.status);
    }
    http::response<http::string_body> res{static_cast<http::status>(response.status), req.version()};
    res.keep_alive(req.keep_alive());
    if (response.content_type.empty()) {
      res.set(http::field::content_type, "application/json");
      res.body() = response.body.dump();
    } else {
      res.set(http::field::content_type, response.content_type);
      res.body() = std::move(response.text);
    }
    res.prepare_payload();
    co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

}  // namespace capf::admin
