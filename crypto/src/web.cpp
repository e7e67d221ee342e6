// HTTPS server identity from the CAPF CA and password hashing for the web dashboard.
#include "capf/crypto/web.hpp"

#include <openssl/pem.h>

#include <algorithm>

#include "ossl.hpp"

namespace capf::crypto {

namespace {

constexpr util::UnixTime kBackdateSeconds = 300;

bool plain_host(const std::string& s) {
  return !s.empty() && s.size() < 254 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

bool ip_literal(const std::string& s) {
  return !s.empty() && s.size() < 46 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
  });
}

}  // namespace

Result<IssuedIdentity> issue_tls_server_identity(const CertificateAuthority& ca,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses, int validity_days,
                                                 util::UnixTime now) {
  ossl::ErrorQueueScope scope;
  if (dns_names.empty() && ip_addresses.empty())
    return make_error(Errc::invalid_argument, "a server certificate needs at least one DNS name or IP address");
  if (validity_days < 1)
    return make_error(Errc::invalid_argument, "server certificate validity must be at least 1 day");
  std::string san;
  for (const auto& d : dns_names) {
    if (!plain_host(d)) return make_error(Errc::invalid_argument, "\"" + d + "\" is not a plain DNS name");
    san += (san.empty() ? "DNS:" : ",DNS:") + d;
  }
  for (const auto& ip : ip_addresses) {
    if (!ip_literal(ip)) return make_error(Errc::invalid_argument, "\"" + ip + "\" is not an IP address");
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  auto key = PrivateKey::generate(KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  if (!key) return key.error();
  X509* issuer = ca.certificate().impl()->with_key();
  ossl::X509Ptr x(X509_new());
  ossl::X509NamePtr subject(X509_NAME_new());
  if (!x || !subject) return ossl::error("allocating a certificate failed");
  const std::string cn = dns_names.empty() ? ip_addresses.front() : dns_names.front();
  if (X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1)
    return ossl::error("setting the common name failed");
  const Bytes serial_bytes = [] {
    Bytes b = random_bytes(16);
    b[0] = static_cast<std::uint8_t>((b[0] & 0x7f) | 0x01);  // positive and non-zero
    return b;
  }();
  ossl::BnPtr bn(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  ossl::Asn1IntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial) return ossl::error("making a serial number failed");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(x.get(), serial.get()) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(x.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(x.get(), key->impl()->pkey.get()) != 1)
    return ossl::error("filling in the server certificate failed");
  const util::UnixTime not_after =
      std::min<util::UnixTime>(now + validity_days * 86400LL, ca.certificate().not_after());
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(now - kBackdateSeconds)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(not_after)) == nullptr)
    return ossl::error("setting the validity period failed");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid,issuer"},
                            {NID_subject_alt_name, san}}) {
    if (auto r = ossl::add_ext(x.get(), &ctx, nid, value); !r) return r.error();
  }
  if (X509_sign(x.get(), ca.key().impl()->pkey.get(), EVP_sha256()) <= 0)
    return ossl::error("signing the server certificate failed");
  IssuedIdentity out;
  out.cert_pem = ossl::wrap(std::move(x)).to_pem() + ca.certificate().to_pem();
  out.key_pem = key->to_pem();
  return out;
}

Result<Bytes> pbkdf2_sha256(std::string_view password, ByteView salt, int iterations, std::size_t length) {
  ossl::ErrorQueueScope scope;
  if (iterations < 1 || length == 0 || length > 1024)
    return make_error(Errc::invalid_argument, "PBKDF2 needs at least 1 iteration and 1–1024 output bytes");
  Bytes out(length);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(length), out.data()) != 1)
    return ossl::error("PBKDF2-HMAC-SHA256 failed");
  return out;
}

}  // namespace capf::crypto
