#include <openssl/err.h>
#include <openssl/ssl.h>

#include "capf/crypto/tls.hpp"
#include "test_support.hpp"

namespace capf::crypto::test {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

CtxPtr server_ctx(TlsLegacy legacy, const CertificateAuthority& ca = cached_ca()) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  auto r = configure_server_tls(ctx.get(), ca.certificate().to_pem(), ca.key().to_pem(), legacy);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return ctx;
}

CtxPtr client_ctx(TlsLegacy legacy, const std::string& ca_pem = cached_ca().certificate().to_pem()) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  auto r = configure_client_tls(ctx.get(), ca_pem, legacy);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return ctx;
}

struct Outcome {
  bool ok = false;
  int version = 0;
  long verify = -1;
  bool client_cert_requested = false;
};

// Runs a handshake between the two contexts over an in-memory BIO pair.
Outcome handshake(SSL_CTX* server, SSL_CTX* client) {
  SSL* s = SSL_new(server);
  SSL* c = SSL_new(client);
  BIO *sb = nullptr, *cb = nullptr;
  EXPECT_EQ(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
  SSL_set_bio(s, sb, sb);
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  static bool requested = false;
  requested = false;
  SSL_CTX_set_client_cert_cb(client, [](SSL*, X509**, EVP_PKEY**) -> int {
    requested = true;
    return 0;
  });
  Outcome out;
  bool c_done = false, s_done = false, failed = false;
  for (int i = 0; i < 50 && !(c_done && s_done) && !failed; ++i) {
    if (!c_done) {
      int rc = SSL_do_handshake(c);
      c_done = rc == 1;
      if (rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) failed = true;
    }
    if (!s_done) {
      int rs = SSL_do_handshake(s);
      s_done = rs == 1;
      if (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ) failed = true;
    }
  }
  out.ok = c_done && s_done && !failed;
  out.version = SSL_version(c);
  out.verify = SSL_get_verify_result(c);
  out.client_cert_requested = requested;
  SSL_free(s);
  SSL_free(c);
  ERR_clear_error();
  return out;
}

TEST(Tls, DefaultPolicyNegotiatesTls13AndTheClientVerifiesTheCapfCertificate) {
  auto server = server_ctx(TlsLegacy::no);
  auto client = client_ctx(TlsLegacy::no);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(server.get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(server.get()), SSL_VERIFY_NONE);
  EXPECT_NE(SSL_CTX_get_options(server.get()) & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(SSL_CTX_get_options(server.get()) & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_EQ(SSL_CTX_get_verify_mode(client.get()), SSL_VERIFY_PEER);
  Outcome o = handshake(server.get(), client.get());
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.version, TLS1_3_VERSION);
  EXPECT_EQ(o.verify, X509_V_OK);
  EXPECT_FALSE(o.client_cert_requested);
}

TEST(Tls, Tls12ClientIsServedWithoutAClientCertificateRequest) {
  auto server = server_ctx(TlsLegacy::no);
  auto client = client_ctx(TlsLegacy::no);
  SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
  Outcome o = handshake(server.get(), client.get());
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.version, TLS1_2_VERSION);
  EXPECT_FALSE(o.client_cert_requested);
}

// A phone connects once per Certificate Operation and never resumes: the server keeps no
// session cache and sends no session tickets (each cost memory per phone and CPU per handshake).
TEST(Tls, TheServerKeepsNoSessionsAndSendsNoTickets) {
  auto server = server_ctx(TlsLegacy::no);
  EXPECT_EQ(SSL_CTX_get_num_tickets(server.get()), 0u);
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    auto client = client_ctx(TlsLegacy::no);
    SSL_CTX_set_max_proto_version(client.get(), version);
    for (int i = 0; i < 3; ++i) {
      Outcome o = handshake(server.get(), client.get());
      EXPECT_TRUE(o.ok);
      EXPECT_EQ(o.version, version);
    }
  }
  EXPECT_EQ(SSL_CTX_sess_number(server.get()), 0) << "sessions held by the server's cache";
}

TEST(Tls, Tls10NeedsTheLegacySwitch) {
  auto client = client_ctx(TlsLegacy::yes);
  SSL_CTX_set_max_proto_version(client.get(), TLS1_VERSION);
  SSL_CTX_set_cipher_list(client.get(), "AES128-SHA:@SECLEVEL=0");
  auto strict = server_ctx(TlsLegacy::no);
  EXPECT_FALSE(handshake(strict.get(), client.get()).ok);
  auto legacy = server_ctx(TlsLegacy::yes);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(legacy.get()), TLS1_VERSION);
  Outcome o = handshake(legacy.get(), client.get());
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.version, TLS1_VERSION);
  // TLS 1.3 still works on the legacy server.
  auto modern = client_ctx(TlsLegacy::no);
  EXPECT_EQ(handshake(legacy.get(), modern.get()).version, TLS1_3_VERSION);
}

TEST(Tls, ClientRefusesAServerFromAnotherCa) {
  auto server = server_ctx(TlsLegacy::no, cached_ca(ec(EcCurve::p256)));
  auto client = client_ctx(TlsLegacy::no);
  Outcome o = handshake(server.get(), client.get());
  EXPECT_FALSE(o.ok);
}

TEST(Tls, EcCapfCertificateWorksToo) {
  auto server = server_ctx(TlsLegacy::no, cached_ca(ec(EcCurve::p384)));
  auto client = client_ctx(TlsLegacy::no, cached_ca(ec(EcCurve::p384)).certificate().to_pem());
  EXPECT_TRUE(handshake(server.get(), client.get()).ok);
}

TEST(Tls, BadInputIsReportedNotIgnored) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  const auto& ca = cached_ca();
  auto mismatch = configure_server_tls(ctx.get(), ca.certificate().to_pem(), cached_key(rsa(2048)).to_pem(),
                                       TlsLegacy::no);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, Errc::crypto);
  EXPECT_FALSE(configure_server_tls(ctx.get(), "junk", ca.key().to_pem(), TlsLegacy::no).ok());
  EXPECT_FALSE(configure_server_tls(ctx.get(), ca.certificate().to_pem(), "junk", TlsLegacy::no).ok());
  EXPECT_FALSE(configure_server_tls(nullptr, "", "", TlsLegacy::no).ok());
  CtxPtr cctx(SSL_CTX_new(TLS_client_method()));
  EXPECT_FALSE(configure_client_tls(cctx.get(), "junk", TlsLegacy::no).ok());
}

}  // namespace
}  // namespace capf::crypto::test
