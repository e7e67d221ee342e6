// Header and element encoding, typed element access, and every §11.3 limit.
#include "capf/protocol/wire.hpp"

#include <gtest/gtest.h>

#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;
using test::must_encode;

std::string decode_error(const Bytes& wire) {
  auto r = decode_one(wire);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, Errc::protocol);
  return r.error().message;
}

TEST(Wire, HeaderIsBigEndian) {
  Message m(Command::end_session, 0x01020304);
  m.add_u16(Tag::key_size, 0xabcd);
  EXPECT_EQ(must_encode(m), bytes("55 0f 01020304 0005 0a 0002 abcd"));
  auto h = decode_header(bytes("55 0f 01020304 0005"));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->command, 15);
  EXPECT_EQ(h->session_id, 0x01020304u);
  EXPECT_EQ(h->body_length, 5);
}

TEST(Wire, MaxSessionIdSurvives) {
  auto m = decode_one(must_encode(Message(Command::auth_request, 0xffffffff)));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->session_id, 0xffffffffu);
}

TEST(Wire, StringsCarryOneTrailingNul) {
  Message m(Command::auth_response, 1);
  m.add_string(Tag::device_name, "SEP1");
  m.add_string(Tag::password, "");
  EXPECT_EQ(must_encode(m), bytes(R"(55 02 00000001 000c 0d 0005 "SEP1\0" 0b 0001 00)"));
  EXPECT_EQ(m.str(Tag::device_name), "SEP1");
  EXPECT_EQ(m.str(Tag::password), "");
  EXPECT_FALSE(m.str(Tag::reason_info));
}

TEST(Wire, StrAcceptsMissingNulAndStripsOnlyOne) {
  Message m;
  m.add_bytes(Tag::device_name, bytes(R"("SEP2")"));
  m.add_bytes(Tag::password, bytes(R"("ab\0\0")"));
  m.add_bytes(Tag::reason_info, Bytes{});
  EXPECT_EQ(m.str(Tag::device_name), "SEP2");
  EXPECT_EQ(m.str(Tag::password), std::string("ab\0", 3));
  EXPECT_EQ(m.str(Tag::reason_info), "");
}

TEST(Wire, IntegerAccessorsRejectWrongSizes) {
  Message m;
  m.add_bytes(Tag::version, bytes("0003"));
  m.add_bytes(Tag::key_size, bytes("08"));
  m.add_u8(Tag::reason, 7);
  m.add_u16(Tag::retry_delay, 300);
  EXPECT_FALSE(m.u8(Tag::version));
  EXPECT_FALSE(m.u16(Tag::key_size));
  EXPECT_EQ(m.u8(Tag::reason), 7);
  EXPECT_EQ(m.u16(Tag::retry_delay), 300);
  EXPECT_FALSE(m.u8(Tag::curve));
}

TEST(Wire, FindReturnsTheFirstOfDuplicates) {
  Message m;
  m.add_u8(Tag::reason, 1).add_u8(Tag::reason, 7);
  EXPECT_EQ(m.u8(Tag::reason), 1);
}

TEST(Wire, CommandAndTagNames) {
  const char* names[] = {"AUTH_REQUEST",
                         "AUTH_RESPONSE",
                         "KEY_GENERATE_REQUEST",
                         "KEY_GENERATE_RESPONSE",
                         "ENCRYPT_RESPONSE",
                         "ENCRYPT_REQUEST",
                         "DECRYPT_REQUEST",
                         "DECRYPT_RESPONSE",
                         "STORE_CERTIFICATE_REQUEST",
                         "STORE_CERTIFICATE_RESPONSE",
                         "FETCH_CERTIFICATE_REQUEST",
                         "FETCH_CERTIFICATE_RESPONSE",
                         "DELETE_CERTIFICATE_REQUEST",
                         "DELETE_CERTIFICATE_RESPONSE",
                         "END_SESSION",
                         "RETRY_LATER",
                         "REQUEST_IN_PROGRESS",
                         "STATUS_REQUEST",
                         "STATUS_RESPONSE",
                         "ABORT_REQUEST",
                         "ABORT_RESPONSE",
                         "SIGN_CERTIFICATE_REQUEST",
                         "SIGN_CERTIFICATE_RESPONSE"};
  for (int i = 1; i <= 23; ++i) EXPECT_EQ(command_name(static_cast<std::uint8_t>(i)), names[i - 1]) << i;
  EXPECT_EQ(command_name(Command::end_session), "END_SESSION");
  EXPECT_EQ(command_name(0), "COMMAND_0");
  EXPECT_EQ(command_name(99), "COMMAND_99");
  EXPECT_EQ(tag_name(Tag::device_name), "DEVICE_NAME");
  EXPECT_EQ(tag_name(Tag::csr), "CSR");
  EXPECT_EQ(tag_name(14), "TAG_14");
  EXPECT_EQ(tag_name(255), "TAG_255");
}

TEST(Wire, UnknownCommandsAndTagsDecode) {
  Bytes wire = bytes("55 63 00000009 0009  c8 0002 abcd  0e 0001 ff");
  auto m = decode_one(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->command, 99);
  ASSERT_EQ(m->elements.size(), 2u);
  EXPECT_EQ(m->elements[0], (Element{200, bytes("abcd")}));
  EXPECT_EQ(m->elements[1], (Element{14, bytes("ff")}));
  EXPECT_EQ(must_encode(*m), wire);
}

TEST(Wire, EmptyElementValue) {
  Bytes wire = bytes("55 0b 00000001 0003 09 0000");
  auto m = decode_one(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->elements.size(), 1u);
  EXPECT_TRUE(m->elements[0].value.empty());
}

// ---- limits on decode ----

TEST(WireLimits, TruncatedHeader) {
  EXPECT_EQ(decode_error(bytes("55 01 000000")), "truncated header: 5 of 8 bytes");
  EXPECT_EQ(decode_error(Bytes{}), "truncated header: 0 of 8 bytes");
  auto h = decode_header(bytes("55 01 0000000200"));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message, "truncated header: 7 of 8 bytes");
}

TEST(WireLimits, BadProtocolId) {
  EXPECT_EQ(decode_error(bytes("54 01 00000002 0000")), "bad protocol id 0x54");
  EXPECT_EQ(decode_error(bytes("ff 01 00000002 0000")), "bad protocol id 0xff");
}

TEST(WireLimits, OversizedBody) {
  // 20000 = 0x4e20; rejected from the header alone, before any body is read.
  EXPECT_EQ(decode_error(bytes("55 02 00000002 4e20")), "body length 20000 exceeds limit 16384");
  auto h = decode_header(bytes("55 02 00000002 4001"));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message, "body length 16385 exceeds limit 16384");
  EXPECT_TRUE(decode_header(bytes("55 02 00000002 4000")).ok());
}

TEST(WireLimits, OversizedElement) {
  Bytes body = bytes("09 2001") + Bytes(8193, 0xaa);
  auto r = decode_elements(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "element 1 (tag 9) length 8193 exceeds limit 8192");
  EXPECT_TRUE(decode_elements(bytes("09 2000") + Bytes(8192, 0xaa)).ok());
}

TEST(WireLimits, TooManyElements) {
  Bytes body;
  for (int i = 0; i < 65; ++i) body = body + bytes("01 0001 01");
  auto r = decode_elements(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "element 65 exceeds limit of 64 elements");
  body.resize(64 * 4);
  auto ok = decode_elements(body);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->size(), 64u);
}

TEST(WireLimits, ElementRunsPastEndOfBody) {
  // Two small elements, then tag 9 claiming 300 bytes with 120 present.
  Bytes body = bytes("07 0001 03  01 0001 01  09 012c") + Bytes(120, 0x30);
  auto r = decode_elements(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "element 3 (tag 9) length 300 runs past end of body (120 bytes left)");
  std::uint16_t len = static_cast<std::uint16_t>(body.size());
  Bytes wire =
      bytes("55 04 00000002") + Bytes{static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)} + body;
  EXPECT_EQ(decode_error(wire), "element 3 (tag 9) length 300 runs past end of body (120 bytes left)");
}

TEST(WireLimits, ElementLengthBoundary) {
  auto exact = decode_elements(bytes("09 0003 aabbcc"));
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  EXPECT_EQ(exact->at(0).value, bytes("aabbcc"));
  auto one_over = decode_elements(bytes("09 0004 aabbcc"));
  ASSERT_FALSE(one_over.ok());
  EXPECT_EQ(one_over.error().message, "element 1 (tag 9) length 4 runs past end of body (3 bytes left)");
}

TEST(WireLimits, TruncatedElementHeader) {
  auto r = decode_elements(bytes("07 0001 03  0d 00"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "element 2 header truncated (2 bytes left, 3 needed)");
}

TEST(WireLimits, TruncatedBodyAndTrailingBytes) {
  EXPECT_EQ(decode_error(bytes("55 0f 00000002 0004 01 0001")), "truncated body: 3 of 4 bytes");
  EXPECT_EQ(decode_error(bytes("55 0f 00000002 0004 01 0001 01 55")), "1 trailing bytes after a 12-byte message");
}

TEST(WireLimits, CustomLimitsApply) {
  Limits tight{.max_body = 10, .max_element = 2, .max_elements = 1};
  auto r = decode_one(bytes("55 0f 00000002 000b") + Bytes(11, 0), tight);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "body length 11 exceeds limit 10");
  r = decode_one(bytes("55 0f 00000002 0006 01 0003 010101"), tight);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "element 1 (tag 1) length 3 exceeds limit 2");
}

// ---- limits on encode ----

TEST(WireLimits, EncodeRejectsOversizedElement) {
  Message m(Command::store_certificate_request, 1);
  m.add_bytes(Tag::certificate, Bytes(8193, 1));
  auto r = encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::protocol);
  EXPECT_EQ(r.error().message, "encode STORE_CERTIFICATE_REQUEST: element 1 (tag 4) length 8193 exceeds limit 8192");
}

TEST(WireLimits, EncodeRejectsOversizedBody) {
  Message m(Command::auth_response, 1);
  for (int i = 0; i < 3; ++i) m.add_bytes(Tag::signed_data, Bytes(6000, 1));
  auto r = encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "encode AUTH_RESPONSE: body length 18009 exceeds limit 16384");
}

TEST(WireLimits, EncodeRejectsTooManyElements) {
  Message m(Command::auth_response, 1);
  for (int i = 0; i < 65; ++i) m.add_u8(Tag::reason, 1);
  auto r = encode(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "encode AUTH_RESPONSE: 65 elements exceed limit 64");
  m.elements.pop_back();
  EXPECT_TRUE(encode(m).ok());
}

TEST(WireLimits, EncodeNeverExceedsTheU16FieldsEvenWithLooseLimits) {
  Limits loose{.max_body = 1 << 20, .max_element = 1 << 20, .max_elements = 1000};
  Message m(Command::auth_response, 1);
  m.add_bytes(Tag::signed_data, Bytes(70000, 1));
  auto r = encode(m, loose);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "encode AUTH_RESPONSE: element 1 (tag 6) length 70000 exceeds limit 65535");
}

}  // namespace
}  // namespace capf::protocol
