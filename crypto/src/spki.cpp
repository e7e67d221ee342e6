// SubjectPublicKeyInfo in and out without OpenSSL 3.0's encoder and decoder chains.
//
// OpenSSL 3.0 turns a key into DER, and DER into a key, by building an OSSL_ENCODER or
// OSSL_DECODER context that walks every implementation of every loaded provider: on the bench
// machine about 55 µs to encode and 100 µs to decode a P-256 key, four times the cost of making
// one, and X509_set_pubkey pays both. An enrollment did that six times between the daemon and
// the phone. The two key kinds an LSC is issued for, RSA and named-curve EC, have one fixed SPKI
// shape: we read and write it with OpenSSL's own ASN.1 templates and build the key with
// EVP_PKEY_fromdata, which checks an EC point lies on its curve as the decoder does.
//
// The fast path takes only canonical DER of those shapes. Anything else — other algorithms,
// explicit curve parameters, compressed points, BER, a key fromdata refuses — goes to
// d2i_PUBKEY as before, so what is accepted and every error message stay the decoder's.
#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include <climits>
#include <cstring>
#include <optional>

#include "ossl.hpp"

extern "C" {

typedef struct capf_spki_st {
  X509_ALGOR* algor;
  ASN1_BIT_STRING* public_key;
} CAPF_SPKI;

typedef struct capf_rsa_public_st {
  BIGNUM* n;
  BIGNUM* e;
} CAPF_RSA_PUBLIC;

}  // extern "C"

namespace capf::crypto::ossl {

namespace {

// SubjectPublicKeyInfo (RFC 5280 §4.1) and RSAPublicKey (RFC 8017 §A.1.1), as OpenSSL defines
// them in x_pubkey.c and rsa_asn1.c. BIGNUM is the type OpenSSL's RSAPublicKey reads n and e as.
ASN1_SEQUENCE(CAPF_SPKI) = {
    ASN1_SIMPLE(CAPF_SPKI, algor, X509_ALGOR),
    ASN1_SIMPLE(CAPF_SPKI, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CAPF_SPKI)

ASN1_SEQUENCE(CAPF_RSA_PUBLIC) = {
    ASN1_SIMPLE(CAPF_RSA_PUBLIC, n, BIGNUM),
    ASN1_SIMPLE(CAPF_RSA_PUBLIC, e, BIGNUM),
} static_ASN1_SEQUENCE_END(CAPF_RSA_PUBLIC)

template <const ASN1_ITEM* (*Item)()>
struct ItemFree {
  template <class T>
  void operator()(T* p) const noexcept {
    ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(p), Item());
  }
};
using SpkiPtr = std::unique_ptr<CAPF_SPKI, ItemFree<CAPF_SPKI_it>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM_free>>;

/// The DER an i2d function allocated at `out` (`len` bytes, or ≤ 0 on failure), freed.
Bytes take_der(unsigned char* out, int len) {
  Bytes der = len > 0 && out != nullptr ? Bytes(out, out + len) : Bytes{};
  OPENSSL_free(out);
  return der;
}

template <const ASN1_ITEM* (*Item)()>
Bytes encode(const void* value) {
  unsigned char* out = nullptr;
  const int len = ASN1_item_i2d(static_cast<const ASN1_VALUE*>(value), &out, Item());
  return take_der(out, len);
}

/// `der` read as T when it is exactly T's canonical DER; nullptr otherwise.
template <class T, const ASN1_ITEM* (*Item)()>
std::unique_ptr<T, ItemFree<Item>> read_canonical(ByteView der) {
  if (der.empty() || der.size() > static_cast<std::size_t>(INT_MAX)) return nullptr;
  const unsigned char* p = der.data();
  std::unique_ptr<T, ItemFree<Item>> value(
      reinterpret_cast<T*>(ASN1_item_d2i(nullptr, &p, static_cast<long>(der.size()), Item())));
  // Not this shape: the decoder judges it, and its errors alone are the ones reported.
  if (!value || p != der.data() + der.size()) {
    ERR_clear_error();
    return nullptr;
  }
  const Bytes again = encode<Item>(value.get());
  if (again.size() != der.size() || std::memcmp(again.data(), der.data(), der.size()) != 0) {
    ERR_clear_error();
    return nullptr;
  }
  return value;
}

/// Bytes of an EC field element for the curves LSCs use; 0 for any other curve.
std::size_t field_bytes(int curve_nid) {
  switch (curve_nid) {
    case NID_X9_62_prime256v1: return 32;
    case NID_secp384r1: return 48;
    case NID_secp521r1: return 66;
    default: return 0;
  }
}

/// The one fast-path shape: algorithm, curve (EC) and the BIT STRING's bytes.
struct Shape {
  int algorithm = NID_undef;
  int parameter = V_ASN1_UNDEF;  // RSA: NULL or absent, kept as the key came
  int curve = NID_undef;
  ByteView key;
};

/// The shape of a parsed SPKI when it is one the fast path handles.
std::optional<Shape> shape_of(const CAPF_SPKI& spki) {
  const ASN1_BIT_STRING* bits = spki.public_key;
  // A key is whole bytes: any unused bits are a form the decoder should judge.
  if ((bits->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bits->flags & 0x07) != 0) return std::nullopt;
  const ASN1_OBJECT* algorithm = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&algorithm, &ptype, &pval, spki.algor);
  Shape s;
  s.algorithm = OBJ_obj2nid(algorithm);
  s.parameter = ptype;
  s.key = ByteView(ASN1_STRING_get0_data(bits), static_cast<std::size_t>(ASN1_STRING_length(bits)));
  if (s.algorithm == NID_rsaEncryption) {
    if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) return std::nullopt;
    return s;
  }
  if (s.algorithm == NID_X9_62_id_ecPublicKey && ptype == V_ASN1_OBJECT) {
    s.curve = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
    const std::size_t field = field_bytes(s.curve);
    // Uncompressed points only; a compressed one goes to the decoder, which keeps its form.
    if (field == 0 || s.key.size() != 1 + 2 * field || s.key[0] != POINT_CONVERSION_UNCOMPRESSED) return std::nullopt;
    return s;
  }
  return std::nullopt;
}

PkeyPtr from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(key);
}

/// The key of a fast-path shape; nullptr when fromdata refuses it (the decoder then explains).
PkeyPtr key_of(const Shape& s) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return nullptr;
  if (s.algorithm == NID_rsaEncryption) {
    auto rsa = read_canonical<CAPF_RSA_PUBLIC, CAPF_RSA_PUBLIC_it>(s.key);
    if (!rsa || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, rsa->n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, rsa->e) != 1)
      return nullptr;
    return from_params("RSA", bld.get());
  }
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(s.curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, s.key.data(), s.key.size()) != 1)
    return nullptr;
  return from_params("EC", bld.get());
}

/// A parsed SPKI in a fast-path shape (the shape's key bytes point into `spki`).
struct FastSpki {
  SpkiPtr spki;
  Shape shape;
};

std::optional<FastSpki> read_fast(ByteView der) {
  auto spki = read_canonical<CAPF_SPKI, CAPF_SPKI_it>(der);
  if (!spki) return std::nullopt;
  auto shape = shape_of(*spki);
  if (!shape) return std::nullopt;
  return FastSpki{std::move(spki), *shape};
}

PkeyPtr fast_parse(ByteView der) {
  auto fast = read_fast(der);
  return fast ? key_of(fast->shape) : nullptr;
}

/// SPKI DER from an algorithm and the key bytes (all whole bytes).
Bytes assemble(int algorithm, int ptype, void* pval, ByteView key) {
  SpkiPtr spki(reinterpret_cast<CAPF_SPKI*>(ASN1_item_new(CAPF_SPKI_it())));
  if (!spki || X509_ALGOR_set0(spki->algor, OBJ_nid2obj(algorithm), ptype, pval) != 1 ||
      ASN1_BIT_STRING_set(spki->public_key, const_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    return {};
  // Without this flag OpenSSL drops trailing zero bytes from a BIT STRING as "unused bits".
  spki->public_key->flags &= ~0x07L;
  spki->public_key->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return encode<CAPF_SPKI_it>(spki.get());
}

Bytes fast_spki_der(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      const bool got = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
                       EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1;
      CAPF_RSA_PUBLIC rsa{n, e};
      const Bytes inner = got ? encode<CAPF_RSA_PUBLIC_it>(&rsa) : Bytes{};
      BN_free(n);
      BN_free(e);
      return inner.empty() ? Bytes{} : assemble(NID_rsaEncryption, V_ASN1_NULL, nullptr, inner);
    }
    case EVP_PKEY_EC: {
      char group[80] = {};
      size_t group_len = 0;
      unsigned char point[1 + 2 * 66];
      size_t point_len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &group_len) != 1 ||
          EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &point_len) != 1)
        return {};
      const int curve = OBJ_sn2nid(group);
      if (field_bytes(curve) == 0) return {};
      return assemble(NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(curve), ByteView(point, point_len));
    }
    default: return {};
  }
}

}  // namespace

Bytes spki_der(const EVP_PKEY* key) {
  if (key == nullptr) return {};
  Bytes der = fast_spki_der(key);
  if (!der.empty()) return der;
  ERR_clear_error();
  unsigned char* out = nullptr;
  const int len = i2d_PUBKEY(key, &out);
  return take_der(out, len);
}

Result<PkeyPtr> parse_spki(ByteView der) {
  if (der.empty()) return make_error(Errc::crypto, "public key is empty");
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return make_error(Errc::crypto, "public key too large");
  if (auto key = fast_parse(der)) return key;
  ERR_clear_error();
  const unsigned char* p = der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) return error("public key is not a DER SubjectPublicKeyInfo");
  // Trailing bytes mean the sender framed something else around the key; refuse it.
  if (p != der.data() + der.size())
    return make_error(Errc::crypto, "public key has " + std::to_string(der.data() + der.size() - p) +
                                        " trailing bytes after the SubjectPublicKeyInfo");
  return key;
}

bool set_subject_spki(X509* x, ByteView der) {
  auto fast = read_fast(der);
  if (!fast) return false;
  const Shape& shape = fast->shape;
  const int ptype = shape.parameter;
  void* pval = shape.algorithm == NID_rsaEncryption ? nullptr : OBJ_nid2obj(shape.curve);
  auto* penc = static_cast<unsigned char*>(OPENSSL_memdup(shape.key.data(), shape.key.size()));
  if (penc == nullptr) return false;
  // set0 takes penc; the objects from OBJ_nid2obj are OpenSSL's static ones.
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(shape.algorithm), ptype, pval, penc,
                             static_cast<int>(shape.key.size())) != 1) {
    OPENSSL_free(penc);
    return false;
  }
  return true;
}

Bytes certificate_spki_der(const X509* x) {
  const X509_PUBKEY* pub = X509_get_X509_PUBKEY(x);
  if (pub == nullptr) return {};
  unsigned char* out = nullptr;
  const int len = i2d_X509_PUBKEY(pub, &out);
  return take_der(out, len);
}

}  // namespace capf::crypto::ossl
