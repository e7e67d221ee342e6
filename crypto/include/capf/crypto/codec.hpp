// Digests, HMAC, base64/PEM armour and PKCS#7 certificate bundles: the encodings external CAs
// speak (AD CS web enrollment, cfssl). OpenSSL stays inside crypto/src.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capf/crypto/crypto.hpp"

namespace capf::crypto {

/// SHA-256 of the bytes.
Bytes sha256(ByteView data);
/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(ByteView data);
/// HMAC-SHA256(key, data) (cfssl's authenticated sign token).
Bytes hmac_sha256(ByteView key, ByteView data);

/// Standard base64 with padding, on one line.
std::string base64_encode(ByteView data);
/// Decodes standard base64; white space (line breaks) is skipped. Errors (Errc::invalid_argument)
/// on any other character outside the alphabet or a bad length/padding.
Result<Bytes> base64_decode(std::string_view text);

/// PEM armour: "-----BEGIN <label>-----", base64 in 64-character lines, "-----END <label>-----\n".
std::string pem_encode(std::string_view label, ByteView der);
/// The DER of the first "<label>" PEM block in `text`; an error naming the label when there is
/// none or its base64 is broken.
Result<Bytes> pem_decode(std::string_view text, std::string_view label);

/// A PKCS#7 signedData "certs-only" bundle (no signers, no content) holding `certs` in order, DER.
Result<Bytes> make_pkcs7_certs(const std::vector<Certificate>& certs);

}  // namespace capf::crypto
