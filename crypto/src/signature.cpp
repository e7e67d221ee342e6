// The signatures a phone makes in AUTH_RESPONSE (capf-protocol.md §5.2).
//
// RSA phones (and capfc) wrap the BARE digest in a PKCS#1 v1.5 type-1 block, which no
// standard EVP verify accepts, so verification recovers the raw block with the public key
// and compares it with both acceptable encodings built locally.
#include <openssl/rsa.h>

#include <algorithm>
#include <array>

#include "ossl.hpp"

namespace capf::crypto {

namespace {

const EVP_MD* md_of(CapfHash hash) {
  switch (hash) {
    case CapfHash::sha1:
      return EVP_sha1();
    case CapfHash::sha256:
      return EVP_sha256();
    case CapfHash::sha512:
      return EVP_sha512();
  }
  return nullptr;
}

// DER of DigestInfo{AlgorithmIdentifier{hash, NULL}, OCTET STRING header} (RFC 8017 §9.2 note 1).
ByteView digest_info_prefix(CapfHash hash) {
  static constexpr std::array<std::uint8_t, 15> kSha1 = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                                         0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
  static constexpr std::array<std::uint8_t, 19> kSha256 = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                           0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  static constexpr std::array<std::uint8_t, 19> kSha512 = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                           0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
  switch (hash) {
    case CapfHash::sha1:
      return kSha1;
    case CapfHash::sha256:
      return kSha256;
    case CapfHash::sha512:
      return kSha512;
  }
  return {};
}

Result<Bytes> digest(ByteView data, CapfHash hash) {
  const EVP_MD* md = md_of(hash);
  if (md == nullptr) return make_error(Errc::invalid_argument, "unknown CAPF hash");
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return ossl::error("hashing failed");
  return Bytes(out, out + len);
}

Bytes with_digest_info(ByteView h, CapfHash hash) {
  ByteView prefix = digest_info_prefix(hash);
  Bytes out(prefix.begin(), prefix.end());
  out.insert(out.end(), h.begin(), h.end());
  return out;
}

// 00 01 FF..FF 00 || t, k bytes long; empty when t does not fit with the 8-byte minimum padding.
Bytes type1_block(std::size_t k, ByteView t) {
  if (k < t.size() + 11) return {};
  Bytes block(k, 0xff);
  block[0] = 0x00;
  block[1] = 0x01;
  block[k - t.size() - 1] = 0x00;
  std::copy(t.begin(), t.end(), block.end() - static_cast<std::ptrdiff_t>(t.size()));
  return block;
}

Error mismatch() {
  ERR_clear_error();
  return make_error(Errc::crypto, "signature does not verify with the certificate's key");
}

}  // namespace

Result<Bytes> sign_capf(const PrivateKey& key, ByteView data, CapfHash hash, RsaDigestForm form) {
  ossl::ErrorQueueScope scope;
  if (!key.impl()) return make_error(Errc::internal, "no private key");
  EVP_PKEY* pkey = key.impl()->pkey.get();
  auto h = digest(data, hash);
  if (!h) return h.error();
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1) return ossl::error("starting the signature failed");

  Bytes input;
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA && form == RsaDigestForm::bare_digest) {
    // The block is padded here and the private key applied raw, exactly as capfc does.
    input = type1_block(static_cast<std::size_t>(EVP_PKEY_get_size(pkey)), *h);
    if (input.empty()) return make_error(Errc::crypto, "RSA key too small for the digest");
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1) return ossl::error("selecting raw RSA failed");
  } else if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC) {
    input = *h;
    if (id == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1)
      return ossl::error("selecting PKCS#1 v1.5 padding failed");
    if (EVP_PKEY_CTX_set_signature_md(ctx.get(), md_of(hash)) != 1)
      return ossl::error("selecting the signature digest failed");
  } else {
    return make_error(Errc::crypto, "unsupported key type for a CAPF signature");
  }

  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, input.data(), input.size()) != 1)
    return ossl::error("sizing the signature failed");
  Bytes sig(len);
  if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, input.data(), input.size()) != 1) return ossl::error("signing failed");
  sig.resize(len);
  return sig;
}

Result<void> verify_capf(const Certificate& cert, ByteView data, ByteView signature, CapfHash hash) {
  ossl::ErrorQueueScope scope;
  if (!cert.impl()) return make_error(Errc::internal, "no certificate");
  EVP_PKEY* pkey = X509_get0_pubkey(cert.impl()->with_key());
  if (pkey == nullptr) return ossl::error("reading the certificate's public key failed");
  if (signature.empty()) return make_error(Errc::crypto, "signature is empty");
  auto h = digest(data, hash);
  if (!h) return h.error();
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx) return ossl::error("allocating a verification context failed");

  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: {
      auto k = static_cast<std::size_t>(EVP_PKEY_get_size(pkey));
      // A signature shorter than the modulus is a big-endian integer with its leading zero
      // bytes dropped; capfd accepts it, so do we. Longer can never be valid.
      if (signature.size() > k)
        return make_error(Errc::crypto, "signature is " + std::to_string(signature.size()) +
                                            " bytes, longer than the " + std::to_string(k) + "-byte RSA modulus");
      if (EVP_PKEY_verify_recover_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING) != 1)
        return ossl::error("starting RSA signature recovery failed");
      Bytes block(k);
      size_t len = block.size();
      if (EVP_PKEY_verify_recover(ctx.get(), block.data(), &len, signature.data(), signature.size()) != 1)
        return mismatch();
      if (len < k) {
        block.resize(len);
        block.insert(block.begin(), k - len, 0x00);
      }
      if (block == type1_block(k, *h) || block == type1_block(k, with_digest_info(*h, hash))) return ok();
      return mismatch();
    }
    case EVP_PKEY_EC: {
      if (EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), md_of(hash)) != 1)
        return ossl::error("starting ECDSA verification failed");
      if (EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), h->data(), h->size()) == 1) return ok();
      return mismatch();
    }
    default:
      return make_error(Errc::crypto, "unsupported key type in the certificate for a CAPF signature");
  }
}

}  // namespace capf::crypto
