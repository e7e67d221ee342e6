// X.509 certificates: parsing, encoding and the accessors the server and tools display.
#include <openssl/pem.h>

#include <climits>
#include <cstring>
#include <ctime>

#include "capf/util/text.hpp"
#include "ossl.hpp"

namespace capf::crypto {

namespace ossl {

std::string common_name(const X509_NAME* name) {
  if (name == nullptr) return {};
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string rfc2253(const X509_NAME* name) {
  auto bio = mem_bio();
  if (!bio || name == nullptr) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bio_text(bio.get());
}

}  // namespace ossl

namespace {

X509* x509_of(const std::shared_ptr<Certificate::Impl>& impl) {
  return impl ? impl->x509.get() : nullptr;
}

util::UnixTime unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<util::UnixTime>(timegm(&tm));
}

// Key usage bit for a name, 0 for names we do not know.
std::uint32_t key_usage_bit(std::string_view name) {
  if (name == "digitalSignature") return KU_DIGITAL_SIGNATURE;
  if (name == "nonRepudiation" || name == "contentCommitment") return KU_NON_REPUDIATION;
  if (name == "keyEncipherment") return KU_KEY_ENCIPHERMENT;
  if (name == "dataEncipherment") return KU_DATA_ENCIPHERMENT;
  if (name == "keyAgreement") return KU_KEY_AGREEMENT;
  if (name == "keyCertSign") return KU_KEY_CERT_SIGN;
  if (name == "cRLSign") return KU_CRL_SIGN;
  return 0;
}

std::uint32_t ext_key_usage_bit(std::string_view name) {
  if (name == "serverAuth") return XKU_SSL_SERVER;
  if (name == "clientAuth") return XKU_SSL_CLIENT;
  if (name == "codeSigning") return XKU_CODE_SIGN;
  if (name == "emailProtection") return XKU_SMIME;
  if (name == "timeStamping") return XKU_TIMESTAMP;
  if (name == "OCSPSigning") return XKU_OCSP_SIGN;
  return 0;
}

// Every comma-separated name must map to a known bit, and all of them must be set.
bool has_all(std::uint32_t present, const std::string& names, std::uint32_t (*bit_of)(std::string_view)) {
  auto parts = util::split(names, ',');
  if (parts.empty()) return false;
  for (const auto& part : parts) {
    std::uint32_t bit = bit_of(util::trim(part));
    if (bit == 0 || (present & bit) == 0) return false;
  }
  return true;
}

}  // namespace

X509* Certificate::Impl::with_key() const {
  if (!key_as_bytes) return x509.get();
  std::call_once(parse_once_, [this] {
    ossl::ErrorQueueScope scope;
    unsigned char* der = nullptr;
    const int len = x509 ? i2d_X509(x509.get(), &der) : 0;
    if (len <= 0) return;
    const unsigned char* p = der;
    parsed_.reset(d2i_X509(nullptr, &p, len));
    OPENSSL_free(der);
  });
  return parsed_.get();
}

Certificate::Certificate() = default;
Certificate::~Certificate() = default;
Certificate::Certificate(const Certificate&) = default;
Certificate& Certificate::operator=(const Certificate&) = default;
Certificate::Certificate(Certificate&&) noexcept = default;
Certificate& Certificate::operator=(Certificate&&) noexcept = default;

Certificate Certificate::from_impl(std::shared_ptr<Impl> impl) {
  Certificate cert;
  cert.impl_ = std::move(impl);
  return cert;
}

Result<Certificate> Certificate::from_der(ByteView der) {
  ossl::ErrorQueueScope scope;
  if (der.empty()) return make_error(Errc::crypto, "certificate is empty");
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return make_error(Errc::crypto, "certificate too large");
  const unsigned char* p = der.data();
  ossl::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) return ossl::error("certificate is not DER X.509");
  if (p != der.data() + der.size())
    return make_error(Errc::crypto, "certificate has " + std::to_string(der.data() + der.size() - p) +
                                        " trailing bytes after the DER X.509");
  return ossl::wrap(std::move(x509));
}

Result<Certificate> Certificate::from_pem(const std::string& pem) {
  ossl::ErrorQueueScope scope;
  auto bio = ossl::mem_bio(pem);
  if (!bio) return ossl::error("allocating a memory BIO failed");
  ossl::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) return ossl::error("reading the PEM certificate failed");
  return ossl::wrap(std::move(x509));
}

Result<std::vector<Certificate>> Certificate::all_from_pem(const std::string& pem) {
  ossl::ErrorQueueScope scope;
  auto bio = ossl::mem_bio(pem);
  if (!bio) return ossl::error("allocating a memory BIO failed");
  std::vector<Certificate> out;
  for (;;) {
    ossl::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x509) break;
    out.push_back(ossl::wrap(std::move(x509)));
  }
  // Running out of PEM blocks ends the loop with "no start line"; anything else is a broken block.
  unsigned long last = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
  if (!clean_end) return ossl::error("reading PEM certificate #" + std::to_string(out.size() + 1) + " failed");
  if (out.empty()) return make_error(Errc::crypto, "no PEM certificate found");
  return out;
}

Bytes Certificate::to_der() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  int len = x ? i2d_X509(x, nullptr) : 0;
  if (len <= 0) return {};
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_X509(x, &p) != len) return {};
  return out;
}

std::string Certificate::to_pem() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  auto bio = ossl::mem_bio();
  if (x == nullptr || !bio || PEM_write_bio_X509(bio.get(), x) != 1) return {};
  return ossl::bio_text(bio.get());
}

std::string Certificate::subject_cn() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  return x ? ossl::common_name(X509_get_subject_name(x)) : std::string{};
}

std::string Certificate::subject() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  return x ? ossl::rfc2253(X509_get_subject_name(x)) : std::string{};
}

std::string Certificate::issuer() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  return x ? ossl::rfc2253(X509_get_issuer_name(x)) : std::string{};
}

std::string Certificate::serial_hex() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  if (x == nullptr) return {};
  ossl::BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return {};
  std::string text = util::to_lower(hex);
  OPENSSL_free(hex);
  // BN_bn2hex pads to whole bytes; the contract is no leading zeros (but "0" for zero).
  std::string sign = (!text.empty() && text[0] == '-') ? "-" : "";
  std::string digits = text.substr(sign.size());
  auto first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  return sign + digits;
}

util::UnixTime Certificate::not_before() const {
  X509* x = x509_of(impl_);
  return x ? unix_time(X509_get0_notBefore(x)) : 0;
}

util::UnixTime Certificate::not_after() const {
  X509* x = x509_of(impl_);
  return x ? unix_time(X509_get0_notAfter(x)) : 0;
}

Bytes Certificate::public_key_der() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  return x ? ossl::certificate_spki_der(x) : Bytes{};
}

KeySpec Certificate::key_spec() const {
  ossl::ErrorQueueScope scope;
  X509* x = impl_ ? impl_->with_key() : nullptr;
  if (x == nullptr) return {};
  auto spec = ossl::key_spec_of(X509_get0_pubkey(x));
  return spec ? *spec : KeySpec{};
}

bool Certificate::is_ca() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  // EXFLAG_CA is set exactly when basicConstraints says CA:TRUE.
  return x != nullptr && (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

std::string Certificate::sha256_fingerprint() const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (x == nullptr || X509_digest(x, EVP_sha256(), md, &len) != 1) return {};
  return util::to_hex(std::span<const std::uint8_t>(md, len));
}

bool Certificate::has_key_usage(const std::string& usage) const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  // Without the extension X509_get_key_usage reports "everything allowed"; we want what is listed.
  if (x == nullptr || (X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0) return false;
  return has_all(X509_get_key_usage(x), usage, key_usage_bit);
}

bool Certificate::has_ext_key_usage(const std::string& usage) const {
  ossl::ErrorQueueScope scope;
  X509* x = x509_of(impl_);
  if (x == nullptr || (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0) return false;
  return has_all(X509_get_extended_key_usage(x), usage, ext_key_usage_bit);
}

}  // namespace capf::crypto
