// TLS policy for the CAPF port (capf-protocol.md §1, §11.5) applied to an SSL_CTX that
// Boost.Asio owns.
#include "capf/crypto/tls.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "ossl.hpp"

namespace capf::crypto {

namespace {

// Old 7900-series phones speak only TLS 1.0 with RSA key exchange and CBC-SHA suites, which
// OpenSSL 3 refuses above security level 0. TLS 1.3 suites are configured separately and stay.
constexpr const char* kLegacyCiphers = "DEFAULT:@SECLEVEL=0";

Result<void> apply_protocol_policy(SSL_CTX* ctx, TlsLegacy legacy) {
  int min_version = legacy == TlsLegacy::yes ? TLS1_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1)
    return ossl::error("setting the minimum TLS version failed");
  if (legacy == TlsLegacy::yes && SSL_CTX_set_cipher_list(ctx, kLegacyCiphers) != 1)
    return ossl::error("setting the legacy cipher list failed");
  // Compression invites CRIME; renegotiation is never needed for one short CAPF session.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return ok();
}

}  // namespace

Result<void> configure_server_tls(void* native_ctx, const std::string& cert_pem, const std::string& key_pem,
                                  TlsLegacy legacy) {
  ossl::ErrorQueueScope scope;
  auto* ctx = static_cast<SSL_CTX*>(native_ctx);
  if (ctx == nullptr) return make_error(Errc::internal, "no SSL_CTX");

  auto cert_bio = ossl::mem_bio(cert_pem);
  if (!cert_bio) return ossl::error("allocating a memory BIO failed");
  ossl::X509Ptr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return ossl::error("reading the TLS certificate PEM failed");
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return ossl::error("installing the TLS certificate failed");
  // Any further certificates in the PEM are the chain to send after the leaf.
  SSL_CTX_clear_chain_certs(ctx);
  for (;;) {
    ossl::X509Ptr extra(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!extra) break;
    if (SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1) return ossl::error("adding a chain certificate failed");
  }
  ERR_clear_error();  // the end of the PEM text is reported as an error entry

  auto key_bio = ossl::mem_bio(key_pem);
  if (!key_bio) return ossl::error("allocating a memory BIO failed");
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  ossl::PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) return ossl::error("reading the TLS private key PEM failed");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) return ossl::error("installing the TLS private key failed");
  if (SSL_CTX_check_private_key(ctx) != 1) return ossl::error("the TLS private key does not match the certificate");

  if (auto r = apply_protocol_policy(ctx, legacy); !r) return r;
  // Phones authenticate inside CAPF (§5.2), never with a TLS client certificate.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // A phone connects once per Certificate Operation and never resumes. OpenSSL's defaults (a
  // 20,480-entry server cache and two TLS 1.3 tickets per handshake) cost about 1 KiB of memory
  // per phone for the whole night and a ticket's encryption per handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(ctx, 0) != 1) return ossl::error("turning TLS 1.3 session tickets off failed");
  return ok();
}

Result<void> configure_client_tls(void* native_ctx, const std::string& ca_pem, TlsLegacy legacy) {
  ossl::ErrorQueueScope scope;
  auto* ctx = static_cast<SSL_CTX*>(native_ctx);
  if (ctx == nullptr) return make_error(Errc::internal, "no SSL_CTX");
  auto cas = Certificate::all_from_pem(ca_pem);
  if (!cas) return make_error(cas.error().code, "reading the trusted CA bundle failed: " + cas.error().message);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (store == nullptr) return ossl::error("the SSL_CTX has no certificate store");
  for (const auto& ca : *cas) {
    if (X509_STORE_add_cert(store, ca.impl()->with_key()) != 1)
      return ossl::error("trusting " + ca.subject() + " failed");
  }
  if (auto r = apply_protocol_policy(ctx, legacy); !r) return r;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ok();
}

}  // namespace capf::crypto
