// The §9 capfd session and the CUCM/Jabber captures, byte for byte in both directions.
#include <gtest/gtest.h>

#include "capf/protocol/messages.hpp"
#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;
using test::must_encode;

constexpr std::uint32_t kSid = 2;

Message decode_ok(const Bytes& wire) {
  auto m = decode_one(wire);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : Message{};
}

TEST(Golden, AuthRequest) {
  Bytes wire = bytes("55 01 00000002 0008  07 0001 03  08 0001 00");
  EXPECT_EQ(must_encode(build(AuthRequest{}, kSid)), wire);
  Message m = decode_ok(wire);
  EXPECT_EQ(m.session_id, kSid);
  auto r = parse_auth_request(m);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->auth_type, WireAuthType::unspecified);
}

TEST(Golden, AuthResponse) {
  Bytes wire = bytes(R"(55 02 00000002 0025  07 0001 03  0d 0010 "SEP001122334455\0"  01 0001 01  0b 0007 "123456\0")");
  AuthResponse a;
  a.version = 3;
  a.device_name = "SEP001122334455";
  a.reason = 1;
  a.password = "123456";
  EXPECT_EQ(must_encode(build(a, kSid)), wire);
  auto r = parse_auth_response(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->device_name, "SEP001122334455");
  EXPECT_EQ(r->reason, 1);
  EXPECT_EQ(r->password, "123456");
  EXPECT_FALSE(r->certificate_der);
  EXPECT_FALSE(r->signed_data);
  EXPECT_FALSE(r->sha2_signed);
  EXPECT_FALSE(r->sudi);
}

TEST(Golden, KeyGenerateRequestRsa) {
  Bytes wire = bytes("55 03 00000002 0009  0a 0002 0800  11 0001 00");
  EXPECT_EQ(must_encode(build(KeyGenerateRequest{}, kSid)), wire);
  auto r = parse_key_generate_request(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key_type, WireKeyType::rsa);
  EXPECT_EQ(r->key_size, 2048);
}

TEST(Golden, KeyGenerateRequestEc) {
  Bytes wire = bytes("55 03 00000002 0008  11 0001 01  12 0001 00");
  KeyGenerateRequest k;
  k.key_type = WireKeyType::ec;
  k.curve = WireCurve::p256;
  EXPECT_EQ(must_encode(build(k, kSid)), wire);
  auto r = parse_key_generate_request(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key_type, WireKeyType::ec);
  EXPECT_EQ(r->curve, WireCurve::p256);
}

// The request for a Key Order's key: the same bytes as above for RSA-2048 and EC P-256, the
// curve's code for the larger curves.
TEST(Golden, KeyGenerateRequestForAKeySpec) {
  using capf::EcCurve;
  using capf::KeyAlgorithm;
  EXPECT_EQ(must_encode(build(key_generate_request({KeyAlgorithm::rsa, 2048, EcCurve::p256}), kSid)),
            bytes("55 03 00000002 0009  0a 0002 0800  11 0001 00"));
  EXPECT_EQ(must_encode(build(key_generate_request({KeyAlgorithm::rsa, 4096, EcCurve::p256}), kSid)),
            bytes("55 03 00000002 0009  0a 0002 1000  11 0001 00"));
  EXPECT_EQ(must_encode(build(key_generate_request({KeyAlgorithm::ec, 0, EcCurve::p256}), kSid)),
            bytes("55 03 00000002 0008  11 0001 01  12 0001 00"));
  EXPECT_EQ(key_generate_request({KeyAlgorithm::ec, 0, EcCurve::p384}).curve, WireCurve::p384);
  EXPECT_EQ(key_generate_request({KeyAlgorithm::ec, 0, EcCurve::p521}).curve, WireCurve::p521);
}

TEST(Golden, RequestInProgress) {
  Bytes wire = bytes("55 11 00000002 0000");
  EXPECT_EQ(must_encode(build_empty(Command::request_in_progress, kSid)), wire);
  Message m = decode_ok(wire);
  EXPECT_TRUE(m.is(Command::request_in_progress));
  EXPECT_TRUE(m.elements.empty());
}

TEST(Golden, KeyGenerateResponse) {
  Bytes spki = test::rsa2048_spki();
  ASSERT_EQ(spki.size(), 294u);
  Bytes wire = bytes("55 04 00000002 0129  09 0126") + spki;
  KeyGenerateResponse k;
  k.public_key = spki;
  EXPECT_EQ(must_encode(build(k, kSid)), wire);
  auto r = parse_key_generate_response(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->public_key, spki);
  EXPECT_FALSE(r->reason);
  // Starts like the §9 dump.
  EXPECT_EQ(Bytes(wire.begin() + 11, wire.begin() + 30), bytes("30820122300d06092a864886f70d0101010500"));
}

TEST(Golden, StoreCertificateRequest) {
  Bytes der = test::der868();
  ASSERT_EQ(der.size(), 868u);
  Bytes wire = bytes("55 09 00000002 0370  03 0001 01  04 0369 01 0366 00 01") + der;
  StoreCertificateRequest s;
  s.certificate_der = der;
  EXPECT_EQ(must_encode(build(s, kSid)), wire);
  auto r = parse_store_certificate_request(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, CertificateType::lsc);
  EXPECT_EQ(r->certificate_der, der);
}

TEST(Golden, StoreCertificateResponse) {
  Bytes wire = bytes("55 0a 00000002 0004  01 0001 01");
  EXPECT_EQ(must_encode(build_store_response(CertificateResponse{}, kSid)), wire);
  auto r = parse_certificate_response(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->reason, 1);
  EXPECT_FALSE(r->certificate_der);
}

TEST(Golden, EndSession) {
  Bytes wire = bytes("55 0f 00000002 0004  01 0001 01");
  EXPECT_EQ(must_encode(build_end_session(Reason::ok, kSid)), wire);
  auto r = parse_end_session(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Reason::ok);
}

TEST(Golden, CucmAuthRequestHasVersionOnly) {
  Bytes wire = bytes("55 01 00000007 0004  07 0001 03");
  AuthRequest a;
  a.auth_type = std::nullopt;
  EXPECT_EQ(must_encode(build(a, 7)), wire);
  auto r = parse_auth_request(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3);
  EXPECT_FALSE(r->auth_type);
}

TEST(Golden, JabberAuthResponseVersion2WithoutPassword) {
  Bytes wire = bytes(R"(55 02 00000007 0018  07 0001 02 | 0d 000d "CSFjdoe12345\0" | 01 0001 01)");
  auto r = parse_auth_response(decode_ok(wire));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->device_name, "CSFjdoe12345");
  EXPECT_EQ(r->reason, 1);
  EXPECT_FALSE(r->password);
  // Our builder reproduces the capture's element order.
  AuthResponse a;
  a.version = 2;
  a.device_name = "CSFjdoe12345";
  a.password = std::nullopt;
  EXPECT_EQ(must_encode(build(a, 7)), wire);
}

TEST(Golden, CucmKeyGenerateRequestWithKeySizeOnly) {
  auto r = parse_key_generate_request(decode_ok(bytes("55 03 00000007 0005  0a 0002 0800")));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key_type, WireKeyType::rsa);
  EXPECT_EQ(r->key_size, 2048);
}

TEST(Golden, WholeSessionThroughTheDecoderOneByteAtATime) {
  Bytes stream =
      bytes("55 01 00000002 0008  07 0001 03  08 0001 00") +
      bytes(R"(55 02 00000002 0025  07 0001 03  0d 0010 "SEP001122334455\0"  01 0001 01  0b 0007 "123456\0")") +
      bytes("55 03 00000002 0009  0a 0002 0800  11 0001 00") + bytes("55 11 00000002 0000") +
      bytes("55 04 00000002 0129  09 0126") + test::rsa2048_spki() +
      bytes("55 09 00000002 0370  03 0001 01  04 0369 01 0366 00 01") + test::der868() +
      bytes("55 0a 00000002 0004  01 0001 01") + bytes("55 0f 00000002 0004  01 0001 01");
  Decoder d;
  std::vector<std::uint8_t> commands;
  for (std::uint8_t b : stream) {
    d.feed(ByteView(&b, 1));
    auto out = d.next();
    ASSERT_NE(out.status, Decoder::Status::error) << out.error;
    if (out.status == Decoder::Status::message) {
      EXPECT_EQ(out.message.session_id, kSid);
      commands.push_back(out.message.command);
    }
  }
  EXPECT_EQ(commands, (std::vector<std::uint8_t>{1, 2, 3, 17, 4, 9, 10, 15}));
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.bytes_wanted(), kHeaderSize);
}

}  // namespace
}  // namespace capf::protocol
