// Untrusted input from phones: a malformed, truncated, oversized or silent session ends only
// itself while other phones keep enrolling.
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <sstream>
#include <thread>

#include "capf/crypto/crypto.hpp"
#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"
#include "capf/protocol/messages.hpp"
#include "harness.hpp"
#include "raw_phone.hpp"

using namespace capf::it;

namespace {

std::string slurp(const std::string& p) {
  return shell("cat '" + p + "'").out;
}

/// send_raw against the fleet's daemon.
int send_bad(const Fleet& f, std::vector<std::uint8_t> bytes, bool patch_sid, bool expect_end) {
  return send_raw(f.daemon->port(), slurp(f.ca_file), std::move(bytes), patch_sid, expect_end);
}

/// What a lying phone got for its KEY_GENERATE_RESPONSE: the END_SESSION reason, and the LSC of
/// a STORE_CERTIFICATE_REQUEST if one came (answered "stored").
struct KeyAnswer {
  int end = -1;
  std::vector<std::uint8_t> lsc_der;
};

/// A null-string session for `device` whose KEY_GENERATE_RESPONSE carries `public_key`.
KeyAnswer answer_key(const Fleet& f, const std::string& device, const std::vector<std::uint8_t>& public_key) {
  namespace p = capf::protocol;
  RawPhone phone(f.daemon->port(), slurp(f.ca_file));
  const auto first = phone.read();
  p::AuthResponse auth;
  auth.device_name = device;
  send_message(phone, p::build(auth, first.session_id));
  KeyAnswer out;
  for (int step = 0; step < 6; ++step) {
    const auto m = phone.read();
    switch (static_cast<p::Command>(m.command)) {
      case p::Command::end_session:
        out.end = m.u8(p::Tag::reason).value_or(255);
        return out;
      case p::Command::key_generate_request: {
        p::KeyGenerateResponse k;
        k.public_key = public_key;
        send_message(phone, p::build(k, first.session_id));
        break;
      }
      case p::Command::store_certificate_request: {
        auto request = p::parse_store_certificate_request(m);
        EXPECT_TRUE(request.ok());
        if (request) out.lsc_der = request->certificate_der;
        send_message(phone, p::build_store_response(p::CertificateResponse{}, first.session_id));
        break;
      }
      default:
        ADD_FAILURE() << device << ": unexpected command " << static_cast<int>(m.command);
        return out;
    }
  }
  return out;
}

}  // namespace

// The phone's key is read once, where the LSC is made: what is not a key, or not the kind
// asked for, gets no LSC and a reason on the phone's record; a CSR in its place (§11.1) gets
// an LSC for the CSR's key.
TEST(Malformed, NoKeyOrTheWrongKindGetsNoLscAndACsrInThePublicKeysPlaceGetsOne) {
  using capf::crypto::PrivateKey;
  Fleet f;
  std::string rows = kCsvHeader;
  for (const char* name : {"SEP0000000004A0", "SEP0000000004A1", "SEP0000000004A2"})
    rows += std::string(name) + ",DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n";
  ASSERT_EQ(f.import(f.write_csv("keys.csv", rows)).exit_code, 0);
  const auto rsa = PrivateKey::generate({capf::KeyAlgorithm::rsa, 2048, capf::EcCurve::p256}).value();
  const auto ec = PrivateKey::generate({capf::KeyAlgorithm::ec, 0, capf::EcCurve::p256}).value();

  // A refused key: END 7, no LSC offered or recorded, and the reason on the phone's record.
  const auto expect_refused = [&](const std::string& device, const std::vector<std::uint8_t>& key,
                                  const std::string& reason) {
    const auto answer = answer_key(f, device, key);
    EXPECT_EQ(answer.end, 7) << device;
    EXPECT_TRUE(answer.lsc_der.empty()) << device;
    const auto phone = f.phone(device);
    EXPECT_TRUE(phone["lsc"].is_null()) << phone.dump();
    EXPECT_NE(phone["status_reason"].get<std::string>().find(reason), std::string::npos) << phone.dump();
  };
  expect_refused("SEP0000000004A0", {0x30, 0x03, 0x02, 0x01, 0x05},
                 "PUBLIC_KEY is neither a SubjectPublicKeyInfo nor a CSR");
  expect_refused("SEP0000000004A1", ec.public_key_der(), "phone returned a EC-P256 key, asked for RSA-2048");

  const auto csr = answer_key(f, "SEP0000000004A2", capf::crypto::make_csr(rsa, "SEP0000000004A2").value());
  ASSERT_FALSE(csr.lsc_der.empty()) << "no STORE_CERTIFICATE_REQUEST for a CSR in PUBLIC_KEY";
  const auto lsc = capf::crypto::Certificate::from_der(csr.lsc_der);
  ASSERT_TRUE(lsc.ok());
  EXPECT_EQ(lsc->public_key_der(), rsa.public_key_der()) << "the LSC holds the CSR's key";
  EXPECT_EQ(lsc->subject_cn(), "SEP0000000004A2");
  const auto a2 = f.phone("SEP0000000004A2");
  EXPECT_EQ(a2["lsc"]["serial"], lsc->serial_hex()) << a2.dump();
}

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
  EXPECT_EQ(
      send_bad(f, {0x55, 0x02, 0, 0, 0, 0, 0x00, 0x0b, 0x07, 0x00, 0x01, 0x04, 0x0d, 0x00, 0x04, 'A', 'B', 'C', 0},
               true, true),
      7);
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
