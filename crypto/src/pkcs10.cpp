// PKCS#10 requests for the CA modes (capf-protocol.md §11.1).
#include <climits>

#include "capf/util/text.hpp"
#include "ossl.hpp"

namespace capf::crypto {

Result<Bytes> make_csr(const PrivateKey& key, const std::string& common_name) {
  ossl::ErrorQueueScope scope;
  if (!key.impl()) return make_error(Errc::internal, "no private key");
  EVP_PKEY* pkey = key.impl()->pkey.get();
  ossl::X509ReqPtr req(X509_REQ_new());
  ossl::X509NamePtr name(X509_NAME_new());
  if (!req || !name) return ossl::error("allocating the CSR failed");
  if (X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1)
    return ossl::error("setting the CSR common name \"" + common_name + "\" failed");
  if (X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), pkey) != 1)
    return ossl::error("filling in the CSR failed");
  if (X509_REQ_sign(req.get(), pkey, EVP_sha256()) <= 0) return ossl::error("signing the CSR failed");
  int len = i2d_X509_REQ(req.get(), nullptr);
  if (len <= 0) return ossl::error("encoding the CSR failed");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_REQ(req.get(), &p) != len) return ossl::error("encoding the CSR failed");
  return der;
}

Result<Bytes> subject_der(const std::string& common_name) {
  ossl::ErrorQueueScope scope;
  ossl::X509NamePtr name(X509_NAME_new());
  if (!name) return ossl::error("allocating a name failed");
  if (X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1)
    return ossl::error("setting the common name \"" + common_name + "\" failed");
  int len = i2d_X509_NAME(name.get(), nullptr);
  if (len <= 0) return ossl::error("encoding the name failed");
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_NAME(name.get(), &p) != len) return ossl::error("encoding the name failed");
  return der;
}

Result<CsrInfo> verify_csr(ByteView der) {
  ossl::ErrorQueueScope scope;
  if (der.empty()) return make_error(Errc::crypto, "CSR is empty");
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return make_error(Errc::crypto, "CSR too large");
  const unsigned char* p = der.data();
  ossl::X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return ossl::error("CSR is not a DER PKCS#10 request");
  if (p != der.data() + der.size())
    return make_error(Errc::crypto, "CSR has " + std::to_string(der.data() + der.size() - p) +
                                        " trailing bytes after the PKCS#10 request");
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) return ossl::error("reading the CSR's public key failed");
  if (auto spec = ossl::key_spec_of(pkey); !spec) return make_error(Errc::crypto, "CSR key: " + spec.error().message);
  // The self-signature is the proof that the sender holds the private key of the request.
  int verified = X509_REQ_verify(req.get(), pkey);
  if (verified != 1) {
    if (verified < 0) return ossl::error("checking the CSR signature failed");
    ERR_clear_error();
    return make_error(Errc::crypto, "CSR signature does not verify with its own public key");
  }
  CsrInfo info;
  info.public_key_der = ossl::spki_der(pkey);
  if (info.public_key_der.empty()) return ossl::error("encoding the CSR's public key failed");
  info.common_name = ossl::common_name(X509_REQ_get_subject_name(req.get()));
  return info;
}

}  // namespace capf::crypto
