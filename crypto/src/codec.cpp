// Digests, HMAC, base64/PEM and PKCS#7 certs-only bundles (external CAs' encodings).
#include "capf/crypto/codec.hpp"

#include <openssl/hmac.h>
#include <openssl/pkcs7.h>

#include <cctype>
#include <climits>
#include <stdexcept>

#include "capf/util/text.hpp"
#include "ossl.hpp"

namespace capf::crypto {

namespace {

struct FreePkcs7 {
  void operator()(PKCS7* p) const noexcept { PKCS7_free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, FreePkcs7>;

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Result<std::vector<Certificate>> certs_of_der(ByteView der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return make_error(Errc::crypto, "PKCS#7 bundle too large");
  const unsigned char* p = der.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return ossl::error("not a PKCS#7 bundle");
  if (PKCS7_type_is_signed(p7.get()) == 0 || p7->d.sign == nullptr)
    return make_error(Errc::crypto, "the PKCS#7 bundle is not signedData (certs-only)");
  STACK_OF(X509)* certs = p7->d.sign->cert;
  std::vector<Certificate> out;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    X509* x = sk_X509_value(certs, i);
    if (X509_up_ref(x) != 1) return ossl::error("taking a certificate out of the PKCS#7 bundle failed");
    out.push_back(ossl::wrap(ossl::X509Ptr(x)));
  }
  if (out.empty()) return make_error(Errc::crypto, "the PKCS#7 bundle holds no certificate");
  return out;
}

}  // namespace

Bytes sha256(ByteView data) {
  Bytes out(32);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

std::string sha256_hex(ByteView data) {
  return util::to_hex(sha256(data));
}

Bytes hmac_sha256(ByteView key, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  static const unsigned char empty = 0;
  if (HMAC(EVP_sha256(), key.empty() ? &empty : key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  out.resize(len);
  return out;
}

std::string base64_encode(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64Alphabet[(v >> shift) & 63]);
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    std::uint32_t v = data[i] << 16;
    if (rest == 2) v |= data[i + 1] << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<Bytes> base64_decode(std::string_view text) {
  Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  int padding = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    const auto pos = kBase64Alphabet.find(c);
    if (pos == std::string_view::npos || padding > 0)
      return make_error(Errc::invalid_argument, std::string("base64: unexpected character '") + c + "'");
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (padding > 2 || (padding > 0 && symbols % 4 != 0) || symbols % 4 == 1)
    return make_error(Errc::invalid_argument, "base64: bad length or padding");
  return out;
}

std::string pem_encode(std::string_view label, ByteView der) {
  const std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out.append(b64, i, 64).push_back('\n');
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<Bytes> pem_decode(std::string_view text, std::string_view label) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  const auto b = text.find(begin);
  if (b == std::string_view::npos) return make_error(Errc::invalid_argument, "no " + std::string(label) + " PEM block");
  const auto e = text.find(end, b + begin.size());
  if (e == std::string_view::npos)
    return make_error(Errc::invalid_argument, "the " + std::string(label) + " PEM block has no END line");
  auto der = base64_decode(text.substr(b + begin.size(), e - b - begin.size()));
  if (!der)
    return make_error(Errc::invalid_argument, "the " + std::string(label) + " PEM block: " + der.error().message);
  return der;
}

Result<Bytes> make_pkcs7_certs(const std::vector<Certificate>& certs) {
  ossl::ErrorQueueScope scope;
  Pkcs7Ptr p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 || PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1)
    return ossl::error("building a PKCS#7 bundle failed");
  for (const auto& cert : certs) {
    if (!cert.impl() || PKCS7_add_certificate(p7.get(), cert.impl()->with_key()) != 1)
      return ossl::error("adding a certificate to the PKCS#7 bundle failed");
  }
  int len = i2d_PKCS7(p7.get(), nullptr);
  if (len <= 0) return ossl::error("encoding the PKCS#7 bundle failed");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PKCS7(p7.get(), &p) != len) return ossl::error("encoding the PKCS#7 bundle failed");
  return der;
}

Result<std::vector<Certificate>> Certificate::all_from_pkcs7(ByteView data) {
  ossl::ErrorQueueScope scope;
  if (data.empty()) return make_error(Errc::crypto, "the PKCS#7 bundle is empty");
  if (data[0] == 0x30) return certs_of_der(data);
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find("-----BEGIN PKCS7-----") != std::string_view::npos) {
    auto der = pem_decode(text, "PKCS7");
    if (!der) return make_error(Errc::crypto, der.error().message);
    return certs_of_der(*der);
  }
  if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) return all_from_pem(std::string(text));
  auto der = base64_decode(text);
  if (!der || der->empty() || (*der)[0] != 0x30)
    return make_error(Errc::crypto, "not a PKCS#7 bundle (neither DER, base64 nor PEM)");
  return certs_of_der(*der);
}

std::vector<std::string> Certificate::dns_names() const {
  std::vector<std::string> out;
  if (!impl()) return out;
  ossl::ErrorQueueScope scope;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(impl()->x509.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_STRING* s = name->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace capf::crypto
