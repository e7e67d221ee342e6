// Private keys, and what kind of public key a SubjectPublicKeyInfo holds.
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "ossl.hpp"

namespace capf::crypto {

namespace ossl {

Result<KeySpec> key_spec_of(const EVP_PKEY* key) {
  if (key == nullptr) return make_error(Errc::crypto, "no public key");
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      // Below 1024 bits a signature proves nothing and an LSC for it would be a liability.
      if (bits < 1024)
        return make_error(Errc::crypto, "RSA key of " + std::to_string(bits) + " bits is below the 1024-bit minimum");
      return KeySpec{KeyAlgorithm::rsa, bits, EcCurve::p256};
    }
    case EVP_PKEY_EC: {
      char name[80] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
        ERR_clear_error();
        return make_error(Errc::crypto, "EC key with explicit curve parameters is not supported (need a named curve)");
      }
      switch (OBJ_sn2nid(name)) {
        case NID_X9_62_prime256v1: return KeySpec{KeyAlgorithm::ec, 0, EcCurve::p256};
        case NID_secp384r1: return KeySpec{KeyAlgorithm::ec, 0, EcCurve::p384};
        case NID_secp521r1: return KeySpec{KeyAlgorithm::ec, 0, EcCurve::p521};
        default: return make_error(Errc::crypto, std::string("unsupported EC curve ") + name);
      }
    }
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      return make_error(Errc::crypto, std::string("unsupported public key algorithm ") +
                                          (name != nullptr && EVP_PKEY_get_base_id(key) != NID_undef ? name : "(unknown)"));
    }
  }
}

}  // namespace ossl

PrivateKey::PrivateKey() = default;
PrivateKey::~PrivateKey() = default;
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;

Result<PrivateKey> PrivateKey::generate(const KeySpec& spec) {
  ossl::ErrorQueueScope scope;
  EVP_PKEY* raw = nullptr;
  if (spec.algorithm == KeyAlgorithm::rsa) {
    if (!valid_rsa_bits(spec.rsa_bits))
      return make_error(Errc::invalid_argument,
                        "RSA key size must be 1024, 2048, 3072 or 4096 bits, got " + std::to_string(spec.rsa_bits));
    // EVP_PKEY_Q_keygen's RSA default public exponent is 65537.
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.rsa_bits));
  } else {
    const char* group = nullptr;
    switch (spec.curve) {
      case EcCurve::p256: group = "P-256"; break;
      case EcCurve::p384: group = "P-384"; break;
      case EcCurve::p521: group = "P-521"; break;
    }
    if (group == nullptr) return make_error(Errc::invalid_argument, "unknown EC curve");
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  }
  if (raw == nullptr) return ossl::error("generating a " + to_string(spec) + " key failed");
  PrivateKey key;
  key.impl_ = std::make_unique<Impl>();
  key.impl_->pkey.reset(raw);
  return key;
}

Result<PrivateKey> PrivateKey::from_pem(const std::string& pem) {
  ossl::ErrorQueueScope scope;
  auto bio = ossl::mem_bio(pem);
  if (!bio) return ossl::error("allocating a memory BIO failed");
  // A callback that supplies no passphrase: an encrypted key must fail, never prompt on a tty.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  ossl::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!pkey) return ossl::error("reading the PEM private key failed");
  if (auto spec = ossl::key_spec_of(pkey.get()); !spec) return spec.error();
  PrivateKey key;
  key.impl_ = std::make_unique<Impl>();
  key.impl_->pkey = std::move(pkey);
  return key;
}

std::string PrivateKey::to_pem() const {
  ossl::ErrorQueueScope scope;
  if (!impl_) return {};
  auto bio = ossl::mem_bio();
  // PEM_write_bio_PrivateKey emits unencrypted PKCS#8 PEM (a null cipher).
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  return ossl::bio_text(bio.get());
}

Bytes PrivateKey::public_key_der() const {
  ossl::ErrorQueueScope scope;
  return impl_ ? ossl::spki_der(impl_->pkey.get()) : Bytes{};
}

KeySpec PrivateKey::spec() const {
  ossl::ErrorQueueScope scope;
  if (!impl_) return {};
  auto spec = ossl::key_spec_of(impl_->pkey.get());
  // generate() and from_pem() only admit keys key_spec_of understands.
  return spec ? *spec : KeySpec{};
}

Result<KeySpec> inspect_public_key(ByteView spki_der) {
  ossl::ErrorQueueScope scope;
  auto key = ossl::parse_spki(spki_der);
  if (!key) return key.error();
  return ossl::key_spec_of(key->get());
}

}  // namespace capf::crypto
