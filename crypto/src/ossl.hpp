// Private to crypto/: RAII owners for OpenSSL objects, the error-queue-to-Error bridge and
// the Impl structs behind the public handles. Never include this outside crypto/src.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "capf/crypto/crypto.hpp"

namespace capf::crypto::ossl {

/// Calls an OpenSSL free function; lets unique_ptr own any OpenSSL object.
template <auto FreeFn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};

/// Owning pointers, one per OpenSSL type used in crypto/.
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using Asn1IntPtr = std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;

/// Frees a STACK_OF(X509) without freeing the certificates (they are borrowed).
struct FreeX509Stack {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), FreeX509Stack>;

/// Error(Errc::crypto, "<what>: <every entry of this thread's OpenSSL error queue>"),
/// draining the queue.
Error error(std::string_view what);

/// Clears this thread's OpenSSL error queue on entry and exit, so a message never carries
/// stale entries and callers (Boost.Asio's SSL engine) never see ours.
class ErrorQueueScope {
 public:
  ErrorQueueScope() { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

/// Adds the extension `nid`, written as OpenSSL's configuration text (`value`, e.g.
/// "critical,CA:FALSE"), to the certificate being built; `ctx` names its issuer and subject.
/// The error names the extension and the value (control characters escaped).
Result<void> add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value);

/// A read-only memory BIO over `data` (which must outlive it).
BioPtr mem_bio(std::string_view data);
/// A fresh writable memory BIO.
BioPtr mem_bio();
/// Everything written into a memory BIO.
std::string bio_text(BIO* bio);

/// DER SubjectPublicKeyInfo of a key ({} on failure). RSA and named-curve EC keys are written
/// without OpenSSL 3.0's encoder chain (spki.cpp).
Bytes spki_der(const EVP_PKEY* key);
/// Parses a DER SubjectPublicKeyInfo that must fill the whole input. Canonical RSA and
/// uncompressed named-curve EC keys are read without the decoder chain; every other form is
/// left to d2i_PUBKEY, which also words every error.
Result<PkeyPtr> parse_spki(ByteView der);
/// Puts a DER SubjectPublicKeyInfo into a certificate being built, as its bytes, when it is
/// one of the forms parse_spki reads itself; false (nothing changed) otherwise. The
/// certificate then holds no decoded key: X509_get0_pubkey gives nullptr, and chain
/// verification fails, until it is signed, serialized and parsed again. Cheaper than
/// X509_set_pubkey, which encodes the key and decodes it again.
bool set_subject_spki(X509* x, ByteView der);
/// The SubjectPublicKeyInfo as a certificate carries it ({} on failure).
Bytes certificate_spki_der(const X509* x);
/// Algorithm and size of a key; an error naming what is unsupported.
Result<KeySpec> key_spec_of(const EVP_PKEY* key);

/// The UTF-8 text of the first Common Name in a name ("" if none).
std::string common_name(const X509_NAME* name);
/// RFC 2253 one-line form of a name.
std::string rfc2253(const X509_NAME* name);

/// Wraps an X509 the caller built or parsed into a public Certificate.
Certificate wrap(X509Ptr x509);
/// Wraps a certificate built and signed here whose key went in as bytes (set_subject_spki):
/// its key is decoded only when something needs it (Certificate::Impl::with_key).
Certificate wrap_built(X509Ptr x509);

}  // namespace capf::crypto::ossl

namespace capf::crypto {

/// The key behind a PrivateKey handle.
struct PrivateKey::Impl {
  ossl::PkeyPtr pkey;
};

/// The certificate behind a Certificate handle; never mutated after construction but for the
/// one lazy parse of with_key(), which is thread-safe.
struct Certificate::Impl {
  /// The certificate as parsed, or as built and signed. Its names, dates, serial, extensions
  /// and DER are all there; for a built one the key is bytes only (X509_get0_pubkey gives
  /// nullptr).
  ossl::X509Ptr x509;
  /// Set by ossl::wrap_built: `x509` holds its key as bytes only.
  bool key_as_bytes = false;

  /// The certificate with its key decoded, for whatever needs the key (chain verification, a
  /// trust store, TLS, signatures, PKCS#7): `x509` itself, or for a built one a copy parsed once
  /// from its DER on first use (nullptr when that fails). Decoding a key costs OpenSSL 3 its
  /// decoder chain (about 1,300 allocations); an LSC sent to its phone never needs it.
  X509* with_key() const;

 private:
  mutable std::once_flag parse_once_;
  mutable ossl::X509Ptr parsed_;
};

}  // namespace capf::crypto
