// libFuzzer target for the protocol layer. Drives the stream Decoder with input-derived chunk
// sizes, decode_one, every typed parser and every composite-value decoder, and aborts when a
// decoded thing does not re-encode to what it came from. Built by scripts/fuzz.sh.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "capf/protocol/messages.hpp"
#include "capf/protocol/wire.hpp"
#include "capf/util/text.hpp"

using namespace capf::protocol;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "protocol_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, detail)      \
  do {                                \
    if (!(cond)) fail(#cond, detail); \
  } while (0)

std::string hex(ByteView b) {
  return capf::util::to_hex(b.size() > 256 ? b.first(256) : b);
}

// Small deterministic generator seeded from the input, so a crash reproduces from its file.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

std::uint64_t fnv1a(ByteView b) {
  std::uint64_t h = 1469598103934665603ull;
  for (auto c : b) h = (h ^ c) * 1099511628211ull;
  return h | 1;
}

// A parsed value must survive build → parse unchanged, and if the rebuilt message fits the
// limits it must survive the wire too.
template <class T, class Build, class Parse>
void typed_round_trip(const char* name, const T& parsed, Build build_fn, Parse parse_fn) {
  Message rebuilt = build_fn(parsed);
  auto again = parse_fn(rebuilt);
  FUZZ_CHECK(again.ok(), std::string(name) + " rebuilt message does not parse: " + again.error().message);
  FUZZ_CHECK(*again == parsed, std::string(name) + " changed in build/parse round trip");
  auto wire = encode(rebuilt);
  if (!wire) return;
  auto decoded = decode_one(*wire);
  FUZZ_CHECK(decoded.ok(), std::string(name) + " encoded message does not decode: " + decoded.error().message);
  FUZZ_CHECK(*decoded == rebuilt, std::string(name) + " changed on the wire");
}

template <class Parse, class Build>
void try_as(const Message& m, Command c, const char* name, Parse parse_fn, Build build_fn) {
  Message as = m;
  as.command = static_cast<std::uint8_t>(c);
  auto parsed = parse_fn(as);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty(), std::string(name) + " error without a message");
    return;
  }
  typed_round_trip(
      name, *parsed, [&](const auto& v) { return build_fn(v, as.session_id); }, parse_fn);
}

void check_values(const Element& e) {
  if (auto der = unwrap_certificate(e.value)) {
    FUZZ_CHECK(!der->empty() && der->size() + 5 <= e.value.size(), "unwrap size " + hex(e.value));
    auto again = unwrap_certificate(wrap_certificate(*der));
    FUZZ_CHECK(again.ok() && *again == *der, "certificate wrap/unwrap " + hex(e.value));
  }
  if (auto sig = decode_sha2_signature(e.value)) {
    // The layout has no slack, so re-encoding must give the very same bytes.
    FUZZ_CHECK(encode_sha2_signature(*sig) == e.value, "sha2 re-encode " + hex(e.value));
  }
  if (auto sudi = decode_sudi(e.value)) {
    auto again = decode_sudi(encode_sudi(*sudi));
    FUZZ_CHECK(again.ok() && *again == *sudi, "sudi round trip " + hex(e.value));
  }
}

void check_message(const Message& m, ByteView original) {
  auto wire = encode(m);
  FUZZ_CHECK(wire.ok(), "decoded message does not re-encode: " + (wire.ok() ? "" : wire.error().message));
  FUZZ_CHECK(ByteView(*wire).size() == original.size() && std::equal(wire->begin(), wire->end(), original.begin()),
             "re-encoded bytes differ: " + hex(original) + " vs " + hex(*wire));

  // The accessors must be safe on any value.
  // Known tags plus whatever tags the message carries covers every present/absent case.
  std::vector<std::uint8_t> tags;
  for (int t = 0; t <= 23; ++t) tags.push_back(static_cast<std::uint8_t>(t));
  for (const auto& e : m.elements) tags.push_back(e.tag);
  for (auto t : tags) {
    auto tag = static_cast<Tag>(t);
    (void)m.u8(tag);
    (void)m.u16(tag);
    (void)m.str(tag);
  }
  for (const auto& e : m.elements) check_values(e);

  // Every parser on every message, whatever its command: parsers must not depend on the
  // command being right to stay memory-safe.
  try_as(m, Command::auth_request, "AUTH_REQUEST", parse_auth_request,
         [](const AuthRequest& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::auth_response, "AUTH_RESPONSE", parse_auth_response,
         [](const AuthResponse& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::key_generate_request, "KEY_GENERATE_REQUEST", parse_key_generate_request,
         [](const KeyGenerateRequest& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::key_generate_response, "KEY_GENERATE_RESPONSE", parse_key_generate_response,
         [](const KeyGenerateResponse& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::store_certificate_request, "STORE_CERTIFICATE_REQUEST", parse_store_certificate_request,
         [](const StoreCertificateRequest& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::store_certificate_response, "STORE_CERTIFICATE_RESPONSE", parse_certificate_response,
         build_store_response);
  try_as(m, Command::fetch_certificate_response, "FETCH_CERTIFICATE_RESPONSE", parse_certificate_response,
         build_fetch_response);
  try_as(m, Command::fetch_certificate_response, "FETCH_CERTIFICATE_RESPONSE (Troubleshoot)", parse_fetch_response,
         [](const FetchResponse& v, std::uint32_t s) { return build(v, s); });
  try_as(m, Command::delete_certificate_response, "DELETE_CERTIFICATE_RESPONSE", parse_certificate_response,
         build_delete_response);
  try_as(m, Command::end_session, "END_SESSION", parse_end_session, build_end_session);
  try_as(m, Command::sign_certificate_request, "SIGN_CERTIFICATE_REQUEST", parse_sign_request,
         [](const Bytes& v, std::uint32_t s) { return build_sign_request(v, s); });
  try_as(m, Command::sign_certificate_response, "SIGN_CERTIFICATE_RESPONSE", parse_sign_response,
         [](const SignResponse& v, std::uint32_t s) { return build(v, s); });
  (void)command_name(m.command);
}

struct StreamResult {
  std::vector<Message> messages;
  std::string error;
};

// How run_decoder cuts the input.
enum class Cut { random, whole, exact_reads };

// Feeds the input in chunks and checks the decoder's bookkeeping after every step.
StreamResult run_decoder(ByteView input, Rng& rng, Cut cut, std::size_t max_chunk, const Limits& limits, bool check) {
  StreamResult out;
  Decoder d(limits);
  std::size_t pos = 0;
  std::size_t message_start = 0;
  while (pos < input.size() && !d.failed()) {
    std::size_t n = input.size();
    if (cut == Cut::random) n = 1 + rng.next() % max_chunk;
    if (cut == Cut::exact_reads) n = d.bytes_wanted();
    if (n == 0) n = 1;  // an error is pending; the loop sees it after this feed
    n = std::min(n, input.size() - pos);
    d.feed(input.subspan(pos, n));
    pos += n;
    for (;;) {
      auto o = d.next();
      if (o.status == Decoder::Status::need_more) {
        FUZZ_CHECK(d.bytes_wanted() > 0, "need_more with bytes_wanted 0");
        break;
      }
      if (o.status == Decoder::Status::error) {
        FUZZ_CHECK(!o.error.empty() && d.failed() && d.bytes_wanted() == 0, "error state inconsistent");
        out.error = o.error;
        break;
      }
      auto wire = encode(o.message, limits);
      FUZZ_CHECK(wire.ok(), "stream message does not re-encode");
      FUZZ_CHECK(message_start + wire->size() <= pos, "message extends past fed bytes");
      FUZZ_CHECK(std::equal(wire->begin(), wire->end(), input.begin() + message_start),
                 "stream message re-encodes differently at offset " + std::to_string(message_start));
      if (check) check_message(o.message, input.subspan(message_start, wire->size()));
      message_start += wire->size();
      out.messages.push_back(std::move(o.message));
    }
    FUZZ_CHECK(d.buffered() == pos - message_start || d.failed(), "buffered() disagrees with bytes consumed");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView input(data, size);

  if (auto one = decode_one(input)) check_message(*one, input);
  (void)decode_header(input);
  (void)decode_elements(input);
  (void)unwrap_certificate(input);
  (void)decode_sha2_signature(input);
  (void)decode_sudi(input);

  // The same stream cut three ways must give the same messages and the same error.
  Rng rng{fnv1a(input)};
  static constexpr std::size_t kMaxChunks[] = {1, 3, 17, 300, 5000};
  std::size_t max_chunk = kMaxChunks[rng.next() % std::size(kMaxChunks)];
  StreamResult chunked = run_decoder(input, rng, Cut::random, max_chunk, Limits{}, true);
  StreamResult whole = run_decoder(input, rng, Cut::whole, 0, Limits{}, false);
  StreamResult exact = run_decoder(input, rng, Cut::exact_reads, 0, Limits{}, false);
  FUZZ_CHECK(chunked.messages == whole.messages && chunked.error == whole.error,
             "chunking changed the result: " + chunked.error + " / " + whole.error);
  FUZZ_CHECK(exact.messages == whole.messages && exact.error == whole.error,
             "exact-size reads changed the result: " + exact.error + " / " + whole.error);

  // Tight limits derived from the input reach the limit paths with short inputs.
  Limits tight{.max_body = rng.next() % 64, .max_element = rng.next() % 16, .max_elements = rng.next() % 8};
  (void)run_decoder(input, rng, Cut::random, 1 + rng.next() % 16, tight, false);
  return 0;
}
