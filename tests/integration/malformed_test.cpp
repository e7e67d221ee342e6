// Untrusted input from phones: a malformed, truncated, oversized or silent session ends only
// itself while other phones keep enrolling.
#include <array>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"
#include "capf/protocol/messages.hpp"
#include "harness.hpp"

using namespace capf::it;
namespace asio = capf::net::asio;

namespace {

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

std::string slurp(const std::string& p) { return shell("cat '" + p + "'").out; }

/// Connects, reads AUTH_REQUEST, sends `bytes` (with the session id patched into a header when
/// `patch_sid`), and returns the END_SESSION reason or -1 when the server just closed.
int send_bad(const Fleet& f, std::vector<std::uint8_t> bytes, bool patch_sid, bool expect_end) {
  RawPhone p(f.daemon->port(), slurp(f.ca_file));
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

}  // namespace

TEST(Malformed, BadSessionsEndAloneWhileOtherPhonesEnroll) {
  Fleet f({"--step-timeout", "2", "--handshake-timeout", "2"});
  std::string rows = kCsvHeader;
  for (int i = 0; i < 24; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "SEP0000000003%02X", i);
    rows += std::string(name) + ",DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n";
  }
  const auto csv = f.write_csv("fleet.csv", rows);
  ASSERT_EQ(f.import(csv).exit_code, 0);

  auto good = std::async(std::launch::async, [&] { return f.sim_csv(csv, {"--concurrency", "4"}); });

  // Oversized body: header claims 65535 bytes (limit 16 KiB).
  EXPECT_EQ(send_bad(f, {0x55, 0x02, 0, 0, 0, 0, 0xff, 0xff}, true, true), 7);
  // Bad protocol id.
  EXPECT_EQ(send_bad(f, {0x54, 0x02, 0, 0, 0, 0, 0x00, 0x00}, true, true), 7);
  // An element whose length runs past the body.
  EXPECT_EQ(send_bad(f, {0x55, 0x02, 0, 0, 0, 0, 0x00, 0x05, 0x0d, 0x00, 0x40, 'S', 'E'}, true, true), 7);
  // Wrong session id.
  EXPECT_EQ(send_bad(f, {0x55, 0x02, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x04, 0x07, 0x00, 0x01, 0x03}, false, true), 7);
  // AUTH_RESPONSE without DEVICE_NAME, and with VERSION 4.
  EXPECT_EQ(send_bad(f, {0x55, 0x02, 0, 0, 0, 0, 0x00, 0x04, 0x07, 0x00, 0x01, 0x03}, true, true), 7);
  EXPECT_EQ(send_bad(f, {0x55, 0x02, 0, 0, 0, 0, 0x00, 0x0b, 0x07, 0x00, 0x01, 0x04, 0x0d, 0x00, 0x04, 'A', 'B', 'C', 0}, true, true), 7);
  // Truncated: a header promising 100 bytes, 10 bytes, then silence until the step timeout.
  std::vector<std::uint8_t> truncated{0x55, 0x02, 0, 0, 0, 0, 0x00, 0x64};
  truncated.resize(18, 0x01);
  EXPECT_EQ(send_bad(f, truncated, true, false), -1);
  // A connection that never sends TLS: the handshake timeout closes it.
  {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.daemon->port())});
    boost::system::error_code ec;
    std::array<char, 16> b{};
    s.read_some(asio::buffer(b), ec);
    EXPECT_TRUE(ec.failed());
  }

  auto summary = good.get();
  EXPECT_EQ(summary["enrollments"], 24) << summary.dump();
  EXPECT_TRUE(f.daemon->running());
  EXPECT_EQ(cli({"phones", "list", "--data-dir", f.data}).exit_code, 0);
  const auto log = f.daemon->log();
  EXPECT_NE(log.find("exceeds"), std::string::npos) << "the oversized body's reason is not logged";
  EXPECT_NE(log.find("timed out"), std::string::npos);
}
