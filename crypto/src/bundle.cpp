// Certificate files in every form administrators use, CSR PEM, base64, and a general
// certificate builder for test PKIs.
#include "capf/crypto/bundle.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include <algorithm>
#include <climits>

#include "capf/crypto/codec.hpp"
#include "ossl.hpp"

namespace capf::crypto {

namespace {

using Pkcs7Ptr = std::unique_ptr<PKCS7, ossl::Free<PKCS7_free>>;

// The certificates a parsed PKCS#7 carries (signed-data; "certs-only" bundles are signed-data
// without signers).
Result<std::vector<Certificate>> from_pkcs7(PKCS7* p7) {
  STACK_OF(X509)* certs = nullptr;
  const int type = OBJ_obj2nid(p7->type);
  if (type == NID_pkcs7_signed && p7->d.sign != nullptr)
    certs = p7->d.sign->cert;
  else if (type == NID_pkcs7_signedAndEnveloped && p7->d.signed_and_enveloped != nullptr)
    certs = p7->d.signed_and_enveloped->cert;
  else
    return make_error(Errc::crypto, std::string("PKCS#7 content is ") + OBJ_nid2ln(type) + ", not signed data");
  std::vector<Certificate> out;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    X509* x = sk_X509_value(certs, i);
    if (X509_up_ref(x) != 1) return ossl::error("referencing a PKCS#7 certificate failed");
    out.push_back(ossl::wrap(ossl::X509Ptr(x)));
  }
  if (out.empty()) return make_error(Errc::crypto, "the PKCS#7 bundle holds no certificate");
  return out;
}

bool starts_pem(ByteView data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  return text.find("-----BEGIN ") != std::string_view::npos;
}

Result<std::vector<Certificate>> from_pem_text(ByteView data) {
  auto bio = ossl::mem_bio(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  if (!bio) return ossl::error("allocating a buffer failed");
  std::vector<Certificate> out;
  for (int block = 1;; ++block) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* body = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &body, &len) != 1) {
      ERR_clear_error();  // end of text
      break;
    }
    std::string block_name = name ? name : "";
    ByteView der(body, static_cast<std::size_t>(len));
    Result<void> status = ok();
    if (block_name == "CERTIFICATE" || block_name == "X509 CERTIFICATE" || block_name == "TRUSTED CERTIFICATE") {
      const unsigned char* p = der.data();
      ossl::X509Ptr x(block_name == "TRUSTED CERTIFICATE" ? d2i_X509_AUX(nullptr, &p, len)
                                                          : d2i_X509(nullptr, &p, len));
      if (!x)
        status = ossl::error("PEM block " + std::to_string(block) + " (" + block_name + ") is not a certificate");
      else
        out.push_back(ossl::wrap(std::move(x)));
    } else if (block_name == "PKCS7" || block_name == "PKCS #7 SIGNED DATA" || block_name == "CERTIFICATE CHAIN") {
      const unsigned char* p = der.data();
      Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, len));
      if (!p7) {
        status = ossl::error("PEM block " + std::to_string(block) + " (" + block_name + ") is not PKCS#7");
      } else if (auto certs = from_pkcs7(p7.get()); !certs) {
        status = certs.error();
      } else {
        out.insert(out.end(), certs->begin(), certs->end());
      }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(body);
    if (!status) return status.error();
  }
  if (out.empty()) return make_error(Errc::crypto, "the PEM text holds no CERTIFICATE or PKCS7 block");
  return out;
}

}  // namespace

Result<std::vector<Certificate>> certificates_from_bytes(ByteView data) {
  ossl::ErrorQueueScope scope;
  if (data.empty()) return make_error(Errc::crypto, "the file is empty");
  if (data.size() > static_cast<std::size_t>(LONG_MAX)) return make_error(Errc::crypto, "the file is too large");
  if (starts_pem(data)) return from_pem_text(data);
  // DER: one X.509 certificate filling the whole input, else a PKCS#7 bundle.
  {
    const unsigned char* p = data.data();
    ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
    if (x && p == data.data() + data.size()) {
      std::vector<Certificate> out;
      out.push_back(ossl::wrap(std::move(x)));
      return out;
    }
    ERR_clear_error();
  }
  const unsigned char* p = data.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(data.size())));
  if (p7) return from_pkcs7(p7.get());
  ERR_clear_error();
  return make_error(Errc::crypto, "not a PEM, DER or PKCS#7 certificate file");
}

Result<Bytes> pkcs7_der(const std::vector<Certificate>& certs) {
  ossl::ErrorQueueScope scope;
  Pkcs7Ptr p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 || PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1)
    return ossl::error("building a PKCS#7 bundle failed");
  for (const auto& c : certs) {
    if (!c.impl() || PKCS7_add_certificate(p7.get(), c.impl()->with_key()) != 1)
      return ossl::error("adding a certificate to the PKCS#7 bundle failed");
  }
  int len = i2d_PKCS7(p7.get(), nullptr);
  if (len <= 0) return ossl::error("encoding the PKCS#7 bundle failed");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* out = der.data();
  if (i2d_PKCS7(p7.get(), &out) != len) return ossl::error("encoding the PKCS#7 bundle failed");
  return der;
}

std::string csr_pem(ByteView der) {
  return pem_encode("CERTIFICATE REQUEST", der);
}

Result<Certificate> issue_certificate(const IssueRequest& r, const CertificateAuthority* issuer,
                                      const PrivateKey* self_key) {
  ossl::ErrorQueueScope scope;
  if (issuer == nullptr && (self_key == nullptr || !self_key->impl()))
    return make_error(Errc::invalid_argument, "a certificate needs an issuer or its own key");
  auto subject_key = ossl::parse_spki(r.subject_public_key);
  if (!subject_key) return subject_key.error();
  ossl::X509NamePtr name(X509_NAME_new());
  if (!name) return ossl::error("allocating a name failed");
  auto add = [&](const char* field, const std::string& value) {
    return value.empty() || X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                                       reinterpret_cast<const unsigned char*>(value.data()),
                                                       static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (!add("O", r.organization) || !add("CN", r.common_name)) return ossl::error("building the subject name failed");

  ossl::X509Ptr x(X509_new());
  Bytes serial_bytes = random_bytes(16);
  serial_bytes[0] = static_cast<std::uint8_t>((serial_bytes[0] & 0x7f) | 0x01);
  ossl::BnPtr bn(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  ossl::Asn1IntPtr serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  X509* issuer_x = issuer ? issuer->certificate().impl()->with_key() : x.get();
  EVP_PKEY* signing_key = issuer ? issuer->key().impl()->pkey.get() : self_key->impl()->pkey.get();
  if (!x || !serial || X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(x.get(), serial.get()) != 1 || X509_set_subject_name(x.get(), name.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer_x) : name.get()) != 1 ||
      X509_set_pubkey(x.get(), subject_key->get()) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(r.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(r.not_after)) == nullptr)
    return ossl::error("filling in the certificate failed");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x, x.get(), nullptr, nullptr, 0);
  if (auto e = ossl::add_ext(x.get(), &ctx, NID_basic_constraints, r.ca ? "critical,CA:TRUE" : "critical,CA:FALSE"); !e)
    return e.error();
  if (!r.key_usage.empty())
    if (auto e = ossl::add_ext(x.get(), &ctx, NID_key_usage, r.key_usage); !e) return e.error();
  if (!r.ext_key_usage.empty())
    if (auto e = ossl::add_ext(x.get(), &ctx, NID_ext_key_usage, r.ext_key_usage); !e) return e.error();
  if (auto e = ossl::add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash"); !e) return e.error();
  if (issuer != nullptr)
    if (auto e = ossl::add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid"); !e) return e.error();
  if (X509_sign(x.get(), signing_key, EVP_sha256()) <= 0) return ossl::error("signing the certificate failed");
  return ossl::wrap(std::move(x));
}

}  // namespace capf::crypto
