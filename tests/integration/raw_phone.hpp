// A bare TLS client that speaks raw protocol bytes to the daemon: the malformed-message and
// bad-input tests play a broken or lying phone with it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"
#include "capf/protocol/messages.hpp"
#include "capf/protocol/wire.hpp"

namespace capf::it {

namespace asio = capf::net::asio;

/// A bare TLS client that speaks raw bytes to the daemon.
class RawPhone {
 public:
  RawPhone(int port, const std::string& ca_pem) : tls_(asio::ssl::context::tls_client), stream_(io_, tls_) {
    EXPECT_TRUE(capf::crypto::configure_client_tls(tls_.native_handle(), ca_pem, capf::crypto::TlsLegacy::no).ok());
    stream_.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    stream_.handshake(asio::ssl::stream_base::client);
  }
  /// Reads one whole message (throws on EOF).
  capf::protocol::Message read() {
    std::array<std::uint8_t, 8> h{};
    asio::read(stream_, asio::buffer(h));
    auto header = capf::protocol::decode_header(h);
    EXPECT_TRUE(header.ok());
    std::vector<std::uint8_t> all(h.begin(), h.end());
    all.resize(8 + header->body_length);
    asio::read(stream_, asio::buffer(all.data() + 8, header->body_length));
    return capf::protocol::decode_one(all).value();
  }
  void write(const std::vector<std::uint8_t>& bytes) { asio::write(stream_, asio::buffer(bytes)); }
  /// True when the server closed the connection (EOF or reset) within its timeouts.
  bool closed() {
    boost::system::error_code ec;
    std::array<std::uint8_t, 64> b{};
    stream_.read_some(asio::buffer(b), ec);
    return ec.failed();
  }
  std::uint32_t session_id = 0;

 private:
  asio::io_context io_;
  asio::ssl::context tls_;
  capf::net::TlsStream stream_;
};

/// Connects, reads AUTH_REQUEST, sends `bytes` (with the session id patched into a header when
/// `patch_sid`), and returns the END_SESSION reason, -1 when the server just closed, -2 when it
/// neither closed nor answered (with `expect_end` false).
inline int send_raw(int port, const std::string& ca_pem, std::vector<std::uint8_t> bytes, bool patch_sid, bool expect_end) {
  RawPhone p(port, ca_pem);
  auto first = p.read();
  EXPECT_EQ(first.command, 1);
  if (patch_sid && bytes.size() >= 6)
    for (int i = 0; i < 4; ++i) bytes[2 + i] = static_cast<std::uint8_t>(first.session_id >> (24 - 8 * i));
  p.write(bytes);
  if (!expect_end) return p.closed() ? -1 : -2;
  try {
    auto end = p.read();
    EXPECT_EQ(end.command, 15);
    return end.u8(capf::protocol::Tag::reason).value_or(255);
  } catch (const std::exception&) {
    return -1;
  }
}

/// Sends a typed message.
inline void send_message(RawPhone& p, const capf::protocol::Message& m) {
  auto bytes = capf::protocol::encode(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  p.write(*bytes);
}

}  // namespace capf::it
