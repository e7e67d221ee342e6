#include <openssl/bn.h>
#include <openssl/evp.h>

#include "capf/util/text.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

Certificate sample_lsc() {
  auto lsc = cached_ca().issue_lsc("SEP001122334455", cached_key(ec(EcCurve::p256)).public_key_der(), 365,
                                   util::now());
  EXPECT_TRUE(lsc.ok()) << (lsc.ok() ? "" : lsc.error().message);
  return lsc.ok() ? *lsc : Certificate{};
}

TEST(Certificate, DerAndPemRoundTrip) {
  Certificate lsc = sample_lsc();
  auto from_der = Certificate::from_der(lsc.to_der());
  ASSERT_TRUE(from_der.ok()) << from_der.error().message;
  EXPECT_EQ(from_der->to_der(), lsc.to_der());
  std::string pem = lsc.to_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto from_pem = Certificate::from_pem(pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().message;
  EXPECT_EQ(from_pem->to_der(), lsc.to_der());
}

TEST(Certificate, BundleYieldsEveryCertificateInOrderSkippingOtherBlocks) {
  Certificate lsc = sample_lsc();
  const auto& ca = cached_ca();
  std::string bundle = lsc.to_pem() + ca.key().to_pem() + ca.certificate().to_pem();
  auto all = Certificate::all_from_pem(bundle);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].to_der(), lsc.to_der());
  EXPECT_EQ((*all)[1].to_der(), ca.certificate().to_der());
}

TEST(Certificate, BrokenOrEmptyBundleIsAnError) {
  EXPECT_FALSE(Certificate::all_from_pem("").ok());
  std::string pem = sample_lsc().to_pem();
  std::string broken = pem + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto r = Certificate::all_from_pem(broken);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("#2"), std::string::npos) << r.error().message;
}

TEST(Certificate, GarbageAndTrailingBytesAreErrors) {
  Bytes garbage = {1, 2, 3, 4};
  auto r = Certificate::from_der(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("certificate is not DER X.509: "), std::string::npos) << r.error().message;
  Bytes der = sample_lsc().to_der();
  der.push_back(0);
  EXPECT_FALSE(Certificate::from_der(der).ok());
  EXPECT_FALSE(Certificate::from_der({}).ok());
  EXPECT_FALSE(Certificate::from_pem("nope").ok());
}

TEST(Certificate, EmptyHandleAnswersHarmlessly) {
  Certificate empty;
  EXPECT_TRUE(empty.to_der().empty());
  EXPECT_EQ(empty.subject(), "");
  EXPECT_EQ(empty.serial_hex(), "");
  EXPECT_FALSE(empty.is_ca());
  EXPECT_FALSE(empty.has_key_usage("digitalSignature"));
}

TEST(Certificate, AccessorsAgreeWithOpenSsl) {
  Certificate lsc = sample_lsc();
  auto x = parse(lsc);
  EXPECT_EQ(lsc.subject_cn(), "SEP001122334455");
  EXPECT_EQ(lsc.subject(), "CN=SEP001122334455,O=capf");
  EXPECT_EQ(lsc.issuer(), "CN=CAPF-test-RSA-2048,O=capf");

  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string expected = util::to_lower(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  expected.erase(0, expected.find_first_not_of('0'));
  EXPECT_EQ(lsc.serial_hex(), expected);
  EXPECT_NE(lsc.serial_hex()[0], '0');

  unsigned char md[32];
  unsigned int len = 0;
  Bytes der = lsc.to_der();
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(lsc.sha256_fingerprint(), util::to_hex(std::span<const std::uint8_t>(md, len)));

  EXPECT_EQ(lsc.key_spec(), ec(EcCurve::p256));
  EXPECT_EQ(lsc.public_key_der(), cached_key(ec(EcCurve::p256)).public_key_der());
  EXPECT_FALSE(lsc.is_ca());
  EXPECT_TRUE(cached_ca().certificate().is_ca());
}

TEST(Certificate, UsageQueriesNameExactBits) {
  Certificate lsc = sample_lsc();
  EXPECT_TRUE(lsc.has_key_usage("digitalSignature"));
  EXPECT_TRUE(lsc.has_key_usage("keyEncipherment"));
  EXPECT_TRUE(lsc.has_key_usage("digitalSignature,keyEncipherment"));
  EXPECT_FALSE(lsc.has_key_usage("keyCertSign"));
  EXPECT_FALSE(lsc.has_key_usage("digitalSignature,cRLSign"));
  EXPECT_FALSE(lsc.has_key_usage("bogus"));
  EXPECT_TRUE(lsc.has_ext_key_usage("serverAuth"));
  EXPECT_TRUE(lsc.has_ext_key_usage("clientAuth"));
  EXPECT_FALSE(lsc.has_ext_key_usage("codeSigning"));
  const Certificate& ca = cached_ca().certificate();
  EXPECT_TRUE(ca.has_key_usage("keyCertSign"));
  EXPECT_TRUE(ca.has_key_usage("cRLSign"));
  EXPECT_TRUE(ca.has_key_usage("digitalSignature"));
  EXPECT_FALSE(ca.has_key_usage("keyEncipherment"));
}

TEST(Certificate, CopiesShareOneImmutableCertificate) {
  Certificate a = sample_lsc();
  Certificate b = a;
  EXPECT_EQ(a.impl(), b.impl());
  Certificate c = std::move(b);
  EXPECT_EQ(c.to_der(), a.to_der());
}

}  // namespace
}  // namespace capf::crypto::test
