// The least work any server does for one enrollment on this machine, measured on one thread:
// OpenSSL's (the server side of a CAPF session's TLS with the daemon's policy, certificate and
// key, through crypto::configure_server_tls, carrying records of the session's sizes, and one LSC
// issued by the daemon's CA) and the kernel's (the same session over loopback TCP, and the two
// synced transitions' WAL bytes with one fdatasync). Only the server's calls are timed (thread
// CPU clock); the client's half runs on the same thread untimed. What the daemon spends beyond
// this is capf's own: threads and wake-ups, the store, the protocol.
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "capf/bench/bench.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/crypto/tls.hpp"
#include "capf/util/loopback.hpp"
#include "capf/util/unique_fd.hpp"

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

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("the reference server: " + what + ": " + std::strerror(errno));
}

/// Waits (untimed) until `fd` has bytes to read: loopback delivers at once, but not always
/// before send() returns.
void wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) throw std::runtime_error("the reference server: no bytes from its peer within 5 s");
}

/// The server and client of one session, over an in-memory BIO pair (`listener` null: OpenSSL
/// alone) or a loopback TCP connection (OpenSSL and the kernel's socket work, the server's
/// accept and close timed too).
class Pair {
 public:
  Pair(SSL_CTX* server_ctx, SSL_CTX* client_ctx, double& server_ms, const util::LoopbackListener* listener)
      : server_ms_(server_ms) {
    timed(server_ms_, [&] { server_.reset(SSL_new(server_ctx)); });
    client_.reset(SSL_new(client_ctx));
    if (!server_ || !client_) throw std::runtime_error("SSL_new failed");
    if (listener == nullptr) {
      BIO* server_bio = nullptr;
      BIO* client_bio = nullptr;
      if (BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1) throw std::runtime_error("BIO_new_bio_pair failed");
      SSL_set_bio(server_.get(), server_bio, server_bio);
      SSL_set_bio(client_.get(), client_bio, client_bio);
    } else {
      client_fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!client_fd_.valid()) fail("socket");
      const sockaddr_in& to = listener->address();
      if (::connect(client_fd_.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("connect");
      timed(server_ms_,
            [&] { server_fd_.reset(::accept4(listener->fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)); });
      if (!server_fd_.valid()) fail("accept");
      if (::fcntl(client_fd_.get(), F_SETFL, O_NONBLOCK) != 0) fail("O_NONBLOCK");
      SSL_set_fd(server_.get(), server_fd_.get());
      SSL_set_fd(client_.get(), client_fd_.get());
    }
    // The server reads ahead, as the daemon does through Asio's buffers: one read a record's
    // header and body, not two.
    SSL_set_read_ahead(server_.get(), 1);
    SSL_set_accept_state(server_.get());
    SSL_set_connect_state(client_.get());
  }

  ~Pair() {
    timed(server_ms_, [&] {
      server_.reset();
      server_fd_.reset();
    });
  }

  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  void handshake() {
    bool server_done = false, client_done = false;
    for (int turn = 0; turn < 16 && !(server_done && client_done); ++turn) {
      if (!client_done) {
        if (turn > 0) wait_for(client_fd_);
        client_done = step(client_.get(), SSL_do_handshake(client_.get()));
      }
      if (!server_done) {
        wait_for(server_fd_);
        server_done = timed(server_ms_, [&] { return step(server_.get(), SSL_do_handshake(server_.get())); });
      }
    }
    if (!server_done || !client_done) throw std::runtime_error("the reference TLS handshake did not complete");
  }

  /// A record of `size` bytes from the server to the client.
  void to_client(std::size_t size) {
    const std::vector<unsigned char> out(size, 0x5a);
    timed(server_ms_, [&] { return write(server_.get(), out); });
    read(client_.get(), client_fd_, size);
  }

  /// A record of `size` bytes from the client to the server.
  void to_server(std::size_t size) {
    const std::vector<unsigned char> out(size, 0xa5);
    write(client_.get(), out);
    std::vector<unsigned char> in(size);
    std::size_t got = 0;
    for (int turn = 0; turn < 16 && got < size; ++turn) {
      wait_for(server_fd_);
      got += timed(server_ms_, [&] { return read_some(server_.get(), in.data() + got, size - got); });
    }
    if (got != size) throw std::runtime_error("the reference TLS read came short");
  }

 private:
  static void wait_for(const util::UniqueFd& fd) {
    if (fd.valid()) wait_readable(fd.get());
  }

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

  /// What one SSL_read gave: 0 when it wants more bytes.
  static std::size_t read_some(SSL* ssl, unsigned char* into, std::size_t size) {
    const int n = SSL_read(ssl, into, static_cast<int>(size));
    if (n > 0) return static_cast<std::size_t>(n);
    if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) throw std::runtime_error("the reference TLS read failed");
    return 0;
  }

  static void read(SSL* ssl, const util::UniqueFd& fd, std::size_t size) {
    std::vector<unsigned char> in(size);
    std::size_t got = 0;
    for (int turn = 0; turn < 16 && got < size; ++turn) {
      wait_for(fd);
      got += read_some(ssl, in.data() + got, size - got);
    }
    if (got != size) throw std::runtime_error("the reference TLS read came short");
  }

  double& server_ms_;
  Ssl server_{nullptr, &SSL_free}, client_{nullptr, &SSL_free};
  // Declared after the SSLs: closed before them, but SSL_free never touches the fd.
  util::UniqueFd server_fd_, client_fd_;
};

/// One CAPF session's server side (capf-protocol.md): the handshake, then AUTH_REQUEST,
/// AUTH_RESPONSE, KEY_GENERATE_REQUEST, KEY_GENERATE_RESPONSE with the phone's key of
/// `key_bytes`, the LSC in STORE_CERTIFICATE_REQUEST, STORE_CERTIFICATE_RESPONSE, END_SESSION.
/// `lsc()` gives the LSC's DER size when it is due (issuing one, or the size of one issued before).
template <class Lsc>
void one_session(Pair& pair, std::size_t key_bytes, Lsc lsc) {
  pair.handshake();
  pair.to_client(16);
  pair.to_server(48);
  pair.to_client(24);
  pair.to_server(16 + key_bytes);
  pair.to_client(16 + lsc());
  pair.to_server(16);
  pair.to_client(16);
}

/// Per enrollment, the thread CPU of appending `bytes` to a file in `dir` in two writes (the
/// two synced transitions' WAL records: each LSC record carries the DER in hex, plus the device
/// and audit records) and one fdatasync (the two sharing one, as RocksDB's write group gives
/// them under the bench's load: strace counted 1.06 a session). One warm-up round uncounted.
double measure_fsync_ms(const std::string& dir, std::size_t bytes, std::size_t rounds) {
  const std::string path = dir + "/reference-wal.log";
  const util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) fail("open " + path);
  const std::vector<char> half(bytes / 2, 'w');
  double ms = 0, warm_up = 0;
  for (std::size_t i = 0; i <= rounds; ++i) {
    timed(i == 0 ? warm_up : ms, [&] {
      for (int w = 0; w < 2; ++w)
        if (::write(fd.get(), half.data(), half.size()) != static_cast<ssize_t>(half.size())) fail("write " + path);
      if (::fdatasync(fd.get()) != 0) fail("fdatasync " + path);
    });
  }
  ::unlink(path.c_str());
  return rounds > 0 ? ms * 1000 / static_cast<double>(rounds) : 0;
}

}  // namespace

OpensslShare measure_openssl_share(const std::string& ca_dir, const std::vector<std::uint8_t>& phone_spki,
                                   std::size_t sessions, const std::string& data_dir) {
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

  OpensslShare share;
  // Set up as the daemon's: TCP_NODELAY, inherited by every accepted connection.
  const util::LoopbackListener listener(8, true);
  double warm_up = 0, tls_ms = 0, lsc_ms = 0, loopback_ms = 0;
  std::size_t lsc_bytes = 0;
  // One warm-up session outside the figures (first use of the provider's algorithms), then the
  // same sessions in memory and over loopback TCP, taking turns so that both see the same machine.
  for (std::size_t i = 0; i <= sessions; ++i) {
    {
      Pair pair(server_ctx.get(), client_ctx.get(), i == 0 ? warm_up : tls_ms, nullptr);
      one_session(pair, phone_spki.size(), [&] {
        auto lsc = timed(i == 0 ? warm_up : lsc_ms,
                         [&] { return ca->issue_lsc("SEP00EBD5000000", phone_spki, 365, 1'780'000'000); });
        if (!lsc) throw std::runtime_error("issuing the reference LSC: " + lsc.error().message);
        lsc_bytes = timed(i == 0 ? warm_up : lsc_ms, [&] { return lsc->to_der().size(); });
        return lsc_bytes;
      });
    }
    {
      Pair pair(server_ctx.get(), client_ctx.get(), i == 0 ? warm_up : loopback_ms, &listener);
      one_session(pair, phone_spki.size(), [&] { return lsc_bytes; });
    }
    if (i > 0) ++share.sessions;
  }
  if (share.sessions > 0) {
    const auto n = static_cast<double>(share.sessions);
    share.tls_ms = tls_ms * 1000 / n;
    share.lsc_ms = lsc_ms * 1000 / n;
    // The kernel's part is what the loopback sessions cost beyond the same sessions in memory.
    share.socket_ms = std::max(0.0, (loopback_ms - tls_ms) * 1000 / n);
  }
  share.fsync_ms = measure_fsync_ms(data_dir, 2 * (lsc_bytes * 2 + 1024), sessions);
  return share;
}

}  // namespace capf::bench
