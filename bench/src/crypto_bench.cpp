// The crypto ceiling: private-key operations per second, single thread and on every core.
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>

#include "capf/bench/bench.hpp"
#include "capf/bench/cores.hpp"
#include "capf/crypto/crypto.hpp"

namespace capf::bench {

namespace {

KeySpec rsa2048() {
  return KeySpec{KeyAlgorithm::rsa, 2048, EcCurve::p256};
}
KeySpec p256() {
  return KeySpec{KeyAlgorithm::ec, 2048, EcCurve::p256};
}

/// One operation, repeatable; each thread gets its own instance.
using OpFactory = std::function<std::function<void()>()>;

constexpr std::size_t kMinOps = 12;

std::function<void()> sign_with(std::shared_ptr<const crypto::PrivateKey> key) {
  auto data = std::make_shared<crypto::Bytes>(crypto::random_bytes(64));
  return [key = std::move(key), data] {
    auto sig = crypto::sign_capf(*key, *data, crypto::CapfHash::sha256, crypto::RsaDigestForm::digest_info);
    if (!sig) throw std::runtime_error("sign failed: " + sig.error().message);
  };
}

/// Each thread signs with a key of its own.
OpFactory sign_op(KeySpec spec) {
  return [spec] {
    return sign_with(std::make_shared<crypto::PrivateKey>(std::move(crypto::PrivateKey::generate(spec).value())));
  };
}

OpFactory keygen_op(KeySpec spec) {
  return [spec] {
    return std::function<void()>([spec] {
      auto k = crypto::PrivateKey::generate(spec);
      if (!k) throw std::runtime_error("keygen failed: " + k.error().message);
    });
  };
}

/// The server's half of a TLS key exchange: an ephemeral X25519 key and the shared secret with
/// the peer's (OpenSSL directly: the reference the daemon's TLS is compared with).
OpFactory x25519_op() {
  return [] {
    auto peer = std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"), EVP_PKEY_free);
    if (!peer) throw std::runtime_error("X25519 key generation failed");
    return std::function<void()>([peer] {
      EVP_PKEY* mine = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
      EVP_PKEY_CTX* ctx = mine ? EVP_PKEY_CTX_new(mine, nullptr) : nullptr;
      unsigned char secret[32];
      std::size_t len = sizeof secret;
      const bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
                      EVP_PKEY_derive(ctx, secret, &len) == 1;
      EVP_PKEY_CTX_free(ctx);
      EVP_PKEY_free(mine);
      if (!ok) throw std::runtime_error("X25519 exchange failed");
    });
  };
}

struct Rate {
  double per_second = 0;      ///< ops/s of all threads together
  double per_cpu_second = 0;  ///< ops per CPU-second of the threads, each on its own clock: what one op
                              ///< costs, whatever else the machine runs meanwhile
};

/// Ops/s and ops per CPU-second with `threads` threads, each running for about `seconds` and
/// at least kMinOps operations (RSA key generation takes 0.1–0.5 s and varies a lot from key
/// to key).
Rate measure(const OpFactory& factory, unsigned threads, double seconds) {
  std::vector<std::function<void()>> ops;
  for (unsigned t = 0; t < threads; ++t) ops.push_back(factory());
  std::atomic<std::size_t> total{0};
  std::vector<double> cpu(threads, 0.0);
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  const double start = now_seconds();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::size_t n = 0;
      while (!go.load()) std::this_thread::yield();
      const double begin = now_seconds(), cpu_begin = thread_cpu_seconds();
      do {
        ops[t]();
        ++n;
      } while (now_seconds() - begin < seconds || n < kMinOps);
      cpu[t] = thread_cpu_seconds() - cpu_begin;
      total += n;
    });
  }
  go = true;
  for (auto& th : pool) th.join();
  const double elapsed = now_seconds() - start;
  double cpu_total = 0;
  for (double c : cpu) cpu_total += c;
  const auto n = static_cast<double>(total.load());
  return {elapsed > 0 ? n / elapsed : 0, cpu_total > 0 ? n / cpu_total : 0};
}

}  // namespace

BusyCores::BusyCores(unsigned threads) {
  for (unsigned t = 0; t < threads; ++t) {
    auto op = sign_op(rsa2048())();
    threads_.emplace_back([this, op = std::move(op)] {
      while (!stop_.load()) op();
    });
  }
}

BusyCores::~BusyCores() {
  stop_ = true;
  for (auto& t : threads_) t.join();
}

const OpRate* CryptoResult::find(const std::string& name) const {
  for (const auto& o : ops)
    if (o.name == name) return &o;
  return nullptr;
}

FloorSample sample_floor(const KeySpec& ca_key, double seconds, const std::vector<int>& one_core) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // One key for every thread and sample mode: an RSA key takes longer to make than a sample.
  auto key = crypto::PrivateKey::generate(ca_key);
  if (!key) throw std::runtime_error("CA key for the floor: " + key.error().message);
  const std::shared_ptr<const crypto::PrivateKey> shared = std::make_shared<crypto::PrivateKey>(std::move(*key));
  const OpFactory sign = [shared] { return sign_with(shared); };
  const OpFactory exchange = x25519_op();
  FloorSample s;
  {
    const ThreadOnCores pinned(one_core);  // the measuring thread inherits the set
    s.sign = measure(sign, 1, seconds).per_cpu_second;
    s.exchange = measure(exchange, 1, seconds).per_cpu_second;
  }
  s.sign_busy = measure(sign, cores, seconds).per_cpu_second;
  s.exchange_busy = measure(exchange, cores, seconds).per_cpu_second;
  return s;
}

CryptoResult bench_crypto(double seconds) {
  CryptoResult r;
  r.threads = std::max(1u, std::thread::hardware_concurrency());
  const std::vector<std::pair<std::string, OpFactory>> ops{
      {"RSA-2048 sign", sign_op(rsa2048())},     {"P-256 sign", sign_op(p256())},
      {"RSA-2048 keygen", keygen_op(rsa2048())}, {"P-256 keygen", keygen_op(p256())},
      {"X25519 exchange", x25519_op()},
  };
  for (const auto& [name, factory] : ops) {
    OpRate o;
    o.name = name;
    const Rate one = measure(factory, 1, seconds);
    o.single = one.per_second;
    o.per_cpu_second = one.per_cpu_second;
    const Rate all = measure(factory, r.threads, seconds);
    o.all_cores = all.per_second;
    o.per_cpu_second_busy = all.per_cpu_second;
    r.ops.push_back(o);
  }
  return r;
}

}  // namespace capf::bench
