// A test PKI made at test time for the trust and Offline CA tests: an external root CA, an
// intermediate under it, phones' keys and CSRs, and certificates with chosen defects.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "capf/core/csr.hpp"
#include "capf/crypto/bundle.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"
#include "capf/util/text.hpp"

namespace capf::testpki {

inline constexpr util::UnixTime kNow = 1'750'000'000;
inline constexpr util::UnixTime kDay = 86400;

template <class T>
T must(Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    std::abort();
  }
  return std::move(r.value());
}
inline void must(Result<void> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    std::abort();
  }
}

/// A fresh directory with a store in it, removed at the end.
class TempStore {
 public:
  TempStore() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "capf-pki-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = tmpl;
    store_ = must(store::Store::open(dir_ + "/db"));
  }
  ~TempStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  store::Store& operator*() { return *store_; }
  store::Store* operator->() { return store_.get(); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

inline const crypto::PrivateKey& ec_key() {
  static crypto::PrivateKey key = must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}));
  return key;
}

/// A self-signed CA valid around kNow.
inline crypto::CertificateAuthority make_root(const std::string& cn) {
  auto key = must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}));
  const auto spki = key.public_key_der();
  crypto::IssueRequest r;
  r.common_name = cn;
  r.organization = "Other Team";
  r.subject_public_key = spki;
  r.not_before = kNow - 10 * kDay;
  r.not_after = kNow + 3650 * kDay;
  r.ca = true;
  r.key_usage = "critical,keyCertSign,cRLSign";
  auto cert = must(crypto::issue_certificate(r, nullptr, &key));
  return must(crypto::CertificateAuthority::from_pem(cert.to_pem(), key.to_pem()));
}

/// An intermediate CA under `parent`.
inline crypto::CertificateAuthority make_intermediate(const crypto::CertificateAuthority& parent, const std::string& cn) {
  auto key = must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256}));
  const auto spki = key.public_key_der();
  crypto::IssueRequest r;
  r.common_name = cn;
  r.organization = "Other Team";
  r.subject_public_key = spki;
  r.not_before = kNow - 5 * kDay;
  r.not_after = kNow + 1000 * kDay;
  r.ca = true;
  r.key_usage = "critical,keyCertSign,cRLSign";
  auto cert = must(crypto::issue_certificate(r, &parent));
  return must(crypto::CertificateAuthority::from_pem(cert.to_pem(), key.to_pem()));
}

/// What to get wrong in a phone certificate.
struct Defects {
  bool expired = false;
  std::string key_usage = "critical,digitalSignature,keyEncipherment";
  std::string cn;  ///< "" → the device name
};

/// A phone certificate for `device` with the public key `spki`, signed by `ca`.
inline crypto::Certificate sign_phone(const crypto::CertificateAuthority& ca, const std::string& device,
                                      const crypto::Bytes& spki, const Defects& d = {}) {
  crypto::IssueRequest r;
  r.common_name = d.cn.empty() ? device : d.cn;
  r.subject_public_key = spki;
  r.not_before = d.expired ? kNow - 400 * kDay : kNow - 300;
  r.not_after = d.expired ? kNow - 35 * kDay : kNow + 365 * kDay;
  r.key_usage = d.key_usage;
  r.ext_key_usage = "serverAuth,clientAuth";
  return must(crypto::issue_certificate(r, &ca));
}

/// A phone: its key, its CSR, and the CSR record stored as pending for the Offline CA.
struct Phone {
  std::string device;
  crypto::PrivateKey key;
  CsrRecord csr;
  crypto::Bytes spki() const { return key.public_key_der(); }
};

inline Phone add_phone(store::Store& store, const std::string& device, util::UnixTime created = kNow - 3600) {
  Phone p{device, must(crypto::PrivateKey::generate({KeyAlgorithm::ec, 0, EcCurve::p256})), {}};
  auto der = must(crypto::make_csr(p.key, device));
  p.csr.id = crypto::sha256_hex(der);
  p.csr.device = device;
  p.csr.job = "job-1";
  p.csr.issuer = IssuerKind::offline_ca;
  p.csr.key = "EC-P256";
  p.csr.csr_der_hex = util::to_hex(der);
  p.csr.spki_sha256 = crypto::sha256_hex(p.key.public_key_der());
  p.csr.created_at = created;
  p.csr.updated_at = created;
  p.csr.state = CsrState::pending;
  store::Transition t;
  t.put_docs.push_back({store::Family::csrs, p.csr.id, encode_csr(p.csr)});
  EXPECT_TRUE(store.apply(t).ok());
  return p;
}

inline crypto::Bytes bytes_of(const std::string& s) { return crypto::Bytes(s.begin(), s.end()); }

}  // namespace capf::testpki
