// Typed messages: round trips through the wire, and parser errors that name the element.
#include "capf/protocol/messages.hpp"

#include <gtest/gtest.h>

#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;
using test::must_encode;

// build → encode → decode → parse, so the wire is in every round trip.
template <class T, class Parse>
T through_wire(const Message& built, Parse parse) {
  auto decoded = decode_one(must_encode(built));
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, built);
  auto parsed = parse(*decoded);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? *parsed : T{};
}

template <class R>
std::string error_of(const R& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, Errc::protocol);
  return r.error().message;
}

AuthResponse full_auth_response() {
  AuthResponse a;
  a.version = 3;
  a.device_name = "SEP001122334455";
  a.reason = 1;
  a.password = "";
  a.certificate_der = test::der868();
  a.signed_data = Bytes(256, 0x11);
  a.sha2_signed = Sha2Signature{WireHash::sha512, Bytes(256, 0x22)};
  a.sudi = SudiData{Bytes(500, 0x30), Bytes(128, 0x01), Bytes(128, 0x03)};
  return a;
}

TEST(RoundTrip, AuthRequest) {
  for (auto auth : {std::optional<WireAuthType>{}, std::optional{WireAuthType::unspecified},
                    std::optional{WireAuthType::auth_string}, std::optional{WireAuthType::mic}}) {
    AuthRequest a{3, auth};
    EXPECT_EQ(through_wire<AuthRequest>(build(a, 9), parse_auth_request), a);
  }
}

TEST(RoundTrip, AuthResponsePasswordAndJabber) {
  AuthResponse a;
  a.device_name = "SEP001122334455";
  a.password = "123456";
  EXPECT_EQ(through_wire<AuthResponse>(build(a, 9), parse_auth_response), a);
  a.password = "";
  EXPECT_EQ(through_wire<AuthResponse>(build(a, 9), parse_auth_response), a);
  a.password.reset();
  a.reason.reset();
  a.version = 2;
  EXPECT_EQ(through_wire<AuthResponse>(build(a, 9), parse_auth_response), a);
}

TEST(RoundTrip, AuthResponseWithCertificateAuthentication) {
  AuthResponse a = full_auth_response();
  Message m = build(a, 9);
  std::vector<std::uint8_t> tags;
  for (const auto& e : m.elements) tags.push_back(e.tag);
  EXPECT_EQ(tags, (std::vector<std::uint8_t>{7, 13, 1, 11, 4, 6, 16, 20}));
  EXPECT_EQ(through_wire<AuthResponse>(m, parse_auth_response), a);
}

TEST(RoundTrip, KeyGenerateRequest) {
  for (std::uint16_t size : {512, 1024, 2048, 3072, 4096}) {
    KeyGenerateRequest k;
    k.key_size = size;
    EXPECT_EQ(through_wire<KeyGenerateRequest>(build(k, 9), parse_key_generate_request), k);
  }
  for (WireCurve c : {WireCurve::p256, WireCurve::p384, WireCurve::p521}) {
    KeyGenerateRequest k;
    k.key_type = WireKeyType::ec;
    k.curve = c;
    EXPECT_EQ(through_wire<KeyGenerateRequest>(build(k, 9), parse_key_generate_request), k);
  }
}

TEST(RoundTrip, KeyGenerateResponse) {
  KeyGenerateResponse ok{test::rsa2048_spki(), std::nullopt};
  EXPECT_EQ(through_wire<KeyGenerateResponse>(build(ok, 9), parse_key_generate_response), ok);
  KeyGenerateResponse failed{std::nullopt, std::uint8_t{7}};
  EXPECT_EQ(through_wire<KeyGenerateResponse>(build(failed, 9), parse_key_generate_response), failed);
  KeyGenerateResponse both{bytes("3000"), std::uint8_t{1}};
  EXPECT_EQ(build(both, 9).elements.front().tag, 1) << "REASON leads, capfd order";
  EXPECT_EQ(through_wire<KeyGenerateResponse>(build(both, 9), parse_key_generate_response), both);
}

TEST(RoundTrip, StoreCertificateRequest) {
  StoreCertificateRequest s{CertificateType::mic, test::der868()};
  EXPECT_EQ(through_wire<StoreCertificateRequest>(build(s, 9), parse_store_certificate_request), s);
}

TEST(RoundTrip, CertificateResponses) {
  CertificateResponse fetched{1, test::der868()};
  EXPECT_EQ(through_wire<CertificateResponse>(build_fetch_response(fetched, 9), parse_certificate_response), fetched);
  CertificateResponse none{7, std::nullopt};
  EXPECT_EQ(through_wire<CertificateResponse>(build_fetch_response(none, 9), parse_certificate_response), none);
  // STORE and DELETE never carry a certificate, even if the struct holds one.
  Message store = build_store_response(fetched, 9);
  EXPECT_TRUE(store.is(Command::store_certificate_response));
  EXPECT_EQ(store.elements.size(), 1u);
  EXPECT_EQ(through_wire<CertificateResponse>(store, parse_certificate_response), (CertificateResponse{1, {}}));
  Message del = build_delete_response(CertificateResponse{9, {}}, 9);
  EXPECT_TRUE(del.is(Command::delete_certificate_response));
  EXPECT_EQ(through_wire<CertificateResponse>(del, parse_certificate_response), (CertificateResponse{9, {}}));
}

TEST(RoundTrip, EmptyBodies) {
  for (Command c :
       {Command::fetch_certificate_request, Command::delete_certificate_request, Command::request_in_progress}) {
    Bytes wire = must_encode(build_empty(c, 0x0a0b0c0d));
    EXPECT_EQ(wire, (Bytes{0x55, static_cast<std::uint8_t>(c), 0x0a, 0x0b, 0x0c, 0x0d, 0, 0}));
  }
}

TEST(RoundTrip, EndSession) {
  for (Reason r : {Reason::no_action, Reason::ok, Reason::refused, Reason::unknown_device}) {
    EXPECT_EQ(through_wire<Reason>(build_end_session(r, 9), parse_end_session), r);
  }
}

TEST(RoundTrip, SignRequestAndResponse) {
  Bytes subject = bytes("3011310f300d06035504030c065345503030");
  Message req = build_sign_request(subject, 9);
  EXPECT_EQ(must_encode(req), bytes("55 16 00000009 0015 15 0012") + subject);
  EXPECT_EQ(through_wire<Bytes>(req, parse_sign_request), subject);
  SignResponse ok{1, bytes("308201")};
  EXPECT_EQ(must_encode(build(ok, 9)), bytes("55 17 00000009 000a 01 0001 01 16 0003 308201"));
  EXPECT_EQ(through_wire<SignResponse>(build(ok, 9), parse_sign_response), ok);
  SignResponse refused{7, std::nullopt};
  EXPECT_EQ(through_wire<SignResponse>(build(refused, 9), parse_sign_response), refused);
}

// ---- parser errors ----

Message auth_response_with_version(std::uint8_t v) {
  Message m(Command::auth_response, 2);
  m.add_u8(Tag::version, v).add_string(Tag::device_name, "SEP001122334455");
  return m;
}

TEST(Parse, AuthResponseVersions) {
  EXPECT_EQ(error_of(parse_auth_response(auth_response_with_version(0))),
            "AUTH_RESPONSE: unsupported VERSION (tag 7) 0 (accepted 1-3)");
  EXPECT_EQ(error_of(parse_auth_response(auth_response_with_version(4))),
            "AUTH_RESPONSE: unsupported VERSION (tag 7) 4 (accepted 1-3)");
  for (std::uint8_t v = 1; v <= 3; ++v) {
    auto r = parse_auth_response(auth_response_with_version(v));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->version, v);
    EXPECT_FALSE(r->password);
    EXPECT_FALSE(r->reason);
  }
}

TEST(Parse, AuthResponseMissingOrBadElements) {
  Message m(Command::auth_response, 2);
  m.add_u8(Tag::version, 3);
  EXPECT_EQ(error_of(parse_auth_response(m)), "AUTH_RESPONSE: missing DEVICE_NAME (tag 13)");
  m.add_string(Tag::device_name, "");
  EXPECT_EQ(error_of(parse_auth_response(m)), "AUTH_RESPONSE: empty DEVICE_NAME (tag 13)");

  Message no_version(Command::auth_response, 2);
  no_version.add_string(Tag::device_name, "SEP1");
  EXPECT_EQ(error_of(parse_auth_response(no_version)), "AUTH_RESPONSE: missing VERSION (tag 7)");

  Message wide_version(Command::auth_response, 2);
  wide_version.add_u16(Tag::version, 3).add_string(Tag::device_name, "SEP1");
  EXPECT_EQ(error_of(parse_auth_response(wide_version)),
            "AUTH_RESPONSE: malformed VERSION (tag 7): 2 bytes, expected 1");

  Message nul_name(Command::auth_response, 2);
  nul_name.add_u8(Tag::version, 3).add_bytes(Tag::device_name, bytes(R"("SEP\0x\0")"));
  EXPECT_EQ(error_of(parse_auth_response(nul_name)), "AUTH_RESPONSE: DEVICE_NAME (tag 13) contains a NUL byte");

  Message bad_cert = auth_response_with_version(3);
  bad_cert.add_bytes(Tag::certificate, bytes("01 0002"));
  EXPECT_EQ(error_of(parse_auth_response(bad_cert)),
            "AUTH_RESPONSE: malformed CERTIFICATE (tag 4): certificate value of 3 bytes is too short (minimum 6)");

  Message bad_sha2 = auth_response_with_version(3);
  bad_sha2.add_bytes(Tag::sha2_signed_data, bytes("03 0005 00"));
  EXPECT_EQ(error_of(parse_auth_response(bad_sha2)),
            "AUTH_RESPONSE: malformed SHA2_SIGNED_DATA (tag 20): sha2 signature length 5 runs past end of value "
            "(1 bytes left)");

  Message bad_sudi = auth_response_with_version(3);
  bad_sudi.add_bytes(Tag::sudi_data, bytes("01 0001 00"));
  EXPECT_EQ(error_of(parse_auth_response(bad_sudi)),
            "AUTH_RESPONSE: malformed SUDI_DATA (tag 16): sudi data has no certificate (record type 0)");
}

TEST(Parse, AuthResponseNameWithoutNulIsAccepted) {
  Message m(Command::auth_response, 2);
  m.add_u8(Tag::version, 3).add_bytes(Tag::device_name, bytes(R"("SEP00")"));
  auto r = parse_auth_response(m);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->device_name, "SEP00");
}

TEST(Parse, UnknownTagsAreSkipped) {
  Bytes wire = bytes(R"(55 02 00000002 0039  c8 0003 010203  07 0001 03  08 0001 00  0d 0010 "SEP001122334455\0"
                        0e 0004 deadbeef  01 0001 01  0b 0007 "123456\0"  ff 0000)");
  auto m = decode_one(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->elements.size(), 8u);
  auto r = parse_auth_response(*m);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->device_name, "SEP001122334455");
  EXPECT_EQ(r->password, "123456");
  EXPECT_EQ(r->reason, 1);
}

TEST(Parse, WrongCommandIsNamed) {
  Message m = build_end_session(Reason::ok, 2);
  EXPECT_EQ(error_of(parse_auth_response(m)), "AUTH_RESPONSE: unexpected command END_SESSION (15)");
  EXPECT_EQ(error_of(parse_auth_request(Message(static_cast<Command>(99), 2))),
            "AUTH_REQUEST: unexpected command COMMAND_99 (99)");
  EXPECT_EQ(error_of(parse_certificate_response(m)),
            "STORE_CERTIFICATE_RESPONSE or FETCH_CERTIFICATE_RESPONSE or DELETE_CERTIFICATE_RESPONSE: "
            "unexpected command END_SESSION (15)");
  EXPECT_EQ(error_of(parse_end_session(build(AuthRequest{}, 2))), "END_SESSION: unexpected command AUTH_REQUEST (1)");
}

TEST(Parse, AuthRequestNeedsVersion) {
  EXPECT_EQ(error_of(parse_auth_request(Message(Command::auth_request, 1))), "AUTH_REQUEST: missing VERSION (tag 7)");
  Message m(Command::auth_request, 1);
  m.add_u8(Tag::version, 3).add_bytes(Tag::auth_type, Bytes{});
  EXPECT_EQ(error_of(parse_auth_request(m)), "AUTH_REQUEST: malformed AUTH_TYPE (tag 8): 0 bytes, expected 1");
}

TEST(Parse, KeyGenerateRequestCases) {
  auto parse = [](const char* body_hex) {
    Message m(Command::key_generate_request, 1);
    auto elements = decode_elements(bytes(body_hex));
    EXPECT_TRUE(elements.ok());
    m.elements = *elements;
    return parse_key_generate_request(m);
  };
  auto rsa = parse("0a 0002 0400");
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(rsa->key_type, WireKeyType::rsa);
  EXPECT_EQ(rsa->key_size, 1024);
  EXPECT_EQ(error_of(parse("11 0001 00")), "KEY_GENERATE_REQUEST: missing KEY_SIZE (tag 10)");
  EXPECT_EQ(error_of(parse("0a 0002 0000")), "KEY_GENERATE_REQUEST: zero KEY_SIZE (tag 10)");
  EXPECT_EQ(error_of(parse("0a 0001 08")), "KEY_GENERATE_REQUEST: malformed KEY_SIZE (tag 10): 1 bytes, expected 2");
  EXPECT_EQ(error_of(parse("11 0001 01")), "KEY_GENERATE_REQUEST: missing CURVE (tag 18)");
  EXPECT_EQ(error_of(parse("11 0001 01 12 0001 03")), "KEY_GENERATE_REQUEST: unknown CURVE (tag 18) value 3");
  EXPECT_EQ(error_of(parse("11 0001 02 0a 0002 0800")), "KEY_GENERATE_REQUEST: unknown KEY_TYPE (tag 17) value 2");
  // A stray KEY_SIZE in an EC request is ignored, not reported back.
  auto ec = parse("0a 0002 0400 11 0001 01 12 0001 02");
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ(ec->key_type, WireKeyType::ec);
  EXPECT_EQ(ec->curve, WireCurve::p521);
  EXPECT_EQ(ec->key_size, KeyGenerateRequest{}.key_size);
}

TEST(Parse, KeyGenerateResponseCases) {
  auto empty = parse_key_generate_response(Message(Command::key_generate_response, 1));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->public_key);
  EXPECT_FALSE(empty->reason);
  Message m(Command::key_generate_response, 1);
  m.add_bytes(Tag::public_key, Bytes{});
  EXPECT_EQ(error_of(parse_key_generate_response(m)), "KEY_GENERATE_RESPONSE: empty PUBLIC_KEY (tag 9)");
}

TEST(Parse, StoreCertificateRequestCases) {
  Message m(Command::store_certificate_request, 1);
  m.add_u8(Tag::certificate_type, 1);
  EXPECT_EQ(error_of(parse_store_certificate_request(m)), "STORE_CERTIFICATE_REQUEST: missing CERTIFICATE (tag 4)");
  Message bad_type(Command::store_certificate_request, 1);
  bad_type.add_u8(Tag::certificate_type, 5).add_bytes(Tag::certificate, wrap_certificate(bytes("3000")));
  EXPECT_EQ(error_of(parse_store_certificate_request(bad_type)),
            "STORE_CERTIFICATE_REQUEST: unknown CERTIFICATE_TYPE (tag 3) value 5");
  Message no_type(Command::store_certificate_request, 1);
  no_type.add_bytes(Tag::certificate, wrap_certificate(bytes("3000")));
  auto r = parse_store_certificate_request(no_type);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->type, CertificateType::lsc);
}

TEST(Parse, CertificateResponseCases) {
  EXPECT_EQ(error_of(parse_certificate_response(Message(Command::delete_certificate_response, 1))),
            "DELETE_CERTIFICATE_RESPONSE: missing REASON (tag 1)");
  Message bad(Command::fetch_certificate_response, 1);
  bad.add_u8(Tag::reason, 1).add_bytes(Tag::certificate, bytes("01 0009 00 01 30"));
  EXPECT_EQ(error_of(parse_certificate_response(bad)),
            "FETCH_CERTIFICATE_RESPONSE: malformed CERTIFICATE (tag 4): certificate inner length 9 runs past end of "
            "value (3 bytes left)");
}

TEST(Parse, EndSessionCases) {
  EXPECT_EQ(error_of(parse_end_session(Message(Command::end_session, 1))), "END_SESSION: missing REASON (tag 1)");
  Message odd(Command::end_session, 1);
  odd.add_u8(Tag::reason, 42);
  auto r = parse_end_session(odd);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<int>(*r), 42);
}

TEST(Parse, SignMessagesCases) {
  EXPECT_EQ(error_of(parse_sign_request(Message(Command::sign_certificate_request, 1))),
            "SIGN_CERTIFICATE_REQUEST: missing CSR_SUBJECT (tag 21)");
  EXPECT_EQ(error_of(parse_sign_response(Message(Command::sign_certificate_response, 1))),
            "SIGN_CERTIFICATE_RESPONSE: missing CSR (tag 22)");
  Message csr_only(Command::sign_certificate_response, 1);
  csr_only.add_bytes(Tag::csr, bytes("3000"));
  auto r = parse_sign_response(csr_only);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->reason, 1);
  EXPECT_EQ(r->csr_der, bytes("3000"));
}

}  // namespace
}  // namespace capf::protocol
