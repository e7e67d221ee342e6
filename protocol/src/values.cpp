// Composite element values: CERTIFICATE (tag 4), SHA2_SIGNED_DATA (tag 20), SUDI_DATA (tag 16).
#include <string>

#include "capf/protocol/wire.hpp"
#include "wire_detail.hpp"

namespace capf::protocol {

namespace {

Error value_error(std::string message) {
  return make_error(Errc::protocol, std::move(message));
}

constexpr std::size_t kCertificatePrefix = 5;  // 0x01 | inner_len:u16 | 0x00 | type
constexpr std::uint8_t kSudiCertificate = 0x00;
constexpr std::uint8_t kSudiSha1 = 0x01;
constexpr std::uint8_t kSudiSha512 = 0x03;

void put_record(Bytes& out, std::uint8_t type, const Bytes& value) {
  out.push_back(type);
  detail::put_u16(out, static_cast<std::uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

}  // namespace

Bytes wrap_certificate(ByteView der, CertificateType type) {
  Bytes out;
  out.reserve(kCertificatePrefix + der.size());
  out.push_back(0x01);
  // A DER over 64 KiB would wrap this field, but encode() rejects such an element anyway.
  detail::put_u16(out, static_cast<std::uint16_t>(2 + der.size()));
  out.push_back(0x00);
  out.push_back(static_cast<std::uint8_t>(type));
  out.insert(out.end(), der.begin(), der.end());
  return out;
}

Result<Bytes> unwrap_certificate(ByteView value) {
  if (value.size() < kCertificatePrefix + 1) {
    return value_error("certificate value of " + std::to_string(value.size()) + " bytes is too short (minimum " +
                       std::to_string(kCertificatePrefix + 1) + ")");
  }
  // The leading 0x01 and the type bytes are not checked: their meaning is uncertain (§3) and
  // both reference implementations ignore them. Only the length must be consistent.
  std::size_t inner = detail::read_u16(value.data() + 1);
  std::size_t after_length = value.size() - 3;
  if (inner < 3) {
    return value_error("certificate inner length " + std::to_string(inner) + " leaves no room for the DER (minimum 3)");
  }
  if (inner > after_length) {
    return value_error("certificate inner length " + std::to_string(inner) + " runs past end of value (" +
                       std::to_string(after_length) + " bytes left)");
  }
  // Bytes past inner_len are ignored rather than glued onto the DER: if a phone ever sends a
  // second record (LSC + MIC), the first certificate still comes out intact.
  return Bytes(value.begin() + kCertificatePrefix, value.begin() + 3 + static_cast<std::ptrdiff_t>(inner));
}

Bytes encode_sha2_signature(const Sha2Signature& s) {
  Bytes out;
  out.reserve(3 + s.signature.size());
  put_record(out, static_cast<std::uint8_t>(s.hash), s.signature);
  return out;
}

Result<Sha2Signature> decode_sha2_signature(ByteView value) {
  if (value.size() < 4) {
    return value_error("sha2 signed data of " + std::to_string(value.size()) + " bytes is too short (minimum 4)");
  }
  std::size_t length = detail::read_u16(value.data() + 1);
  std::size_t left = value.size() - 3;
  if (length == 0) return value_error("sha2 signed data has an empty signature");
  if (length > left) {
    return value_error("sha2 signature length " + std::to_string(length) + " runs past end of value (" +
                       std::to_string(left) + " bytes left)");
  }
  if (length < left) {
    return value_error("sha2 signed data has " + std::to_string(left - length) + " trailing bytes after the signature");
  }
  Sha2Signature s;
  // Any hash id is kept: which ones are acceptable is the verifier's decision (capfd wants 3).
  s.hash = static_cast<WireHash>(value[0]);
  s.signature.assign(value.begin() + 3, value.end());
  return s;
}

Bytes encode_sudi(const SudiData& s) {
  Bytes out;
  out.reserve(9 + s.certificate_der.size() + s.sha1_signature.size() + s.sha512_signature.size());
  put_record(out, kSudiCertificate, s.certificate_der);
  put_record(out, kSudiSha1, s.sha1_signature);
  put_record(out, kSudiSha512, s.sha512_signature);
  return out;
}

Result<SudiData> decode_sudi(ByteView value) {
  SudiData s;
  bool seen[4] = {false, false, false, false};
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t left = value.size() - pos;
    if (left < 3) {
      return value_error("sudi record header truncated (" + std::to_string(left) + " bytes left, 3 needed)");
    }
    std::uint8_t type = value[pos];
    std::size_t length = detail::read_u16(value.data() + pos + 1);
    pos += 3;
    left -= 3;
    if (length > left) {
      return value_error("sudi record type " + std::to_string(type) + " length " + std::to_string(length) +
                         " runs past end of value (" + std::to_string(left) + " bytes left)");
    }
    ByteView record = value.subspan(pos, length);
    pos += length;
    Bytes* target = nullptr;
    if (type == kSudiCertificate) target = &s.certificate_der;
    if (type == kSudiSha1) target = &s.sha1_signature;
    if (type == kSudiSha512) target = &s.sha512_signature;
    // Unknown record types are skipped, like unknown element tags.
    if (target == nullptr) continue;
    if (seen[type]) return value_error("duplicate sudi record type " + std::to_string(type));
    seen[type] = true;
    target->assign(record.begin(), record.end());
  }
  if (s.certificate_der.empty()) return value_error("sudi data has no certificate (record type 0)");
  return s;
}

}  // namespace capf::protocol
