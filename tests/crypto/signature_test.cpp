#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

struct Phone {
  const PrivateKey* key;
  Certificate cert;
  Bytes signed_data;  // device_name || 0x00 || DER(cert), capf-protocol.md §5.2
};

Phone phone(const KeySpec& spec, const std::string& device = "SEP001122334455") {
  const PrivateKey& key = cached_key(spec);
  auto cert = cached_ca().issue_lsc(device, key.public_key_der(), 365, util::now());
  EXPECT_TRUE(cert.ok());
  Bytes data(device.begin(), device.end());
  data.push_back(0x00);
  Bytes der = cert->to_der();
  data.insert(data.end(), der.begin(), der.end());
  return Phone{&key, *cert, data};
}

EVP_PKEY* public_key(const Certificate& cert) {
  Bytes der = cert.public_key_der();
  const unsigned char* p = der.data();
  return d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
}

Bytes hash(const Bytes& data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr), 1);
  return Bytes(out, out + len);
}

// The raw RSA public operation on a signature, with no padding check.
Bytes rsa_recover(const Certificate& cert, const Bytes& sig) {
  EVP_PKEY* pub = public_key(cert);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_verify_recover_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
  Bytes out(static_cast<std::size_t>(EVP_PKEY_get_size(pub)));
  size_t len = out.size();
  EXPECT_EQ(EVP_PKEY_verify_recover(ctx, out.data(), &len, sig.data(), sig.size()), 1);
  out.resize(len);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(pub);
  return out;
}

// Standard one-shot EVP verification (PKCS#1 v1.5 with DigestInfo, or DER ECDSA).
bool standard_verify(const Certificate& cert, const Bytes& data, const Bytes& sig, const EVP_MD* md) {
  EVP_PKEY* pub = public_key(cert);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pub) == 1 &&
            EVP_DigestVerify(ctx, sig.data(), sig.size(), data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  ERR_clear_error();
  return ok;
}

struct HashCase {
  CapfHash hash;
  const EVP_MD* (*md)();
};
const HashCase kHashes[] = {{CapfHash::sha1, EVP_sha1}, {CapfHash::sha512, EVP_sha512}, {CapfHash::sha256, EVP_sha256}};

TEST(CapfSignature, RsaBareDigestIsAType1BlockAroundTheDigestAlone) {
  for (int bits : {1024, 2048}) {
    Phone p = phone(rsa(bits));
    for (const auto& hc : kHashes) {
      auto sig = sign_capf(*p.key, p.signed_data, hc.hash, RsaDigestForm::bare_digest);
      ASSERT_TRUE(sig.ok()) << sig.error().message;
      EXPECT_EQ(sig->size(), static_cast<std::size_t>(bits / 8));
      Bytes block = rsa_recover(p.cert, *sig);
      Bytes h = hash(p.signed_data, hc.md());
      ASSERT_EQ(block.size(), static_cast<std::size_t>(bits / 8));
      EXPECT_EQ(block[0], 0x00);
      EXPECT_EQ(block[1], 0x01);
      std::size_t sep = block.size() - h.size() - 1;
      for (std::size_t i = 2; i < sep; ++i) ASSERT_EQ(block[i], 0xff) << i;
      EXPECT_EQ(block[sep], 0x00);
      EXPECT_EQ(Bytes(block.begin() + static_cast<long>(sep) + 1, block.end()), h);
      EXPECT_FALSE(standard_verify(p.cert, p.signed_data, *sig, hc.md()));  // not DigestInfo
      auto v = verify_capf(p.cert, p.signed_data, *sig, hc.hash);
      EXPECT_TRUE(v.ok()) << v.error().message;
    }
  }
}

TEST(CapfSignature, RsaDigestInfoFormIsStandardPkcs1AndAccepted) {
  Phone p = phone(rsa(2048));
  for (const auto& hc : kHashes) {
    auto sig = sign_capf(*p.key, p.signed_data, hc.hash, RsaDigestForm::digest_info);
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_TRUE(standard_verify(p.cert, p.signed_data, *sig, hc.md()));
    auto v = verify_capf(p.cert, p.signed_data, *sig, hc.hash);
    EXPECT_TRUE(v.ok()) << v.error().message;
  }
}

TEST(CapfSignature, AcceptsAStandardSignatureMadeOutsideCapf) {
  Phone p = phone(rsa(2048));
  // The key is opaque outside crypto/; give OpenSSL its PEM.
  std::string pem = p.key->to_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* priv = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(priv, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha512(), nullptr, priv), 1);
  size_t len = 0;
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &len, p.signed_data.data(), p.signed_data.size()), 1);
  Bytes sig(len);
  ASSERT_EQ(EVP_DigestSign(ctx, sig.data(), &len, p.signed_data.data(), p.signed_data.size()), 1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(priv);
  EXPECT_TRUE(verify_capf(p.cert, p.signed_data, sig, CapfHash::sha512).ok());
  EXPECT_FALSE(verify_capf(p.cert, p.signed_data, sig, CapfHash::sha1).ok());
}

TEST(CapfSignature, EcIsDerEcdsaForEveryCurveAndHash) {
  for (EcCurve c : {EcCurve::p256, EcCurve::p384, EcCurve::p521}) {
    Phone p = phone(ec(c));
    for (const auto& hc : kHashes) {
      for (RsaDigestForm form : {RsaDigestForm::bare_digest, RsaDigestForm::digest_info}) {
        auto sig = sign_capf(*p.key, p.signed_data, hc.hash, form);
        ASSERT_TRUE(sig.ok()) << sig.error().message;
        EXPECT_EQ((*sig)[0], 0x30);  // DER SEQUENCE
        EXPECT_TRUE(standard_verify(p.cert, p.signed_data, *sig, hc.md()));
        auto v = verify_capf(p.cert, p.signed_data, *sig, hc.hash);
        EXPECT_TRUE(v.ok()) << v.error().message;
      }
    }
  }
}

TEST(CapfSignature, WrongKeyAlteredDataAlteredSignatureOrWrongHashFail) {
  for (const KeySpec& spec : {rsa(2048), ec(EcCurve::p256)}) {
    Phone p = phone(spec);
    Phone other = phone(spec == rsa(2048) ? rsa(1024) : ec(EcCurve::p384), "SEP665544332211");
    for (RsaDigestForm form : {RsaDigestForm::bare_digest, RsaDigestForm::digest_info}) {
      auto sig = sign_capf(*p.key, p.signed_data, CapfHash::sha1, form);
      ASSERT_TRUE(sig.ok());
      auto wrong_key = verify_capf(other.cert, p.signed_data, *sig, CapfHash::sha1);
      ASSERT_FALSE(wrong_key.ok());
      EXPECT_EQ(wrong_key.error().code, Errc::crypto);

      Bytes data = p.signed_data;
      data[3] ^= 0x01;
      auto altered = verify_capf(p.cert, data, *sig, CapfHash::sha1);
      ASSERT_FALSE(altered.ok());
      EXPECT_EQ(altered.error().message, "signature does not verify with the certificate's key");

      Bytes bad_sig = *sig;
      bad_sig[bad_sig.size() / 2] ^= 0x40;
      EXPECT_FALSE(verify_capf(p.cert, p.signed_data, bad_sig, CapfHash::sha1).ok());
      EXPECT_FALSE(verify_capf(p.cert, p.signed_data, *sig, CapfHash::sha512).ok());
      EXPECT_FALSE(verify_capf(p.cert, p.signed_data, {}, CapfHash::sha1).ok());
    }
  }
}

TEST(CapfSignature, RsaBlockWithWrongPaddingIsRefused) {
  Phone p = phone(rsa(2048));
  std::string pem = p.key->to_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* priv = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  Bytes h = hash(p.signed_data, EVP_sha1());
  // Type 2 (encryption) block, and a type-1 block whose separator is missing.
  for (int variant = 0; variant < 2; ++variant) {
    Bytes block(256, 0xff);
    block[0] = 0x00;
    block[1] = variant == 0 ? 0x02 : 0x01;
    block[256 - h.size() - 1] = variant == 0 ? 0x00 : 0xff;
    std::copy(h.begin(), h.end(), block.end() - static_cast<long>(h.size()));
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(priv, nullptr);
    ASSERT_EQ(EVP_PKEY_sign_init(ctx), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
    Bytes sig(256);
    size_t len = sig.size();
    ASSERT_EQ(EVP_PKEY_sign(ctx, sig.data(), &len, block.data(), block.size()), 1);
    EVP_PKEY_CTX_free(ctx);
    EXPECT_FALSE(verify_capf(p.cert, p.signed_data, sig, CapfHash::sha1).ok()) << variant;
  }
  EVP_PKEY_free(priv);
}

TEST(CapfSignature, RsaSignatureWithItsLeadingZeroDroppedIsAccepted) {
  Phone p = phone(rsa(1024));
  // About one signature in 256 starts with 0x00; a sender that encodes the integer minimally
  // (as capfd's int.to_bytes callers might) drops it.
  for (int i = 0; i < 4000; ++i) {
    Bytes data = p.signed_data;
    data.push_back(static_cast<std::uint8_t>(i));
    data.push_back(static_cast<std::uint8_t>(i >> 8));
    auto sig = sign_capf(*p.key, data, CapfHash::sha1, RsaDigestForm::bare_digest);
    ASSERT_TRUE(sig.ok());
    if ((*sig)[0] != 0x00) continue;
    Bytes trimmed(sig->begin() + 1, sig->end());
    auto v = verify_capf(p.cert, data, trimmed, CapfHash::sha1);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return;
  }
  GTEST_SKIP() << "no signature with a leading zero byte in 4000 tries";
}

TEST(CapfSignature, OverlongRsaSignatureIsRefusedWithItsSize) {
  Phone p = phone(rsa(1024));
  Bytes sig(200, 0x01);
  auto r = verify_capf(p.cert, p.signed_data, sig, CapfHash::sha1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("200 bytes"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace capf::crypto::test
