// CAPF wire format (capf-protocol.md §2–§6) and the project's own rules (§11), with no
// sockets: bytes in, messages out, and the reverse. Every limit on untrusted input is here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capf/util/result.hpp"

namespace capf::protocol {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// First header byte of every message.
inline constexpr std::uint8_t kProtocolId = 0x55;
/// Header size: id, command, session id (u32), body length (u16).
inline constexpr std::size_t kHeaderSize = 8;
/// Protocol version the server announces.
inline constexpr std::uint8_t kServerVersion = 3;
/// Lowest phone VERSION accepted (§11.5; Jabber sends 2).
inline constexpr std::uint8_t kMinPhoneVersion = 1;
/// Highest phone VERSION accepted (§11.5).
inline constexpr std::uint8_t kMaxPhoneVersion = 3;

/// §11.3 limits on untrusted input.
struct Limits {
  std::size_t max_body = std::size_t{16} * 1024;    ///< body bytes after the header
  std::size_t max_element = std::size_t{8} * 1024;  ///< value bytes of one element
  std::size_t max_elements = 64;                    ///< elements in one body
};

/// Command (opcode), header byte 1. Names follow the server's point of view.
enum class Command : std::uint8_t {
  auth_request = 1,
  auth_response = 2,
  key_generate_request = 3,
  key_generate_response = 4,
  encrypt_response = 5,
  encrypt_request = 6,
  decrypt_request = 7,
  decrypt_response = 8,
  store_certificate_request = 9,
  store_certificate_response = 10,
  fetch_certificate_request = 11,
  fetch_certificate_response = 12,
  delete_certificate_request = 13,
  delete_certificate_response = 14,
  end_session = 15,
  retry_later = 16,
  request_in_progress = 17,
  status_request = 18,
  status_response = 19,
  abort_request = 20,
  abort_response = 21,
  sign_certificate_request = 22,   ///< §11.1: server asks for a CSR
  sign_certificate_response = 23,  ///< §11.1: phone answers with a CSR
};

/// Element tag.
enum class Tag : std::uint8_t {
  reason = 1,
  reason_info = 2,
  certificate_type = 3,
  certificate = 4,
  certificate_id = 5,
  signed_data = 6,
  version = 7,
  auth_type = 8,
  public_key = 9,
  key_size = 10,
  password = 11,
  retry_delay = 12,
  device_name = 13,
  sudi_data = 16,
  key_type = 17,
  curve = 18,
  digest_type = 19,
  sha2_signed_data = 20,
  csr_subject = 21,  ///< ours (§11.1)
  csr = 22,          ///< ours (§11.1)
};

/// REASON values (§6).
enum class Reason : std::uint8_t {
  no_action = 0,
  ok = 1,
  refused = 7,
  unknown_device = 9,
};

/// CERTIFICATE_TYPE values.
enum class CertificateType : std::uint8_t { lsc = 1, mic = 2 };

/// KEY_TYPE values.
enum class WireKeyType : std::uint8_t { rsa = 0, ec = 1 };

/// CURVE values.
enum class WireCurve : std::uint8_t { p256 = 0, p384 = 1, p521 = 2 };

/// AUTH_TYPE values (mirror capfAuthMode).
enum class WireAuthType : std::uint8_t { unspecified = 0, auth_string = 1, null_string = 2, lsc = 3, mic = 4 };

/// Hash ids inside SHA2_SIGNED_DATA and SUDI_DATA.
enum class WireHash : std::uint8_t { sha1 = 1, sha256 = 2, sha512 = 3 };

/// Name of a command for logs ("AUTH_RESPONSE"); "COMMAND_<n>" when unknown.
std::string command_name(std::uint8_t command);
/// Overload for the enum, same names.
inline std::string command_name(Command command) {
  return command_name(static_cast<std::uint8_t>(command));
}

/// Name of an element tag for logs and errors ("DEVICE_NAME"); "TAG_<n>" when unknown.
std::string tag_name(std::uint8_t tag);
/// Overload for the enum, same names.
inline std::string tag_name(Tag tag) {
  return tag_name(static_cast<std::uint8_t>(tag));
}

/// One TLV element. Unknown tags are kept (and skipped by the typed parsers).
struct Element {
  std::uint8_t tag = 0;  ///< raw tag byte (a Tag value or an unknown one)
  Bytes value;           ///< the value, without tag and length

  /// Same tag and same value bytes.
  friend bool operator==(const Element&, const Element&) = default;
};

/// One CAPF message.
struct Message {
  std::uint8_t command = 0;       ///< raw command byte (a Command value or an unknown one)
  std::uint32_t session_id = 0;   ///< chosen by the server, echoed by the phone
  std::vector<Element> elements;  ///< in wire order, unknown tags included

  /// An empty message with command 0.
  Message() = default;
  /// An empty message of the given command and session.
  Message(Command c, std::uint32_t sid) : command(static_cast<std::uint8_t>(c)), session_id(sid) {}

  /// First element with the tag, or nullptr.
  const Element* find(Tag tag) const;
  /// Typed reads of an element; nullopt when absent or of the wrong size.
  std::optional<std::uint8_t> u8(Tag tag) const;
  /// Big-endian u16 value; nullopt when absent or not exactly 2 bytes.
  std::optional<std::uint16_t> u16(Tag tag) const;
  /// NUL-terminated string value without its NUL (a value without NUL is taken whole).
  std::optional<std::string> str(Tag tag) const;

  /// Appends a 1-byte element; returns *this for chaining.
  Message& add_u8(Tag tag, std::uint8_t v);
  /// Appends a 2-byte big-endian element.
  Message& add_u16(Tag tag, std::uint16_t v);
  /// Adds the string with its trailing NUL.
  Message& add_string(Tag tag, std::string_view s);
  /// Appends an element holding the bytes as they are.
  Message& add_bytes(Tag tag, ByteView v);

  /// True when the command byte is c.
  bool is(Command c) const { return command == static_cast<std::uint8_t>(c); }

  /// Same command, session id and elements in the same order.
  friend bool operator==(const Message&, const Message&) = default;
};

/// Serialises a message: header + elements. Fails when a limit (or the u16 wire fields)
/// would be exceeded, so nothing we send could be rejected by our own decoder.
Result<Bytes> encode(const Message& m, const Limits& limits = {});

/// Incremental decoder for a byte stream: feed bytes, take messages out.
class Decoder {
 public:
  /// A decoder enforcing the given limits.
  explicit Decoder(Limits limits = {}) : limits_(limits) {}

  /// What next() found.
  enum class Status { message, need_more, error };
  /// Result of next().
  struct Output {
    /// message, need_more or error.
    Status status = Status::need_more;
    Message message;    ///< valid when status == message
    std::string error;  ///< set when status == error: what was wrong, e.g. "body length 20000 exceeds limit 16384"
  };

  /// Appends received bytes (any chunking); ignored once the decoder has failed.
  void feed(ByteView bytes);
  /// Takes the next complete message, or reports need_more / error. After an error the
  /// decoder stays in error.
  Output next();
  /// Bytes still needed before the next message can be complete (at least 1 when unknown);
  /// lets a reader issue exact-size reads. 8 at the start of a message, then the rest of the
  /// body once the header is in; 0 when next() already has a message or an error to return.
  std::size_t bytes_wanted() const;
  /// True once a violation was found; the decoder then rejects everything.
  bool failed() const { return !error_.empty(); }
  /// Bytes received but not yet returned as messages.
  std::size_t buffered() const { return buffer_.size() - offset_; }
  /// Bytes of memory the buffer holds, consumed or not (stays bounded across a session).
  std::size_t capacity() const { return buffer_.capacity(); }

 private:
  Limits limits_;           ///< enforced on every message
  Bytes buffer_;            ///< received bytes; [0, offset_) already returned, compacted lazily
  std::size_t offset_ = 0;  ///< start of the first message not yet returned
  std::string error_;       ///< non-empty once failed; repeated by every later next()
};

/// Decodes exactly one complete message from `bytes` (header + body, nothing more);
/// a short body or trailing bytes are errors.
Result<Message> decode_one(ByteView bytes, const Limits& limits = {});

/// Parses just the header: {command, session id, body length}; the length is checked
/// against limits.max_body. Reads the first 8 bytes; fewer is a "truncated header" error.
struct Header {
  std::uint8_t command = 0;       ///< raw command byte
  std::uint32_t session_id = 0;   ///< big-endian on the wire
  std::uint16_t body_length = 0;  ///< already checked against limits.max_body
};
Result<Header> decode_header(ByteView header8, const Limits& limits = {});
/// Parses a body into elements under the limits.
Result<std::vector<Element>> decode_elements(ByteView body, const Limits& limits = {});

/// CERTIFICATE value: 0x01 | inner_len:u16 (= 2 + len(DER)) | 0x00 | type | DER.
Bytes wrap_certificate(ByteView der, CertificateType type = CertificateType::lsc);
/// The DER inside a CERTIFICATE value (lenient: checks sizes, skips the 5-byte prefix).
/// Needs at least 6 bytes and an inner_len in [3, size-3]; the marker and type bytes are
/// not checked; bytes past inner_len (a second record?) are ignored.
Result<Bytes> unwrap_certificate(ByteView value);

/// SHA2_SIGNED_DATA value: hash_alg:u8 | len:u16 | signature.
struct Sha2Signature {
  WireHash hash = WireHash::sha512;  ///< any id is kept on decode; the verifier decides
  Bytes signature;                   ///< non-empty

  /// Same hash id and signature bytes.
  friend bool operator==(const Sha2Signature&, const Sha2Signature&) = default;
};
/// The SHA2_SIGNED_DATA value bytes.
Bytes encode_sha2_signature(const Sha2Signature& s);
/// Strict: the length must cover exactly the rest of the value, and be non-zero.
Result<Sha2Signature> decode_sha2_signature(ByteView value);

/// SUDI_DATA value: 0x00|len|cert DER, 0x01|len|SHA-1 sig, 0x03|len|SHA-512 sig.
struct SudiData {
  Bytes certificate_der;   ///< record 0x00, required and non-empty
  Bytes sha1_signature;    ///< record 0x01, empty when absent
  Bytes sha512_signature;  ///< record 0x03, empty when absent

  /// Same certificate and signatures.
  friend bool operator==(const SudiData&, const SudiData&) = default;
};
/// The SUDI_DATA value: all three records, in the order 0, 1, 3.
Bytes encode_sudi(const SudiData& s);
/// Records in any order; unknown record types skipped; a duplicate or a missing certificate
/// is an error.
Result<SudiData> decode_sudi(ByteView value);

}  // namespace capf::protocol
