// make_online_ca's parameter checks, and the crypto codecs the adapters rely on.
#include <gtest/gtest.h>

#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/util/text.hpp"

namespace capf {
namespace {

std::string trust() {
  static const std::string pem = crypto::CertificateAuthority::create(crypto::CaOptions{})->certificate().to_pem();
  return pem;
}

OnlineCaParams good_adcs() {
  OnlineCaParams p;
  p.host = "ca.example.com";
  p.template_name = "CAPF";
  p.username = "EXAMPLE\\capf";
  p.password = "pw";
  return p;
}

std::string error_of(const OnlineCaParams& p, const std::string& trust_pem) {
  auto r = ca_online::make_online_ca(p, trust_pem);
  return r ? "" : r.error().message;
}

TEST(MakeOnlineCa, ChecksEveryParameter) {
  EXPECT_EQ(error_of(good_adcs(), trust()), "");
  auto p = good_adcs();
  p.host = "";
  EXPECT_EQ(error_of(p, trust()), "the Online CA Hostname is not set");
  p = good_adcs();
  p.host = "https://ca.example.com/certsrv";
  EXPECT_NE(error_of(p, trust()).find("no scheme or path"), std::string::npos);
  p = good_adcs();
  p.template_name = "";
  EXPECT_NE(error_of(p, trust()).find("Online CA Template is not set"), std::string::npos);
  p = good_adcs();
  p.username = "";
  EXPECT_EQ(error_of(p, trust()), "the Online CA Username is not set");
  p = good_adcs();
  p.password = "";
  EXPECT_EQ(error_of(p, trust()), "the Online CA Password is not set");
  p = good_adcs();
  p.port = 70000;
  EXPECT_EQ(error_of(p, trust()), "the Online CA Port must be 1–65535, got 70000");
  p = good_adcs();
  p.type = "ejbca";
  EXPECT_NE(error_of(p, trust()).find("unknown Online CA Type \"ejbca\""), std::string::npos);
  EXPECT_NE(error_of(good_adcs(), "").find("upload the chain"), std::string::npos);
  EXPECT_NE(error_of(good_adcs(), "not a pem").find("unreadable"), std::string::npos);
  p = good_adcs();
  p.retry_ceiling_s = 1;
  EXPECT_NE(error_of(p, trust()).find("base ≤ ceiling"), std::string::npos);
}

TEST(MakeOnlineCa, Cfssl) {
  OnlineCaParams p;
  p.type = "cfssl";
  p.host = "127.0.0.1";
  p.port = 8888;
  p.template_name = "phone";
  // HTTPS is the default, so the CA chain to trust is needed unless http was chosen explicitly.
  EXPECT_TRUE(p.https);
  EXPECT_NE(error_of(p, "").find("no CA chain to trust"), std::string::npos);
  p.https = false;
  EXPECT_EQ(error_of(p, ""), "the cfssl auth key (hex) is not set");
  p.auth_key_hex = "zz";
  EXPECT_NE(error_of(p, "").find("not hex"), std::string::npos);
  p.auth_key_hex = "00112233445566778899aabbccddeeff";
  auto ca = ca_online::make_online_ca(p, "");
  ASSERT_TRUE(ca);
  EXPECT_EQ((*ca)->name(), "cfssl");
  EXPECT_FALSE((*ca)->can_pend());
  EXPECT_EQ((*ca)->poll("1").error_class, CaErrorClass::internal);
}

TEST(MakeOnlineCa, CredentialsInTheHostAreRefusedWithoutEchoingThem) {
  OnlineCaParams p;
  p.type = "cfssl";
  p.host = "admin:hunter2@ca.example";
  p.template_name = "phone";
  p.auth_key_hex = "00112233445566778899aabbccddeeff";
  const std::string e = error_of(p, "");
  EXPECT_NE(e.find("must not hold credentials"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(CryptoCodec, HmacBase64Pem) {
  // RFC 4231 test case 2.
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  auto mac = crypto::hmac_sha256(crypto::ByteView(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
                                 crypto::ByteView(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  EXPECT_EQ(util::to_hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const crypto::Bytes b(s.begin(), s.end());
    auto back = crypto::base64_decode(crypto::base64_encode(b));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, b);
  }
  EXPECT_EQ(crypto::base64_encode(crypto::Bytes{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_FALSE(crypto::base64_decode("Zm9v!"));
  EXPECT_FALSE(crypto::base64_decode("Zm9vY"));
  const crypto::Bytes der(100, 0x42);
  const std::string pem = crypto::pem_encode("CERTIFICATE REQUEST", der);
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----\n", 0), 0u);
  EXPECT_EQ(*crypto::pem_decode(pem, "CERTIFICATE REQUEST"), der);
  EXPECT_FALSE(crypto::pem_decode(pem, "PKCS7"));
}

TEST(CryptoCodec, Pkcs7BundlesInEveryForm) {
  auto root = crypto::CertificateAuthority::create(crypto::CaOptions{});
  auto key = crypto::PrivateKey::generate(KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256});
  auto leaf = root->issue_server("ca.example.com", key->public_key_der(), 10, util::now());
  ASSERT_TRUE(leaf) << leaf.error().message;
  EXPECT_EQ(leaf->subject_cn(), "ca.example.com");
  EXPECT_EQ(leaf->dns_names(), std::vector<std::string>{"ca.example.com"});
  auto der = crypto::make_pkcs7_certs({*leaf, root->certificate()});
  ASSERT_TRUE(der);
  const std::string b64 = crypto::base64_encode(*der);
  const std::string pem = crypto::pem_encode("PKCS7", *der);
  for (const std::string& form : {std::string(der->begin(), der->end()), b64, pem}) {
    auto certs = crypto::Certificate::all_from_pkcs7(
        crypto::ByteView(reinterpret_cast<const std::uint8_t*>(form.data()), form.size()));
    ASSERT_TRUE(certs) << certs.error().message;
    ASSERT_EQ(certs->size(), 2u);
    EXPECT_EQ((*certs)[0].sha256_fingerprint(), leaf->sha256_fingerprint());
    EXPECT_EQ((*certs)[1].sha256_fingerprint(), root->certificate().sha256_fingerprint());
  }
  const std::string junk = "hello";
  EXPECT_FALSE(crypto::Certificate::all_from_pkcs7(
      crypto::ByteView(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size())));
}

}  // namespace
}  // namespace capf
