// CERTIFICATE wrapping, SHA2_SIGNED_DATA and SUDI_DATA values.
#include <gtest/gtest.h>

#include "capf/protocol/wire.hpp"
#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;

std::string unwrap_error(const Bytes& v) {
  auto r = unwrap_certificate(v);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

TEST(Certificate, WrapLayout) {
  EXPECT_EQ(wrap_certificate(bytes("3003020101")), bytes("01 0007 00 01 3003020101"));
  EXPECT_EQ(wrap_certificate(bytes("30"), CertificateType::mic), bytes("01 0003 00 02 30"));
  Bytes der = test::der868();
  Bytes w = wrap_certificate(der);
  EXPECT_EQ(w.size(), der.size() + 5);
  EXPECT_EQ(Bytes(w.begin(), w.begin() + 5), bytes("01 0366 00 01"));
}

TEST(Certificate, RoundTrip) {
  for (std::size_t n : {1u, 2u, 100u, 868u, 8187u}) {
    Bytes der(n, static_cast<std::uint8_t>(n));
    auto r = unwrap_certificate(wrap_certificate(der));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, der) << n;
  }
}

TEST(Certificate, MatchesTheCucmCapturePrefix) {
  // {04}[03 D8] {01}[03 D5] 00 01 <DER>: a 979-byte DER.
  Bytes der(979, 0x30);
  Bytes value = bytes("01 03d5 00 01") + der;
  auto r = unwrap_certificate(value);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 979u);
  EXPECT_EQ(wrap_certificate(der), value);
}

TEST(Certificate, RejectsShortValues) {
  EXPECT_EQ(unwrap_error(Bytes{}), "certificate value of 0 bytes is too short (minimum 6)");
  EXPECT_EQ(unwrap_error(bytes("01 0002 00 01")), "certificate value of 5 bytes is too short (minimum 6)");
  auto r = unwrap_certificate(bytes("01 0003 00 01 30"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bytes("30"));
}

TEST(Certificate, RejectsInconsistentInnerLength) {
  EXPECT_EQ(unwrap_error(bytes("01 0002 00 01 3082")),
            "certificate inner length 2 leaves no room for the DER (minimum 3)");
  EXPECT_EQ(unwrap_error(bytes("01 0000 00 01 30")),
            "certificate inner length 0 leaves no room for the DER (minimum 3)");
  EXPECT_EQ(unwrap_error(bytes("01 0010 00 01 3082")),
            "certificate inner length 16 runs past end of value (4 bytes left)");
  EXPECT_EQ(unwrap_error(bytes("01 ffff 00 01 30")),
            "certificate inner length 65535 runs past end of value (3 bytes left)");
}

TEST(Certificate, LenientAboutMarkerAndTypeBytes) {
  auto r = unwrap_certificate(bytes("07 0004 ff 09 3000"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bytes("3000"));
}

TEST(Certificate, TrailingRecordIsNotGluedOntoTheDer) {
  auto r = unwrap_certificate(bytes("01 0004 00 01 3000  01 0004 00 02 3001"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, bytes("3000"));
}

// ---- SHA2_SIGNED_DATA ----

std::string sha2_error(const Bytes& v) {
  auto r = decode_sha2_signature(v);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

TEST(Sha2, Layout) {
  Sha2Signature s{WireHash::sha512, bytes("a1a2a3")};
  EXPECT_EQ(encode_sha2_signature(s), bytes("03 0003 a1a2a3"));
}

TEST(Sha2, RoundTrip) {
  for (WireHash h : {WireHash::sha1, WireHash::sha256, WireHash::sha512}) {
    Sha2Signature s{h, Bytes(256, 0x5a)};
    auto r = decode_sha2_signature(encode_sha2_signature(s));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, s);
  }
}

TEST(Sha2, UnknownHashIdIsKeptForTheVerifierToJudge) {
  auto r = decode_sha2_signature(bytes("09 0001 ff"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(static_cast<int>(r->hash), 9);
}

TEST(Sha2, Malformed) {
  EXPECT_EQ(sha2_error(Bytes{}), "sha2 signed data of 0 bytes is too short (minimum 4)");
  EXPECT_EQ(sha2_error(bytes("03 0001")), "sha2 signed data of 3 bytes is too short (minimum 4)");
  EXPECT_EQ(sha2_error(bytes("03 0000 00")), "sha2 signed data has an empty signature");
  EXPECT_EQ(sha2_error(bytes("03 0100 aabb")), "sha2 signature length 256 runs past end of value (2 bytes left)");
  EXPECT_EQ(sha2_error(bytes("03 0001 aabbcc")), "sha2 signed data has 2 trailing bytes after the signature");
}

// ---- SUDI_DATA ----

std::string sudi_error(const Bytes& v) {
  auto r = decode_sudi(v);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

TEST(Sudi, Layout) {
  SudiData s{bytes("3000"), bytes("11"), bytes("3333")};
  EXPECT_EQ(encode_sudi(s), bytes("00 0002 3000  01 0001 11  03 0002 3333"));
}

TEST(Sudi, RoundTrip) {
  SudiData s{test::der868(), Bytes(256, 1), Bytes(256, 3)};
  auto r = decode_sudi(encode_sudi(s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, s);
  SudiData cert_only{bytes("3000"), {}, {}};
  r = decode_sudi(encode_sudi(cert_only));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, cert_only);
}

TEST(Sudi, AnyOrderAndUnknownRecordsSkipped) {
  auto r = decode_sudi(bytes("03 0001 33  07 0002 7777  00 0002 3000  01 0001 11"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->certificate_der, bytes("3000"));
  EXPECT_EQ(r->sha1_signature, bytes("11"));
  EXPECT_EQ(r->sha512_signature, bytes("33"));
}

TEST(Sudi, Malformed) {
  EXPECT_EQ(sudi_error(Bytes{}), "sudi data has no certificate (record type 0)");
  EXPECT_EQ(sudi_error(bytes("01 0001 11")), "sudi data has no certificate (record type 0)");
  EXPECT_EQ(sudi_error(bytes("00 0000")), "sudi data has no certificate (record type 0)");
  EXPECT_EQ(sudi_error(bytes("00 0001 30  00 0001 31")), "duplicate sudi record type 0");
  EXPECT_EQ(sudi_error(bytes("00 0001 30  03 00")), "sudi record header truncated (2 bytes left, 3 needed)");
  EXPECT_EQ(sudi_error(bytes("00 0001 30  01 0100 1111")),
            "sudi record type 1 length 256 runs past end of value (2 bytes left)");
}

}  // namespace
}  // namespace capf::protocol
