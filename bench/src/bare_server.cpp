#include "bare_server.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>

#include "capf/bench/cores.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/crypto/tls.hpp"
#include "capf/protocol/messages.hpp"
#include "capf/util/loopback.hpp"
#include "capf/util/text.hpp"
#include "capf/util/time.hpp"
#include "capf/util/unique_fd.hpp"

namespace capf::bench {

namespace {

using protocol::Command;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("the bare server: " + what + ": " + std::strerror(errno));
}

/// One phone's session: where it is in the exchange, and what waits for the loop turn's fsync.
struct Conn {
  enum class Step { handshake, auth, keygen, store, done };
  util::UniqueFd fd;
  SSL* ssl = nullptr;
  Step step = Step::handshake;
  std::uint32_t sid = 0;
  std::string device;
  protocol::Decoder decoder;
  std::optional<protocol::Message> after_sync;  ///< sent once the turn's records are on disk
  bool end_after_sync = false;                  ///< the message after the sync is END_SESSION 1
  ~Conn() {
    if (ssl != nullptr) SSL_free(ssl);
  }
};

}  // namespace

struct BareServer::Loop {
  crypto::CertificateAuthority ca;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, &SSL_CTX_free};
  util::LoopbackListener listener{128, true};
  util::UniqueFd epoll, log;
  KeySpec key;
  std::map<int, std::unique_ptr<Conn>> conns;
  std::vector<Conn*> synced_waiters;
  std::string records;  ///< this turn's records, written with one write and one fdatasync
  std::uint32_t next_sid = 1;

  explicit Loop(crypto::CertificateAuthority c) : ca(std::move(c)) {}

  void add(int fd, std::uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &e) != 0) fail("epoll_ctl");
  }

  void accept_all() {
    for (;;) {
      util::UniqueFd fd(::accept4(listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) return;
      auto c = std::make_unique<Conn>();
      c->ssl = SSL_new(ctx.get());
      if (c->ssl == nullptr) continue;
      SSL_set_fd(c->ssl, fd.get());
      SSL_set_accept_state(c->ssl);
      SSL_set_read_ahead(c->ssl, 1);
      c->sid = next_sid++;
      const int raw = fd.get();
      c->fd = std::move(fd);
      add(raw, EPOLLIN);
      conns[raw] = std::move(c);
    }
  }

  /// Sends `m`; false when the connection cannot take it (the session then fails).
  static bool send(Conn& c, const protocol::Message& m) {
    auto bytes = protocol::encode(m);
    if (!bytes) return false;
    return SSL_write(c.ssl, bytes->data(), static_cast<int>(bytes->size())) == static_cast<int>(bytes->size());
  }

  /// The next step of `c` on message `m`; false ends the session as failed.
  bool on_message(Conn& c, const protocol::Message& m) {
    switch (c.step) {
      case Conn::Step::auth: {
        auto auth = protocol::parse_auth_response(m);
        if (!auth) return false;
        c.device = auth->device_name;
        c.step = Conn::Step::keygen;
        return send(c, protocol::build(protocol::key_generate_request(key), c.sid));
      }
      case Conn::Step::keygen: {
        if (m.is(Command::request_in_progress)) return true;
        auto resp = protocol::parse_key_generate_response(m);
        if (!resp || !resp->public_key) return false;
        auto lsc = ca.issue_lsc(c.device, *resp->public_key, 365, util::now());
        if (!lsc) return false;
        const auto der = lsc->to_der();
        records += c.device + " issued " + lsc->serial_hex() + " " + util::to_hex(der) + "\n";
        c.after_sync = protocol::build(protocol::StoreCertificateRequest{protocol::CertificateType::lsc, der}, c.sid);
        c.step = Conn::Step::store;
        synced_waiters.push_back(&c);
        return true;
      }
      case Conn::Step::store: {
        auto r = protocol::parse_certificate_response(m);
        if (!r || r->reason != 1) return false;
        records += c.device + " delivered\n";
        c.after_sync = protocol::build_end_session(protocol::Reason::ok, c.sid);
        c.end_after_sync = true;
        c.step = Conn::Step::done;
        synced_waiters.push_back(&c);
        return true;
      }
      case Conn::Step::handshake:
      case Conn::Step::done:
        return false;
    }
    return false;
  }

  /// Reads what `c` has; false ends the session as failed.
  bool on_readable(Conn& c) {
    if (c.step == Conn::Step::handshake) {
      const int rc = SSL_do_handshake(c.ssl);
      if (rc != 1) return SSL_get_error(c.ssl, rc) == SSL_ERROR_WANT_READ;
      c.step = Conn::Step::auth;
      if (!send(c, protocol::build(protocol::AuthRequest{}, c.sid))) return false;
    }
    std::uint8_t buf[4096];
    for (;;) {
      const int n = SSL_read(c.ssl, buf, sizeof buf);
      if (n <= 0) {
        if (SSL_get_error(c.ssl, n) != SSL_ERROR_WANT_READ) return false;
        break;
      }
      c.decoder.feed(protocol::ByteView(buf, static_cast<std::size_t>(n)));
    }
    for (;;) {
      auto out = c.decoder.next();
      if (out.status == protocol::Decoder::Status::need_more) return true;
      if (out.status == protocol::Decoder::Status::error) return false;
      if (!on_message(c, out.message)) return false;
    }
  }

  void close(int fd, bool enrolled, BareServer& owner) {
    ++(enrolled ? owner.enrolled_ : owner.failed_);
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    conns.erase(fd);
  }

  /// One fdatasync for the turn's records, then every message they guard.
  void commit(BareServer& owner) {
    if (synced_waiters.empty()) return;
    if (::write(log.get(), records.data(), records.size()) != static_cast<ssize_t>(records.size())) fail("write");
    if (::fdatasync(log.get()) != 0) fail("fdatasync");
    records.clear();
    std::vector<Conn*> waiters;
    waiters.swap(synced_waiters);
    for (Conn* c : waiters) {
      const int fd = c->fd.get();
      const bool sent = send(*c, *c->after_sync);
      c->after_sync.reset();
      if (!sent || c->end_after_sync) {
        if (sent) SSL_shutdown(c->ssl);
        close(fd, sent, owner);
      }
    }
  }

  void run(BareServer& owner) {
    epoll_event events[64];
    while (!owner.stop_.load()) {
      const int n = ::epoll_wait(epoll.get(), events, 64, 100);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listener.fd()) {
          accept_all();
          continue;
        }
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        if (!on_readable(*it->second)) {
          std::erase(synced_waiters, it->second.get());
          close(fd, false, owner);
        }
      }
      commit(owner);
    }
  }
};

BareServer::BareServer(const std::string& ca_dir, const std::string& dir, const KeySpec& key,
                       const std::vector<int>& cpus) {
  auto ca = crypto::CertificateAuthority::load_or_create(ca_dir, crypto::CaOptions{});
  if (!ca) throw std::runtime_error("the bare server: the daemon's CA at " + ca_dir + ": " + ca.error().message);
  loop_ = std::make_unique<Loop>(std::move(*ca));
  Loop& l = *loop_;
  l.key = key;
  l.ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!l.ctx) throw std::runtime_error("the bare server: SSL_CTX_new failed");
  if (auto r = crypto::configure_server_tls(l.ctx.get(), l.ca.certificate().to_pem(), l.ca.key().to_pem(),
                                            crypto::TlsLegacy::no);
      !r)
    throw std::runtime_error("the bare server: TLS: " + r.error().message);
  if (::fcntl(l.listener.fd(), F_SETFL, O_NONBLOCK) != 0) fail("O_NONBLOCK");
  l.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!l.epoll.valid()) fail("epoll_create1");
  l.add(l.listener.fd(), EPOLLIN);
  const std::string path = dir + "/bare-server.log";
  l.log.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!l.log.valid()) fail("open " + path);
  port_ = static_cast<unsigned short>(l.listener.port());
  thread_ = std::thread([this, cpus] {
    tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    const ThreadOnCores on(cpus);
    try {
      loop_->run(*this);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      ++failed_;
    }
  });
  while (tid_.load() == 0) std::this_thread::yield();
}

BareServer::~BareServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

double BareServer::cpu_seconds() const {
  clockid_t clock{};
  timespec ts{};
  if (pthread_getcpuclockid(const_cast<std::thread&>(thread_).native_handle(), &clock) != 0 ||
      ::clock_gettime(clock, &ts) != 0)
    return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::uint64_t BareServer::context_switches() const {
  std::ifstream in("/proc/self/task/" + std::to_string(tid_.load()) + "/status");
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line))
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
      n += std::strtoull(line.substr(line.find(':') + 1).c_str(), nullptr, 10);
  return n;
}

}  // namespace capf::bench
