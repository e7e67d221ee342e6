// Shared helpers for the crypto tests: cached keys (RSA generation is slow), temporary
// directories, and an independent OpenSSL view of what capf produced.
#pragma once

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <ostream>
#include <memory>
#include <string>

#include "capf/crypto/crypto.hpp"

namespace capf {
/// Lets GoogleTest print "RSA-2048" instead of the struct's bytes.
inline void PrintTo(const KeySpec& spec, std::ostream* os) { *os << to_string(spec); }
}  // namespace capf

namespace capf::crypto::test {

/// A key of the given kind, generated once per test process.
inline const PrivateKey& cached_key(const KeySpec& spec) {
  static std::map<std::string, std::unique_ptr<PrivateKey>> cache;
  auto& slot = cache[to_string(spec)];
  if (!slot) {
    auto key = PrivateKey::generate(spec);
    EXPECT_TRUE(key.ok()) << (key.ok() ? "" : key.error().message);
    slot = std::make_unique<PrivateKey>(std::move(*key));
  }
  return *slot;
}

inline KeySpec rsa(int bits) { return KeySpec{KeyAlgorithm::rsa, bits, EcCurve::p256}; }
inline KeySpec ec(EcCurve curve) { return KeySpec{KeyAlgorithm::ec, 0, curve}; }

/// A CA created once per test process per key kind.
inline const CertificateAuthority& cached_ca(const KeySpec& spec = rsa(2048)) {
  static std::map<std::string, std::unique_ptr<CertificateAuthority>> cache;
  auto& slot = cache[to_string(spec)];
  if (!slot) {
    CaOptions options;
    options.key = spec;
    options.common_name = "CAPF-test-" + to_string(spec);
    auto ca = CertificateAuthority::create(options);
    EXPECT_TRUE(ca.ok()) << (ca.ok() ? "" : ca.error().message);
    slot = std::make_unique<CertificateAuthority>(std::move(*ca));
  }
  return *slot;
}

/// A fresh directory under /tmp, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/capf-crypto-XXXXXX";
    const char* made = mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    path_ = made ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

/// Parses the certificate's DER with OpenSSL directly, bypassing capf's accessors.
inline X509Ptr parse(const Certificate& cert) {
  Bytes der = cert.to_der();
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_TRUE(x) << "d2i_X509 failed";
  return x;
}

/// Whether extension `nid` is present and critical: -1 absent, 0 non-critical, 1 critical.
inline int criticality(X509* x, int nid) {
  int idx = X509_get_ext_by_NID(x, nid, -1);
  if (idx < 0) return -1;
  return X509_EXTENSION_get_critical(X509_get_ext(x, idx)) ? 1 : 0;
}

/// The keyUsage bits as an integer (bit i = ASN.1 bit i), -1 when absent.
inline int key_usage_bits(X509* x) {
  auto* ku = static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(x, NID_key_usage, nullptr, nullptr));
  if (ku == nullptr) return -1;
  int bits = 0;
  for (int i = 0; i < 9; ++i)
    if (ASN1_BIT_STRING_get_bit(ku, i)) bits |= 1 << i;
  ASN1_BIT_STRING_free(ku);
  return bits;
}

/// ASN.1 keyUsage bit numbers (RFC 5280 §4.2.1.3).
inline constexpr int kDigitalSignature = 1 << 0;
inline constexpr int kKeyEncipherment = 1 << 2;
inline constexpr int kKeyCertSign = 1 << 5;
inline constexpr int kCrlSign = 1 << 6;

/// The EKU OIDs as NIDs, in order; empty when absent.
inline std::vector<int> ext_key_usages(X509* x) {
  std::vector<int> out;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) return out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) out.push_back(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)));
  EXTENDED_KEY_USAGE_free(eku);
  return out;
}

/// basicConstraints as (ca, pathlen or -1); ca = -1 when absent.
inline std::pair<int, long> basic_constraints(X509* x) {
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
  if (bc == nullptr) return {-1, -1};
  std::pair<int, long> out{bc->ca ? 1 : 0, bc->pathlen ? ASN1_INTEGER_get(bc->pathlen) : -1};
  BASIC_CONSTRAINTS_free(bc);
  return out;
}

/// Octets of an ASN1_OCTET_STRING (SKI / AKI key id).
inline std::string octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
}

/// Seconds between two ASN1_TIMEs.
inline long long seconds_between(const ASN1_TIME* from, const ASN1_TIME* to) {
  int days = 0, secs = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &secs, from, to), 1);
  return static_cast<long long>(days) * 86400 + secs;
}

}  // namespace capf::crypto::test
