// OpenSSL's own work in one enrollment, measured on one thread: the server side of a CAPF
// session's TLS (the daemon's policy, certificate and key, through crypto::configure_server_tls)
// over an in-memory BIO pair, carrying records of the session's sizes, and one LSC issued by the
// daemon's CA. Only the server's calls are timed (thread CPU clock); the client's half runs on
// the same thread untimed. What the daemon spends beyond this is capf's own: sockets, threads,
// the store, the protocol.
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "capf/bench/bench.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/crypto/tls.hpp"

namespace capf::bench {

namespace {

using Ctx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using Ssl = std::unique_ptr<SSL, decltype(&SSL_free)>;

/// Adds the thread CPU time of `fn` to `into` and returns what fn returned, if anything.
template <class F>
auto timed(double& into, F fn) {
  const double t0 = thread_cpu_seconds();
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    into += thread_cpu_seconds() - t0;
  } else {
    auto r = fn();
    into += thread_cpu_seconds() - t0;
    return r;
  }
}

class Pair {
 public:
  Pair(SSL_CTX* server_ctx, SSL_CTX* client_ctx, OpensslShare& share) : share_(share) {
    timed(share_.tls_ms, [&] { server_.reset(SSL_new(server_ctx)); });
    client_.reset(SSL_new(client_ctx));
    if (!server_ || !client_) throw std::runtime_error("SSL_new failed");
    BIO* server_bio = nullptr;
    BIO* client_bio = nullptr;
    if (BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) throw std::runtime_error("BIO_new_bio_pair failed");
    SSL_set_bio(server_.get(), server_bio, server_bio);
    SSL_set_bio(client_.get(), client_bio, client_bio);
    SSL_set_accept_state(server_.get());
    SSL_set_connect_state(client_.get());
  }

  ~Pair() {
    timed(share_.tls_ms, [&] { server_.reset(); });
  }

  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  void handshake() {
    bool server_done = false, client_done = false;
    for (int turn = 0; turn < 16 && !(server_done && client_done); ++turn) {
      if (!client_done) client_done = step(client_.get(), SSL_do_handshake(client_.get()));
      if (!server_done)
        server_done = timed(share_.tls_ms, [&] { return step(server_.get(), SSL_do_handshake(server_.get())); });
    }
    if (!server_done || !client_done) throw std::runtime_error("the reference TLS handshake did not complete");
  }

  /// A record of `size` bytes from the server to the client.
  void to_client(std::size_t size) {
    const std::vector<unsigned char> out(size, 0x5a);
    timed(share_.tls_ms, [&] { return write(server_.get(), out); });
    read(client_.get(), size);
  }

  /// A record of `size` bytes from the client to the server.
  void to_server(std::size_t size) {
    const std::vector<unsigned char> out(size, 0xa5);
    write(client_.get(), out);
    timed(share_.tls_ms, [&] { return read(server_.get(), size); });
  }

 private:
  static bool step(SSL* ssl, int rc) {
    if (rc == 1) return true;
    const int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return false;
    throw std::runtime_error("the reference TLS handshake failed (SSL error " + std::to_string(e) + ")");
  }

  static void write(SSL* ssl, const std::vector<unsigned char>& bytes) {
    if (SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) != static_cast<int>(bytes.size()))
      throw std::runtime_error("the reference TLS write failed");
  }

  static void read(SSL* ssl, std::size_t size) {
    std::vector<unsigned char> in(size);
    std::size_t got = 0;
    for (int turn = 0; turn < 16 && got < size; ++turn) {
      const int n = SSL_read(ssl, in.data() + got, static_cast<int>(size - got));
      if (n > 0)
        got += static_cast<std::size_t>(n);
      else if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ)
        throw std::runtime_error("the reference TLS read failed");
    }
    if (got != size) throw std::runtime_error("the reference TLS read came short");
  }

  OpensslShare& share_;
  Ssl server_{nullptr, &SSL_free}, client_{nullptr, &SSL_free};
};

}  // namespace

OpensslShare measure_openssl_share(const std::string& ca_dir, const std::vector<std::uint8_t>& phone_spki,
                                   std::size_t sessions) {
  auto ca = crypto::CertificateAuthority::load_or_create(ca_dir, crypto::CaOptions{});
  if (!ca) throw std::runtime_error("the daemon's CA at " + ca_dir + ": " + ca.error().message);
  const std::string cert_pem = ca->certificate().to_pem();
  Ctx server_ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  Ctx client_ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!server_ctx || !client_ctx) throw std::runtime_error("SSL_CTX_new failed");
  if (auto r = crypto::configure_server_tls(server_ctx.get(), cert_pem, ca->key().to_pem(), crypto::TlsLegacy::no); !r)
    throw std::runtime_error("server TLS: " + r.error().message);
  if (auto r = crypto::configure_client_tls(client_ctx.get(), cert_pem, crypto::TlsLegacy::no); !r)
    throw std::runtime_error("client TLS: " + r.error().message);

  OpensslShare share, warm_up;
  // One warm-up session outside the figures (first use of the provider's algorithms).
  for (std::size_t i = 0; i <= sessions; ++i) {
    OpensslShare& into = i == 0 ? warm_up : share;
    std::size_t lsc_bytes = 0;
    {
      Pair pair(server_ctx.get(), client_ctx.get(), into);
      pair.handshake();
      // The session's messages as the daemon sends and reads them (capf-protocol.md): AUTH_REQUEST,
      // AUTH_RESPONSE, KEY_GENERATE_REQUEST, KEY_GENERATE_RESPONSE with the phone's key, the LSC
      // in STORE_CERTIFICATE_REQUEST, STORE_CERTIFICATE_RESPONSE, END_SESSION.
      pair.to_client(16);
      pair.to_server(48);
      pair.to_client(24);
      pair.to_server(16 + phone_spki.size());
      auto lsc = timed(into.lsc_ms, [&] { return ca->issue_lsc("SEP00EBD5000000", phone_spki, 365, 1'780'000'000); });
      if (!lsc) throw std::runtime_error("issuing the reference LSC: " + lsc.error().message);
      lsc_bytes = timed(into.lsc_ms, [&] { return lsc->to_der().size(); });
      pair.to_client(16 + lsc_bytes);
      pair.to_server(16);
      pair.to_client(16);
    }
    if (i > 0) ++share.sessions;
  }
  if (share.sessions > 0) {
    share.tls_ms = share.tls_ms * 1000 / static_cast<double>(share.sessions);
    share.lsc_ms = share.lsc_ms * 1000 / static_cast<double>(share.sessions);
  }
  return share;
}

}  // namespace capf::bench
