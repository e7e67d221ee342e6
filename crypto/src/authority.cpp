// The CAPF CA: its self-signed certificate, its files on disk, and the certificates it issues.
#include <openssl/pem.h>

#include <algorithm>

#include "capf/util/files.hpp"
#include "capf/util/text.hpp"
#include "ossl.hpp"

namespace capf::crypto {

namespace {

constexpr const char* kCertFile = "capf-ca.pem";
constexpr const char* kKeyFile = "capf-ca.key";
// Issued certificates start five minutes in the past so a phone whose clock lags still accepts them.
constexpr util::UnixTime kBackdateSeconds = 300;
constexpr util::UnixTime kSecondsPerDay = 86400;

// What differs between the CA's own certificate and the ones it issues.
struct Profile {
  const X509_NAME* subject = nullptr;
  EVP_PKEY* subject_key = nullptr;
  ByteView subject_spki;   // when set, the certificate takes these bytes (set_subject_spki) if it can
  X509* issuer = nullptr;  // nullptr: self-signed
  EVP_PKEY* issuer_key = nullptr;
  util::UnixTime not_before = 0;
  util::UnixTime not_after = 0;
  bool ca = false;
  std::string san_uri;  // empty: no subjectAltName
  std::string san_dns;  // DNS subjectAltName (server certificates); wins over san_uri
};

Result<ossl::Asn1IntPtr> random_serial() {
  Bytes bytes;
  do {
    bytes = random_bytes(16);
    bytes[0] &= 0x7f;  // DER INTEGER is signed; RFC 5280 wants a positive serial
  } while (std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; }));
  ossl::BnPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  ossl::Asn1IntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial) return ossl::error("making a serial number failed");
  return serial;
}

// The URI is built as a GENERAL_NAME, not through the config parser, so a name holding ',' or
// ':' cannot smuggle in other entries.
Result<void> add_san(X509* cert, int type, const std::string& uri) {
  ossl::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  bool built = names && name && text && ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size())) == 1;
  if (!built) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(text);
    return ossl::error("building the subjectAltName failed");
  }
  GENERAL_NAME_set0_value(name, type, text);
  if (sk_GENERAL_NAME_push(names.get(), name) <= 0) {
    GENERAL_NAME_free(name);
    return ossl::error("building the subjectAltName failed");
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return ossl::error("adding the subjectAltName extension failed");
  return ok();
}

Result<ossl::X509Ptr> build(const Profile& p) {
  ossl::X509Ptr x(X509_new());
  if (!x) return ossl::error("allocating a certificate failed");
  auto serial = random_serial();
  if (!serial) return serial.error();
  const X509_NAME* issuer_name = p.issuer ? X509_get_subject_name(p.issuer) : p.subject;
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 || X509_set_serialNumber(x.get(), serial->get()) != 1 ||
      X509_set_subject_name(x.get(), p.subject) != 1 || X509_set_issuer_name(x.get(), issuer_name) != 1)
    return ossl::error("filling in the certificate failed");
  const bool key_as_bytes = !p.subject_spki.empty() && ossl::set_subject_spki(x.get(), p.subject_spki);
  if (!key_as_bytes && X509_set_pubkey(x.get(), p.subject_key) != 1)
    return ossl::error("setting the certificate's public key failed");
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(p.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(p.not_after)) == nullptr)
    return ossl::error("setting the validity period failed");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, p.issuer ? p.issuer : x.get(), x.get(), nullptr, nullptr, 0);
  // SKI must exist before AKI: for the self-signed CA the AKI copies the certificate's own SKI.
  // "keyid,issuer" falls back to issuer+serial for an imported CA certificate without an SKI.
  const char* bc = p.ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE";
  const char* ku = p.ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature,keyEncipherment";
  const char* aki = p.ca ? "keyid:always" : "keyid,issuer";
  for (auto [nid, value] : {std::pair{NID_basic_constraints, bc},
                            {NID_key_usage, ku},
                            {NID_ext_key_usage, "serverAuth,clientAuth"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, aki}}) {
    if (auto r = ossl::add_ext(x.get(), &ctx, nid, value); !r) return r.error();
  }
  if (!p.san_dns.empty()) {
    if (auto r = add_san(x.get(), GEN_DNS, p.san_dns); !r) return r.error();
  } else if (!p.san_uri.empty()) {
    if (auto r = add_san(x.get(), GEN_URI, p.san_uri); !r) return r.error();
  }
  // SHA-256 for both key kinds: PKCS#1 v1.5 with an RSA CA key, ECDSA with an EC one.
  if (X509_sign(x.get(), p.issuer_key, EVP_sha256()) <= 0) return ossl::error("signing the certificate failed");
  return x;
}

Result<ossl::X509NamePtr> name_with(const std::string& common_name, const X509_NAME* copy_org_from,
                                    const std::string& organization) {
  ossl::X509NamePtr name(X509_NAME_new());
  if (!name) return ossl::error("allocating a name failed");
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (copy_org_from != nullptr) {
    for (int i = -1; (i = X509_NAME_get_index_by_NID(copy_org_from, NID_organizationName, i)) >= 0;) {
      if (X509_NAME_add_entry(name.get(), X509_NAME_get_entry(copy_org_from, i), -1, 0) != 1)
        return ossl::error("copying the CA's organization failed");
    }
  } else if (!organization.empty() && !add("O", organization)) {
    return ossl::error("setting the organization \"" + organization + "\" failed");
  }
  if (common_name.empty()) return make_error(Errc::invalid_argument, "the common name is empty");
  if (!add("CN", common_name)) return ossl::error("setting the common name \"" + common_name + "\" failed");
  return name;
}

// A subjectAltName URI only when the name is plain ASCII that an IA5String and URI parsers take.
bool uri_safe(const std::string& name) {
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

bool supported_ca_key(const KeySpec& k) {
  if (k.algorithm == KeyAlgorithm::rsa) return k.rsa_bits == 2048 || k.rsa_bits == 3072 || k.rsa_bits == 4096;
  return k.curve == EcCurve::p256 || k.curve == EcCurve::p384;
}

Error in_file(const std::string& path, const Error& e) {
  return make_error(e.code, path + ": " + e.message);
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::create(const CaOptions& options) {
  ossl::ErrorQueueScope scope;
  if (!supported_ca_key(options.key))
    return make_error(Errc::invalid_argument,
                      "CA key must be RSA-2048/3072/4096 or EC-P256/P384, got " + to_string(options.key));
  if (options.validity_days < 1)
    return make_error(Errc::invalid_argument,
                      "CA validity must be at least 1 day, got " + std::to_string(options.validity_days));
  auto key = PrivateKey::generate(options.key);
  if (!key) return key.error();
  std::string cn = options.common_name.empty() ? "CAPF-" + util::to_hex(random_bytes(4)) : options.common_name;
  auto subject = name_with(cn, nullptr, options.organization);
  if (!subject) return subject.error();
  util::UnixTime now = util::now();
  Profile p;
  p.subject = subject->get();
  p.subject_key = key->impl()->pkey.get();
  p.issuer_key = p.subject_key;
  p.not_before = now - kBackdateSeconds;
  p.not_after = now + static_cast<util::UnixTime>(options.validity_days) * kSecondsPerDay;
  p.ca = true;
  auto x = build(p);
  if (!x) return x.error();
  CertificateAuthority ca;
  ca.cert_ = ossl::wrap(std::move(*x));
  ca.key_ = std::make_shared<PrivateKey>(std::move(*key));
  return ca;
}

Result<CertificateAuthority> CertificateAuthority::from_pem(const std::string& cert_pem, const std::string& key_pem) {
  ossl::ErrorQueueScope scope;
  auto cert = Certificate::from_pem(cert_pem);
  if (!cert) return cert.error();
  auto key = PrivateKey::from_pem(key_pem);
  if (!key) return key.error();
  if (X509_check_private_key(cert->impl()->with_key(), key->impl()->pkey.get()) != 1) {
    ERR_clear_error();
    return make_error(Errc::crypto, "the CA private key does not match the CA certificate " + cert->subject());
  }
  CertificateAuthority ca;
  ca.cert_ = std::move(*cert);
  ca.key_ = std::make_shared<PrivateKey>(std::move(*key));
  return ca;
}

Result<CertificateAuthority> CertificateAuthority::load_or_create(const std::string& dir, const CaOptions& options) {
  const std::string cert_path = dir + "/" + kCertFile;
  const std::string key_path = dir + "/" + kKeyFile;
  bool have_cert = util::exists(cert_path);
  bool have_key = util::exists(key_path);
  if (have_cert && have_key) {
    auto cert_pem = util::read_file(cert_path);
    if (!cert_pem) return in_file(cert_path, cert_pem.error());
    auto key_pem = util::read_file(key_path);
    if (!key_pem) return in_file(key_path, key_pem.error());
    auto ca = from_pem(*cert_pem, *key_pem);
    if (!ca) return in_file(dir, ca.error());
    return ca;
  }
  // Half a CA on disk is an operator's problem to resolve; a fresh CA would orphan every LSC.
  if (have_cert || have_key)
    return make_error(Errc::not_found, "found " + (have_cert ? cert_path : key_path) + " but not " +
                                           (have_cert ? key_path : cert_path) +
                                           "; restore the missing file or remove both to create a new CA");
  if (auto r = util::make_dirs(dir, 0700); !r) return in_file(dir, r.error());
  auto ca = create(options);
  if (!ca) return ca.error();
  // Key first: a crash between the two writes leaves a key without a certificate, never a
  // certificate whose key is lost.
  if (auto r = util::write_file_atomic(key_path, ca->key().to_pem(), 0600); !r) return in_file(key_path, r.error());
  if (auto r = util::write_file_atomic(cert_path, ca->certificate().to_pem(), 0644); !r)
    return in_file(cert_path, r.error());
  return ca;
}

namespace {

/// A certificate for `spki_der` signed by the CA, carrying the key as the subject sent it.
/// Built with the key as bytes only (ossl::set_subject_spki); the key is decoded only if
/// something asks for it (Certificate::Impl::with_key), which an LSC on its way to the phone
/// never does.
Result<Certificate> issue(const Certificate& ca_cert, const PrivateKey* ca_key, const std::string& common_name,
                          ByteView spki_der, int validity_days, util::UnixTime now, bool server = false,
                          const CertificateAuthority::KeyAdmission& admit = {}) {
  ossl::ErrorQueueScope scope;
  if (!ca_cert.impl() || ca_key == nullptr || !ca_key->impl())
    return make_error(Errc::internal, "the CA is not loaded");
  auto subject_key = ossl::parse_spki(spki_der);
  if (!subject_key) return make_error(Errc::crypto, "cannot issue for this public key: " + subject_key.error().message);
  auto spec = ossl::key_spec_of(subject_key->get());
  if (!spec) return make_error(Errc::crypto, "cannot issue for this public key: " + spec.error().message);
  if (admit)
    if (auto r = admit(*spec); !r) return r.error();
  X509* issuer = ca_cert.impl()->with_key();
  auto subject = name_with(common_name, X509_get_subject_name(issuer), "");
  if (!subject) return subject.error();
  Profile p;
  p.subject = subject->get();
  p.subject_key = subject_key->get();
  p.subject_spki = spki_der;
  p.issuer = issuer;
  p.issuer_key = ca_key->impl()->pkey.get();
  p.not_before = now - kBackdateSeconds;
  p.not_after = now + static_cast<util::UnixTime>(validity_days) * kSecondsPerDay;
  if (server) {
    p.san_dns = common_name;
  } else if (uri_safe(common_name)) {
    p.san_uri = common_name;
  }
  auto x = build(p);
  if (!x) return x.error();
  return ossl::wrap_built(std::move(*x));
}

}  // namespace

Result<Certificate> CertificateAuthority::issue_lsc(const std::string& device_name, ByteView spki_der,
                                                    int validity_days, util::UnixTime now,
                                                    const KeyAdmission& admit) const {
  if (validity_days < kMinValidityDays || validity_days > kMaxValidityDays)
    return make_error(Errc::invalid_argument,
                      "Duration of Certificate Validity must be 1–1825 days, got " + std::to_string(validity_days));
  return issue(cert_, key_.get(), device_name, spki_der, validity_days, now, false, admit);
}

Result<Certificate> CertificateAuthority::issue_mic(const std::string& common_name, ByteView spki_der,
                                                    int validity_days, util::UnixTime now) const {
  if (validity_days < 1)
    return make_error(Errc::invalid_argument,
                      "certificate validity must be at least 1 day, got " + std::to_string(validity_days));
  return issue(cert_, key_.get(), common_name, spki_der, validity_days, now);
}

Result<Certificate> CertificateAuthority::issue_server(const std::string& dns_name, ByteView spki_der,
                                                       int validity_days, util::UnixTime now) const {
  if (validity_days < 1)
    return make_error(Errc::invalid_argument,
                      "certificate validity must be at least 1 day, got " + std::to_string(validity_days));
  if (dns_name.empty() || !uri_safe(dns_name))
    return make_error(Errc::invalid_argument, "\"" + dns_name + "\" is not a DNS host name");
  return issue(cert_, key_.get(), dns_name, spki_der, validity_days, now, true);
}

}  // namespace capf::crypto
