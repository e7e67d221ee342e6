// The incremental Decoder: arbitrary chunking, exact bytes_wanted, sticky errors, compaction.
#include <gtest/gtest.h>

#include <random>

#include "capf/protocol/messages.hpp"
#include "test_bytes.hpp"

namespace capf::protocol {
namespace {

using test::bytes;
using test::operator+;
using test::must_encode;

// A few messages of different shapes, including an empty body and a large element.
std::vector<Message> sample_messages() {
  std::vector<Message> out;
  out.push_back(build(AuthRequest{}, 5));
  AuthResponse a;
  a.device_name = "SEP00AABBCCDDEE";
  a.password = "9876";
  out.push_back(build(a, 5));
  out.push_back(build_empty(Command::request_in_progress, 5));
  KeyGenerateResponse k;
  k.public_key = test::rsa2048_spki();
  out.push_back(build(k, 5));
  StoreCertificateRequest s;
  s.certificate_der = Bytes(8000, 0x42);
  out.push_back(build(s, 5));
  out.push_back(build_end_session(Reason::ok, 5));
  return out;
}

Bytes concat(const std::vector<Message>& ms) {
  Bytes out;
  for (const auto& m : ms) out = out + must_encode(m);
  return out;
}

std::vector<Message> drain(Decoder& d) {
  std::vector<Message> out;
  for (;;) {
    auto o = d.next();
    EXPECT_NE(o.status, Decoder::Status::error) << o.error;
    if (o.status != Decoder::Status::message) return out;
    out.push_back(std::move(o.message));
  }
}

TEST(Decoder, StartsWantingAHeader) {
  Decoder d;
  EXPECT_EQ(d.bytes_wanted(), 8u);
  EXPECT_EQ(d.next().status, Decoder::Status::need_more);
  EXPECT_FALSE(d.failed());
}

TEST(Decoder, OneByteAtATimeWithExactBytesWanted) {
  Bytes wire = must_encode(build_end_session(Reason::refused, 77));  // 8 + 4 bytes
  Decoder d;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    std::size_t expected = i < 8 ? 8 - i : wire.size() - i;
    EXPECT_EQ(d.bytes_wanted(), expected) << "after " << i << " bytes";
    EXPECT_EQ(d.next().status, Decoder::Status::need_more);
    d.feed(ByteView(&wire[i], 1));
  }
  EXPECT_EQ(d.bytes_wanted(), 0u);
  auto o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::message) << o.error;
  EXPECT_EQ(o.message, build_end_session(Reason::refused, 77));
  EXPECT_EQ(d.bytes_wanted(), 8u);
  EXPECT_EQ(d.next().status, Decoder::Status::need_more);
}

TEST(Decoder, ExactSizeReadsFollowingBytesWanted) {
  auto expected = sample_messages();
  Bytes stream = concat(expected);
  Decoder d;
  std::vector<Message> got;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    std::size_t want = d.bytes_wanted();
    ASSERT_GT(want, 0u);
    ASSERT_LE(pos + want, stream.size());
    d.feed(ByteView(stream).subspan(pos, want));
    pos += want;
    for (auto& m : drain(d)) got.push_back(std::move(m));
    // Exact reads never overshoot: only a whole header or nothing is ever left over.
    EXPECT_TRUE(d.buffered() == 0 || d.buffered() == kHeaderSize) << d.buffered();
  }
  EXPECT_EQ(got, expected);
}

TEST(Decoder, EveryMessageAtOnce) {
  auto expected = sample_messages();
  Decoder d;
  d.feed(concat(expected));
  EXPECT_EQ(drain(d), expected);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Decoder, RandomChunks) {
  auto expected = sample_messages();
  Bytes stream = concat(expected);
  for (unsigned seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, seed % 2 ? 16 : 3000);
    Decoder d;
    std::vector<Message> got;
    for (std::size_t pos = 0; pos < stream.size();) {
      std::size_t n = std::min(size(rng), stream.size() - pos);
      d.feed(ByteView(stream).subspan(pos, n));
      pos += n;
      for (auto& m : drain(d)) got.push_back(std::move(m));
    }
    EXPECT_EQ(got, expected) << "seed " << seed;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(Decoder, PartialTailStaysBuffered) {
  Bytes one = must_encode(build_end_session(Reason::ok, 1));
  Decoder d;
  d.feed(one + one + Bytes(one.begin(), one.begin() + 5));
  EXPECT_EQ(drain(d).size(), 2u);
  EXPECT_EQ(d.buffered(), 5u);
  EXPECT_EQ(d.bytes_wanted(), 3u);
  d.feed(Bytes(one.begin() + 5, one.end()));
  EXPECT_EQ(drain(d).size(), 1u);
}

TEST(Decoder, BufferDoesNotGrowAcrossManyMessages) {
  Bytes one = must_encode(build_end_session(Reason::ok, 1));  // 12 bytes
  Bytes stream;
  for (int i = 0; i < 20000; ++i) stream.insert(stream.end(), one.begin(), one.end());
  Decoder d;
  std::size_t received = 0;
  // 18-byte chunks: a message and a half, so the buffer never drains completely and the
  // consumed prefix has to be compacted away.
  for (std::size_t pos = 0; pos < stream.size(); pos += 18) {
    d.feed(ByteView(stream).subspan(pos, std::min<std::size_t>(18, stream.size() - pos)));
    received += drain(d).size();
    ASSERT_LT(d.buffered(), one.size());
    ASSERT_LE(d.capacity(), 256u) << "at byte " << pos;
  }
  EXPECT_EQ(received, 20000u);
}

TEST(Decoder, OneHugeFeedDoesNotPinItsMemory) {
  Bytes one = must_encode(build_end_session(Reason::ok, 1));
  Bytes stream;
  for (int i = 0; i < 20000; ++i) stream.insert(stream.end(), one.begin(), one.end());
  Decoder d;
  d.feed(stream);
  EXPECT_EQ(drain(d).size(), 20000u);
  d.feed(Bytes(one.begin(), one.begin() + 3));
  EXPECT_EQ(d.next().status, Decoder::Status::need_more);
  d.feed(Bytes(one.begin() + 3, one.end()));
  EXPECT_EQ(drain(d).size(), 1u);
  EXPECT_LE(d.capacity(), 4 * (kHeaderSize + Limits{}.max_body));
}

TEST(Decoder, OversizedBodyFailsBeforeTheBodyArrives) {
  Decoder d;
  d.feed(bytes("55 02 00000002 4e20"));
  EXPECT_EQ(d.bytes_wanted(), 0u);
  auto o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "body length 20000 exceeds limit 16384");
}

TEST(Decoder, ErrorsAreSticky) {
  Decoder d;
  d.feed(bytes("54 01 00000002 0000"));
  auto o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "bad protocol id 0x54");
  EXPECT_TRUE(d.failed());
  d.feed(must_encode(build_end_session(Reason::ok, 2)));
  o = d.next();
  EXPECT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "bad protocol id 0x54");
  EXPECT_EQ(d.bytes_wanted(), 0u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Decoder, MessagesBeforeAnErrorAreDelivered) {
  Decoder d;
  d.feed(must_encode(build_end_session(Reason::ok, 2)) + bytes("55 04 00000002 0006  09 012c 000000"));
  auto o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::message);
  o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "element 1 (tag 9) length 300 runs past end of body (3 bytes left)");
}

TEST(Decoder, ElementLimitsApplyInTheStream) {
  Bytes body;
  for (int i = 0; i < 65; ++i) body = body + bytes("01 0001 01");
  Decoder d;
  d.feed(bytes("55 02 00000002 0104") + body);
  auto o = d.next();
  ASSERT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "element 65 exceeds limit of 64 elements");

  Decoder big;
  big.feed(bytes("55 04 00000002 2004  09 2001") + Bytes(8193, 0));
  o = big.next();
  ASSERT_EQ(o.status, Decoder::Status::error);
  EXPECT_EQ(o.error, "element 1 (tag 9) length 8193 exceeds limit 8192");
}

TEST(Decoder, TruncatedStreamJustWaits) {
  Decoder d;
  d.feed(bytes("55 0f 000000"));
  EXPECT_EQ(d.next().status, Decoder::Status::need_more);
  EXPECT_EQ(d.bytes_wanted(), 3u);
  EXPECT_EQ(d.buffered(), 5u);
}

}  // namespace
}  // namespace capf::protocol
