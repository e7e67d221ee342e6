// Troubleshoot's reading of FETCH_CERTIFICATE_RESPONSE: lenient, because how a phone returns a
// MIC or two certificates is not confirmed (capf-protocol.md §3, §5.5).
#include <gtest/gtest.h>

#include "capf/protocol/messages.hpp"
#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;

constexpr std::uint8_t kLsc = 1, kMic = 2;

Message fetch(std::initializer_list<Element> elements) {
  Message m(Command::fetch_certificate_response, 2);
  m.elements = elements;
  return m;
}

Element reason(std::uint8_t r) { return Element{static_cast<std::uint8_t>(Tag::reason), {r}}; }
Element certificate(Bytes value) { return Element{static_cast<std::uint8_t>(Tag::certificate), std::move(value)}; }

FetchResponse parsed(const Message& m) {
  auto r = parse_fetch_response(m);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : FetchResponse{};
}

const Bytes kLscDer = bytes("30 03 020101");
const Bytes kMicDer = bytes("30 04 02020102");

TEST(FetchResponse, OneLscAsCapfdSendsIt) {
  // §5.5 and the CUCM capture: 04 | 01 inner_len 00 01 DER.
  auto r = parsed(fetch({reason(1), certificate(bytes("01 0007 0001") + kLscDer)}));
  EXPECT_EQ(r.reason, 1);
  ASSERT_EQ(r.certificates.size(), 1u);
  EXPECT_EQ(r.certificates[0], (FetchedCertificate{kLsc, kLscDer}));
  EXPECT_TRUE(r.skipped.empty());
}

TEST(FetchResponse, LscAndMicInTwoElementsKeepTheirInnerTypes) {
  auto r = parsed(fetch({reason(1), certificate(bytes("01 0007 0001") + kLscDer),
                         certificate(bytes("02 0008 0002") + kMicDer)}));
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[0], (FetchedCertificate{kLsc, kLscDer}));
  EXPECT_EQ(r.certificates[1], (FetchedCertificate{kMic, kMicDer}));
}

TEST(FetchResponse, LscAndMicInOneElementAreBothRead) {
  auto r = parsed(fetch({reason(1), certificate(bytes("01 0008 0002") + kMicDer + bytes("02 0007 0001") + kLscDer)}));
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[0], (FetchedCertificate{kMic, kMicDer}));
  EXPECT_EQ(r.certificates[1], (FetchedCertificate{kLsc, kLscDer}));
  EXPECT_TRUE(r.skipped.empty());
}

TEST(FetchResponse, CertificateTypeElementNamesARecordWithoutAKnownInnerType) {
  // A bare DER (no wrap) after CERTIFICATE_TYPE 2, and a wrap whose type bytes say nothing.
  auto r = parsed(fetch({reason(1), Element{static_cast<std::uint8_t>(Tag::certificate_type), {2}},
                         certificate(kMicDer), certificate(bytes("01 0007 0000") + kLscDer)}));
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[0], (FetchedCertificate{kMic, kMicDer}));
  EXPECT_EQ(r.certificates[1].type, kMic);
  // No hint at all: type 0, still kept.
  auto bare = parsed(fetch({certificate(kLscDer)}));
  ASSERT_EQ(bare.certificates.size(), 1u);
  EXPECT_EQ(bare.certificates[0], (FetchedCertificate{0, kLscDer}));
  EXPECT_FALSE(bare.reason.has_value());
}

TEST(FetchResponse, ARecordThatDoesNotFitIsSkippedAndNamedTheRestKept) {
  // The first element is fine; the second has a good record, then an inner length past its end.
  auto r = parsed(fetch({reason(1), certificate(bytes("01 0007 0001") + kLscDer),
                         certificate(bytes("01 0008 0002") + kMicDer + bytes("01 0100 0001 3000")),
                         certificate(bytes("01 0001")), certificate({})}));
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[1], (FetchedCertificate{kMic, kMicDer}));
  ASSERT_EQ(r.skipped.size(), 3u);
  EXPECT_EQ(r.skipped[0], "CERTIFICATE (tag 4) #2: record at byte 11 has inner length 256 with 4 bytes left");
  EXPECT_EQ(r.skipped[1], "CERTIFICATE (tag 4) #3: 3 trailing bytes");
  EXPECT_EQ(r.skipped[2], "CERTIFICATE (tag 4) #4: empty");
}

TEST(FetchResponse, NoCertificateIsNotAnError) {
  auto r = parsed(fetch({reason(7)}));
  EXPECT_EQ(r.reason, 7);
  EXPECT_TRUE(r.certificates.empty());
  EXPECT_TRUE(parsed(fetch({})).certificates.empty());
}

TEST(FetchResponse, OnlyAMalformedReasonOrAnotherCommandIsAnError) {
  auto bad = parse_fetch_response(fetch({Element{static_cast<std::uint8_t>(Tag::reason), {1, 1}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "FETCH_CERTIFICATE_RESPONSE: malformed REASON (tag 1): 2 bytes, expected 1");
  Message other(Command::delete_certificate_response, 2);
  EXPECT_FALSE(parse_fetch_response(other).ok());
}

TEST(FetchResponse, BuildThenParseGivesTheSameCertificates) {
  const FetchResponse sent{1, {{kLsc, kLscDer}, {kMic, kMicDer}, {0, kLscDer}}, {}};
  auto decoded = decode_one(*encode(build(sent, 9)));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(parsed(*decoded), sent);
}

}  // namespace
}  // namespace capf::protocol
