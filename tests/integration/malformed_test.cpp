// Untrusted input from phones: a malformed, truncated, oversized or silent session ends only
// itself while other phones keep enrolling.
#include <array>
#include <sstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"
#include "capf/protocol/messages.hpp"
#include "harness.hpp"
#include "raw_phone.hpp"

using namespace capf::it;

namespace {

std::string slurp(const std::string& p) { return shell("cat '" + p + "'").out; }

/// send_raw against the fleet's daemon.
int send_bad(const Fleet& f, std::vector<std::uint8_t> bytes, bool patch_sid, bool expect_end) {
  return send_raw(f.daemon->port(), slurp(f.ca_file), std::move(bytes), patch_sid, expect_end);
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

TEST(Malformed, ADeviceNameWithANewlineForgesNoLogLine) {
  // Before authentication a phone chooses its DEVICE_NAME freely: unknown device, but logged.
  Fleet f;
  const std::string forged = "2026-01-01T00:00:00.000 info [capf] web login: admin from 10.0.0.1";
  capf::protocol::AuthResponse auth;
  auth.version = 3;
  auth.device_name = "SEPF0F0F0F0F0F0\n" + forged + "\r\x1b[2K";
  {
    RawPhone p(f.daemon->port(), slurp(f.ca_file));
    auto first = p.read();
    ASSERT_EQ(first.command, 1);
    const capf::protocol::Message m = capf::protocol::build(auth, first.session_id);
    send_message(p, m);
    auto end = p.read();
    EXPECT_EQ(end.command, 15);
    EXPECT_EQ(end.u8(capf::protocol::Tag::reason).value_or(255), 9) << "an unknown device";
  }
  // The daemon wrote what it does of such a session by now (the END came after the log line).
  const auto log = f.daemon->log();
  EXPECT_NE(log.find("SEPF0F0F0F0F0F0\\n" + forged + "\\r\\x1b[2K"), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.rfind(forged, 0), 0u) << "a forged line: " << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
  // The audit trail keeps it escaped as well.
  auto audit = cli({"audit", "list", "--limit", "100", "--data-dir", f.data}).out;
  EXPECT_EQ(audit.find(forged + "\n"), std::string::npos) << audit;
  EXPECT_EQ(audit.find('\x1b'), std::string::npos) << audit;
}
