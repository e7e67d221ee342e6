// A bare HTTPS client for the dashboard's limit tests: connects from a chosen loopback address
// (127.0.0.2 is "another client"), sends exactly the bytes it is given and reads one response,
// each step bounded by a deadline so a server that waits forever fails the test instead of
// hanging it.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"

namespace capf::it {

class RawHttps {
 public:
  /// Connects to 127.0.0.1:`port` from `from` and completes the TLS handshake (trusting
  /// `ca_pem`); connected() tells whether both worked.
  RawHttps(unsigned short port, const std::string& ca_pem, const std::string& from = "127.0.0.1",
           std::chrono::seconds deadline = std::chrono::seconds(30))
      : deadline_(deadline), tls_(net::asio::ssl::context::tls_client), stream_(io_, tls_) {
    if (!crypto::configure_client_tls(tls_.native_handle(), ca_pem, crypto::TlsLegacy::no).ok()) return;
    auto& socket = stream_.lowest_layer();
    boost::system::error_code ec;
    socket.open(net::tcp::v4(), ec);
    if (!ec) socket.bind({net::asio::ip::make_address(from), 0}, ec);
    if (ec) return;
    bool done = false;
    socket.async_connect({net::asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    if (!run(done) || ec) return;
    done = false;
    stream_.async_handshake(net::asio::ssl::stream_base::client, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    connected_ = run(done) && !ec;
  }

  bool connected() const { return connected_; }

  /// Writes `bytes` (whole); false on an error or past the deadline.
  bool send(const std::string& bytes) {
    boost::system::error_code ec;
    bool done = false;
    net::asio::async_write(stream_, net::asio::buffer(bytes), [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    return run(done) && !ec;
  }

  /// One response; nullopt when the connection ended (or the deadline passed) first.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> read() {
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::system::error_code ec;
    bool done = false;
    boost::beast::http::async_read(stream_, buffer_, res, [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    if (!run(done) || ec) return std::nullopt;
    return res;
  }

  /// True when the server ends the connection before the deadline, whatever it sends first.
  bool ends_before_deadline() {
    bool done = false;
    std::function<void(boost::system::error_code, std::size_t)> next = [&](boost::system::error_code e, std::size_t) {
      if (e) {
        done = true;
        return;
      }
      stream_.async_read_some(net::asio::buffer(scratch_), next);
    };
    stream_.async_read_some(net::asio::buffer(scratch_), next);
    return run(done);
  }

  /// True when the server ends the connection (EOF, reset or close_notify) before the deadline.
  bool closed_by_server() {
    char byte = 0;
    boost::system::error_code ec;
    bool done = false;
    stream_.async_read_some(net::asio::buffer(&byte, 1), [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    return run(done) && ec;
  }

 private:
  // Runs the pending operation until it completes or the deadline passes (then it is cancelled).
  bool run(bool& done) {
    io_.restart();
    io_.run_for(deadline_);
    if (done) return true;
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
    io_.restart();
    io_.run();
    return false;
  }

  std::chrono::seconds deadline_;
  net::asio::io_context io_;
  net::asio::ssl::context tls_;
  net::TlsStream stream_;
  boost::beast::flat_buffer buffer_;
  std::array<char, 4096> scratch_{};
  bool connected_ = false;
};

/// An HTTP/1.1 request as text, with Host and Content-Length (unless `headers` sets it).
inline std::string http_text(const std::string& method, const std::string& target, const std::string& host,
                             const std::string& headers = "", const std::string& body = "") {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers;
  if (headers.find("Content-Length") == std::string::npos && headers.find("Transfer-Encoding") == std::string::npos)
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

}  // namespace capf::it
