// The SubjectPublicKeyInfo fast path (crypto/src/spki.cpp) against OpenSSL's own encoder and
// decoder: the same bytes out, the same keys accepted and refused, and an LSC that carries the
// phone's key exactly as sent.
#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "capf/util/text.hpp"
#include "capf/util/time.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey openssl_key(const PrivateKey& key) {
  const std::string pem = key.to_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Pkey k(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return k;
}

Bytes i2d_pubkey(EVP_PKEY* key) {
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return {};
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  return der;
}

/// What OpenSSL's decoder makes of `der`: the key, or nullptr when it refuses it or leaves
/// bytes over; `refusal` gets the message capf must give when the decoder refuses it.
Pkey decoder_read(const Bytes& der, std::string* refusal = nullptr) {
  ERR_clear_error();
  const unsigned char* p = der.data();
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  std::string detail;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    detail += (detail.empty() ? "" : "; ") + std::string(buf);
  }
  if (!key && refusal != nullptr)
    *refusal = "public key is not a DER SubjectPublicKeyInfo" + (detail.empty() ? "" : ": " + detail);
  if (key && p != der.data() + der.size()) return nullptr;
  return key;
}

/// The key kind capf admits for a decoded key, or "" where it refuses one.
std::string admitted(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
    return EVP_PKEY_get_bits(key) >= 1024 ? to_string(rsa(EVP_PKEY_get_bits(key))) : "";
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return "";
  char group[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) return "";
  switch (OBJ_sn2nid(group)) {
    case NID_X9_62_prime256v1: return to_string(ec(EcCurve::p256));
    case NID_secp384r1: return to_string(ec(EcCurve::p384));
    case NID_secp521r1: return to_string(ec(EcCurve::p521));
    default: return "";
  }
}

std::vector<KeySpec> kinds() { return {rsa(1024), rsa(2048), ec(EcCurve::p256), ec(EcCurve::p384), ec(EcCurve::p521)}; }

/// The same key with its point compressed, as a phone may send it.
Bytes compressed_spki(const PrivateKey& key) {
  Pkey k = openssl_key(key);
  EXPECT_EQ(EVP_PKEY_set_utf8_string_param(k.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                           OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED),
            1);
  return i2d_pubkey(k.get());
}

/// An RSA SPKI with the algorithm's NULL parameter left out (RFC 3279 wants it; some send none).
Bytes without_null_parameter(const Bytes& der) {
  // 30 82 LL LL | 30 0d 06 09 <rsaEncryption> 05 00 | 03 ...
  EXPECT_EQ(der[0], 0x30);
  EXPECT_EQ(der[1], 0x82);
  EXPECT_EQ(der[4], 0x30);
  EXPECT_EQ(der[5], 0x0d);
  EXPECT_EQ(der[17], 0x05);
  // Built by copying into a sized vector: vector::insert here trips GCC 12's -Warray-bounds.
  Bytes out(der.size() - 2);
  std::copy(der.begin(), der.begin() + 17, out.begin());
  std::copy(der.begin() + 19, der.end(), out.begin() + 17);
  const std::size_t outer = ((std::size_t{der[2]} << 8) | der[3]) - 2;
  out[2] = static_cast<std::uint8_t>(outer >> 8);
  out[3] = static_cast<std::uint8_t>(outer & 0xff);
  out[5] = 0x0b;
  return out;
}

TEST(Spki, KeysAreWrittenByteForByteAsOpensslsEncoderWritesThem) {
  for (const auto& spec : kinds()) {
    const PrivateKey& key = cached_key(spec);
    Pkey k = openssl_key(key);
    ASSERT_TRUE(k) << to_string(spec);
    EXPECT_EQ(key.public_key_der(), i2d_pubkey(k.get())) << to_string(spec);
  }
}

TEST(Spki, EveryOneByteChangeAndCutIsJudgedAsOpensslsDecoderJudgesIt) {
  std::size_t accepted = 0, refused = 0;
  for (const auto& spec : kinds()) {
    const Bytes good = cached_key(spec).public_key_der();
    std::vector<Bytes> variants;
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        Bytes m = good;
        m[i] ^= flip;
        variants.push_back(std::move(m));
      }
      variants.emplace_back(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(i));
    }
    Bytes longer = good;
    longer.push_back(0x00);
    variants.push_back(longer);
    if (spec.algorithm == KeyAlgorithm::ec) variants.push_back(compressed_spki(cached_key(spec)));
    else if (spec == rsa(2048)) variants.push_back(without_null_parameter(good));

    for (const auto& v : variants) {
      std::string refusal;
      Pkey decoded = v.empty() ? nullptr : decoder_read(v, &refusal);
      const std::string expected = decoded ? admitted(decoded.get()) : "";
      auto inspected = inspect_public_key(v);
      if (expected.empty()) {
        EXPECT_FALSE(inspected.ok()) << to_string(spec) << ": capf reads " << util::to_hex(v)
                                     << " as " << to_string(*inspected) << ", OpenSSL refuses it";
        // Where the decoder refuses the bytes, capf's message is the decoder's, nothing added.
        if (!refusal.empty() && !inspected.ok()) { EXPECT_EQ(inspected.error().message, refusal); }
        ++refused;
      } else {
        ASSERT_TRUE(inspected.ok()) << to_string(spec) << ": OpenSSL reads " << util::to_hex(v) << " as " << expected
                                    << ", capf says " << inspected.error().message;
        EXPECT_EQ(to_string(*inspected), expected);
        ++accepted;
      }
    }
  }
  // Both outcomes must actually occur, or the comparison proves nothing.
  EXPECT_GT(accepted, 100u);
  EXPECT_GT(refused, 1000u);
}

TEST(Spki, AnLscCarriesThePhoneKeyAsSentAndVerifiesLikeAParsedOne) {
  const auto& ca = cached_ca();
  const util::UnixTime now = util::now();
  std::vector<std::pair<std::string, Bytes>> sent;
  for (const auto& spec : kinds()) sent.emplace_back(to_string(spec), cached_key(spec).public_key_der());
  sent.emplace_back("P-256 compressed", compressed_spki(cached_key(ec(EcCurve::p256))));
  sent.emplace_back("RSA-2048 without NULL", without_null_parameter(cached_key(rsa(2048)).public_key_der()));

  for (const auto& [what, spki] : sent) {
    SCOPED_TRACE(what);
    auto lsc = ca.issue_lsc("SEP00AA00BB00CC", spki, 30, now);
    ASSERT_TRUE(lsc.ok()) << lsc.error().message;
    EXPECT_EQ(lsc->public_key_der(), spki);
    EXPECT_EQ(to_string(lsc->key_spec()), to_string(*inspect_public_key(spki)));

    // OpenSSL parses the DER, finds the same key, a valid signature and an SKI of the key bits.
    auto x = parse(*lsc);
    ASSERT_TRUE(x);
    Pkey sent_key = decoder_read(spki);
    ASSERT_TRUE(sent_key);
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(x.get()), sent_key.get()), 1);
    EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(parse(ca.certificate()).get())), 1);
    unsigned char sha1[EVP_MAX_MD_SIZE];
    unsigned int sha1_len = 0;
    ASSERT_EQ(X509_pubkey_digest(x.get(), EVP_sha1(), sha1, &sha1_len), 1);
    EXPECT_EQ(octets(X509_get0_subject_key_id(x.get())), std::string(reinterpret_cast<char*>(sha1), sha1_len));

    TrustStore trust;
    trust.add(ca.certificate());
    auto verified = trust.verify(*lsc, now);
    EXPECT_TRUE(verified.ok()) << verified.error().message;
  }

  // A phone's signature verifies against the LSC just issued, before it was ever parsed.
  for (const auto& spec : {ec(EcCurve::p256), rsa(2048)}) {
    const PrivateKey& key = cached_key(spec);
    auto lsc = ca.issue_lsc("SEP00AA00BB00CD", key.public_key_der(), 30, now);
    ASSERT_TRUE(lsc.ok());
    const Bytes data{1, 2, 3, 4};
    auto sig = sign_capf(key, data, CapfHash::sha256, RsaDigestForm::digest_info);
    ASSERT_TRUE(sig.ok());
    auto ok = verify_capf(*lsc, data, *sig, CapfHash::sha256);
    EXPECT_TRUE(ok.ok()) << to_string(spec) << ": " << ok.error().message;
    const Bytes other{1, 2, 3, 5};
    EXPECT_FALSE(verify_capf(*lsc, other, *sig, CapfHash::sha256).ok()) << to_string(spec);
  }
}

}  // namespace
}  // namespace capf::crypto::test
