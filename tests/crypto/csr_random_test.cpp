#include <openssl/x509.h>

#include <set>

#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

TEST(Csr, RoundTripsKeyAndCommonNameForRsaAndEc) {
  for (const KeySpec& spec : {rsa(2048), ec(EcCurve::p256), ec(EcCurve::p521)}) {
    const PrivateKey& key = cached_key(spec);
    auto der = make_csr(key, "SEP001122334455");
    ASSERT_TRUE(der.ok()) << der.error().message;
    auto info = verify_csr(*der);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->common_name, "SEP001122334455");
    EXPECT_EQ(info->public_key_der, key.public_key_der());

    const unsigned char* p = der->data();
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size()));
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(X509_REQ_get_signature_nid(req),
              spec.algorithm == KeyAlgorithm::rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
    EXPECT_EQ(X509_REQ_get_version(req), 0);
    EXPECT_EQ(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    X509_REQ_free(req);
  }
}

TEST(Csr, TamperedRequestIsRejected) {
  auto der = make_csr(cached_key(rsa(2048)), "SEP001122334455");
  ASSERT_TRUE(der.ok());
  // Change one letter of the CN inside the signed part.
  Bytes tampered = *der;
  std::string text(tampered.begin(), tampered.end());
  auto at = text.find("SEP001122334455");
  ASSERT_NE(at, std::string::npos);
  tampered[at + 3] = '9';
  auto r = verify_csr(tampered);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("CSR signature"), std::string::npos) << r.error().message;

  Bytes bad_sig = *der;
  bad_sig[bad_sig.size() - 5] ^= 0x10;
  EXPECT_FALSE(verify_csr(bad_sig).ok());
}

TEST(Csr, GarbageIsRejected) {
  Bytes garbage = {0x30, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05};
  auto r = verify_csr(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("PKCS#10"), std::string::npos) << r.error().message;
  EXPECT_FALSE(verify_csr({}).ok());
  // A certificate is not a CSR.
  EXPECT_FALSE(verify_csr(cached_ca().certificate().to_der()).ok());
}

TEST(Random, BytesHaveTheLengthAskedAndDiffer) {
  EXPECT_TRUE(random_bytes(0).empty());
  EXPECT_EQ(random_bytes(33).size(), 33u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
}

TEST(Random, DigitsAreOnlyDigitsOfTheLengthAsked) {
  for (std::size_t n : {0u, 1u, 4u, 10u, 100u}) {
    std::string s = random_digits(n);
    EXPECT_EQ(s.size(), n);
    for (char c : s) EXPECT_TRUE(c >= '0' && c <= '9') << s;
  }
}

TEST(Random, EveryDigitAppearsRoughlyEvenly) {
  std::string s = random_digits(20000);
  int counts[10] = {};
  for (char c : s) ++counts[c - '0'];
  // Expected 2000 each; a ±300 band is > 7 standard deviations wide.
  for (int d = 0; d < 10; ++d) EXPECT_NEAR(counts[d], 2000, 300) << d;
  std::set<std::string> distinct;
  for (int i = 0; i < 50; ++i) distinct.insert(random_digits(10));
  EXPECT_EQ(distinct.size(), 50u);
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("123456", "123456"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("123456", "123457"));
  EXPECT_FALSE(constant_time_equal("123456", "12345"));
  EXPECT_FALSE(constant_time_equal("12345", "123456"));
  EXPECT_FALSE(constant_time_equal("", "0"));
}

}  // namespace
}  // namespace capf::crypto::test
