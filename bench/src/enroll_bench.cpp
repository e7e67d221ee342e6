// Enrollments against a real `capf serve` on loopback TLS, phones imported through `capf phones
// import`, the simulator in-process with the phones' keys made beforehand: the daemon's CPU per
// enrollment (from /proc/PID/stat) against the server's crypto floor measured in the same run.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "capf/bench/bench.hpp"
#include "capf/bench/cores.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/sim/simulator.hpp"
#include "serve_child.hpp"

namespace capf::bench {

namespace {

double self_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string spec_name(const KeySpec& k, const char* op) {
  return std::string(k.algorithm == KeyAlgorithm::rsa ? "RSA-" + std::to_string(k.rsa_bits) : "P-256") + " " + op;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

/// The phones' key for `key` ("rsa2048" or "p256").
KeySpec phone_key_spec(const std::string& key) {
  return key == "rsa2048" ? KeySpec{KeyAlgorithm::rsa, 2048, EcCurve::p256}
                          : KeySpec{KeyAlgorithm::ec, 2048, EcCurve::p256};
}

/// A BAT CSV of `names`: null string, Install/Upgrade, one key type.
void write_phones_csv(const std::string& csv, const std::vector<std::string>& names, const std::string& key) {
  std::ofstream out(csv);
  out << "Device Name,Device Pool,Certificate Operation,Authentication Mode,Authentication String,"
         "Key Size (Bits),Key Order,EC Key Size (Bits)\n";
  const char* order = key == "rsa2048" ? "RSA Only" : "EC Only";
  for (const auto& n : names) out << n << ",DP-HQ,Install/Upgrade,By Null String,,2048," << order << ",256\n";
}

/// Makes `total` phone keys of `key` on every core before anything is timed, into
/// `so.prepared_keys`; returns how many there are.
std::size_t prepare_keys(sim::SimOptions& so, std::size_t total, const std::string& key) {
  const KeySpec phone_key = phone_key_spec(key);
  so.prepared_keys = std::make_shared<sim::KeyStash>();
  std::vector<std::thread> makers;
  std::atomic<std::size_t> next{0};
  for (unsigned t = 0; t < so.key_threads; ++t)
    makers.emplace_back([&] {
      while (next++ < total) {
        auto k = crypto::PrivateKey::generate(phone_key);
        if (k) so.prepared_keys->add(std::move(*k));
      }
    });
  for (auto& t : makers) t.join();
  return so.prepared_keys->size();
}

/// What the timed rounds add up to.
struct Rounds {
  std::vector<double> latencies;
  std::map<std::string, std::size_t> others;  ///< sessions that did not end installed, by result
  double daemon_cpu = 0, sim_cpu = 0;
  std::uint64_t daemon_switches = 0;
};

/// The floor: what the server's private-key work costs per enrollment on one core — the TLS
/// handshake's signature and the LSC's, both with the CA key, and one X25519 exchange.
void measure_floor(EnrollResult& r, const KeySpec& ca_key, double crypto_seconds) {
  const auto c = bench_crypto(crypto_seconds);
  const std::string server_op = spec_name(ca_key, "sign");
  const auto* s = c.find(server_op);
  const auto* x = c.find("X25519 exchange");
  if (!s || !x || s->per_cpu_second <= 0 || x->per_cpu_second <= 0)
    throw std::runtime_error("no crypto figure for " + server_op);
  // Both sides in CPU time (the daemon's from /proc, the floor's from the thread's clock), so
  // a busy machine slows both alike.
  r.floor_ms = 1000.0 * (2.0 / s->per_cpu_second + 1.0 / x->per_cpu_second);
  r.floor_formula = fmt::format("2 / {:.1f} {} per CPU-s + 1 / {:.1f} X25519 exchanges per CPU-s, one thread",
                                s->per_cpu_second, server_op, x->per_cpu_second);
  r.ratio = r.daemon_cpu_ms > 0 ? r.floor_ms / r.daemon_cpu_ms : 0;
  // During the run the simulator and the daemon's other threads keep every core busy; where
  // cores share execution units a CPU-second then does less, so the floor is also taken so.
  if (s->per_cpu_second_busy > 0 && x->per_cpu_second_busy > 0)
    r.floor_busy_ms = 1000.0 * (2.0 / s->per_cpu_second_busy + 1.0 / x->per_cpu_second_busy);
  r.ratio_busy = r.daemon_cpu_ms > 0 ? r.floor_busy_ms / r.daemon_cpu_ms : 0;
}

/// The least work per enrollment (OpenSSL's with the run's CA, TLS policy and phone key kind;
/// the kernel's for the session's sockets and one fsync, in the daemon's data directory), and
/// what the daemon spends beyond it.
void measure_rest(EnrollResult& r, const std::string& data_dir, const std::string& key) {
  auto phone = crypto::PrivateKey::generate(phone_key_spec(key));
  if (!phone) throw std::runtime_error("phone key: " + phone.error().message);
  const auto share = measure_openssl_share(data_dir + "/ca", phone->public_key_der(), 200, data_dir);
  r.openssl_tls_ms = share.tls_ms;
  r.openssl_lsc_ms = share.lsc_ms;
  r.openssl_ms = share.tls_ms + share.lsc_ms;
  r.kernel_socket_ms = share.socket_ms;
  r.kernel_fsync_ms = share.fsync_ms;
  r.least_ms = share.least_ms();
  r.best_ratio = r.least_ms > 0 ? r.floor_ms / r.least_ms : 0;
  // Again with the other cores busy, as they were while the daemon ran.
  const unsigned others = std::max(1u, std::thread::hardware_concurrency()) - 1;
  OpensslShare busy;
  {
    const BusyCores load(others);
    busy = measure_openssl_share(data_dir + "/ca", phone->public_key_der(), 200, data_dir);
  }
  r.least_busy_ms = busy.least_ms();
  r.capf_own_ms = r.daemon_cpu_ms - r.least_busy_ms;
  r.rest_ratio = r.floor_busy_ms + r.capf_own_ms > 0 ? r.floor_busy_ms / (r.floor_busy_ms + r.capf_own_ms) : 0;
}

}  // namespace

EnrollResult bench_enroll(const EnrollOptions& options) {
  if (options.key != "rsa2048" && options.key != "p256")
    throw std::invalid_argument("--key must be rsa2048 or p256, got \"" + options.key + "\"");
  EnrollResult r;
  r.key = options.key;
  r.phones = options.phones;
  TempDir dir;
  const std::string data = dir.path() + "/data", state = dir.path() + "/sim";
  const std::string binary = options.capf_binary.empty() ? self_exe() : options.capf_binary;
  std::vector<std::string> serve_args{"--ca-key-type", options.ca_key};
  if (options.workers > 0) serve_args.insert(serve_args.end(), {"--workers", std::to_string(options.workers)});
  if (options.io_threads > 0) serve_args.insert(serve_args.end(), {"--io-threads", std::to_string(options.io_threads)});
  Daemon daemon(binary, data, serve_args, dir.path() + "/serve.log");
  const CoreSplit cores = options.split_cores ? split_cores() : CoreSplit{};
  r.cores = options.split_cores ? cores.describe() : "daemon and simulator share every core (--cores shared)";

  const auto names = sim::generated_names(options.phones, 0x00EBD5000000ull);
  const std::string csv = dir.path() + "/phones.csv";
  write_phones_csv(csv, names, options.key);
  auto import = [&] {
    const int imported = run_process({binary, "phones", "import", csv, "--data-dir", data}, dir.path() + "/import.out",
                                     dir.path() + "/import.err");
    if (imported != 0) throw std::runtime_error("capf phones import failed: " + slurp(dir.path() + "/import.err"));
  };

  // Phones boot (MICs created) before the timed run; each session still generates its key.
  const std::string ca_pem = slurp(data + "/ca/capf-ca.pem");
  auto ca = crypto::Certificate::from_pem(ca_pem);
  if (!ca) throw std::runtime_error("CAPF CA: " + ca.error().message);
  sim::SimOptions so;
  so.server_port = static_cast<unsigned short>(daemon.port());
  so.ca_pem = ca_pem;
  so.state_dir = state;
  so.concurrency = options.concurrency;
  so.key_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<sim::PhoneProfile> phones;
  for (const auto& n : names) {
    sim::PhoneProfile p;
    p.name = n;
    phones.push_back(std::move(p));
  }
  // Each round re-arms every phone with a fresh import; the phones' flash is loaded again.
  r.rounds = std::max<std::size_t>(1, options.rounds);
  r.prepared_keys = prepare_keys(so, options.phones * r.rounds, options.key);
  Rounds all;
  for (std::size_t round = 0; round < r.rounds; ++round) {
    import();
    if (round == 0) {
      // Boot the phones (MIC keys) outside every timed and CPU-counted part.
      for (const auto& n : names)
        if (auto f = sim::load_flash(state, n); !f) throw std::runtime_error("phone state: " + f.error().message);
    }
    // Every round: a thread the daemon started since the last one may have been missed.
    if (cores.split())
      if (const auto e = pin_process(daemon.pid(), cores.daemon); !e.empty())
        throw std::runtime_error("putting the daemon on its cores: " + e);
    const double daemon_before = daemon.cpu_seconds(), self_before = self_cpu_seconds();
    const std::uint64_t switches_before = daemon.context_switches();
    auto summary = [&] {
      const ThreadOnCores simulator_side(cores.simulator);  // run_fleet's threads inherit the set
      return sim::run_fleet(so, phones);
    }();
    all.daemon_cpu += daemon.cpu_seconds() - daemon_before;
    // A thread that ended during the round takes its count with it: never a negative count.
    const std::uint64_t switches_after = daemon.context_switches();
    all.daemon_switches += switches_after > switches_before ? switches_after - switches_before : 0;
    all.sim_cpu += self_cpu_seconds() - self_before;
    if (!summary) throw std::runtime_error("simulator: " + summary.error().message);
    r.enrolled += summary->enrollments;
    r.seconds += summary->elapsed_seconds;
    for (const auto& [what, n] : summary->by_result)
      if (what != "installed") all.others[what] += n;
    for (const auto& o : summary->outcomes) all.latencies.push_back(o.seconds * 1000);
  }
  daemon.stop();
  r.per_second = r.seconds > 0 ? r.enrolled / r.seconds : 0;
  if (r.enrolled > 0) {
    r.daemon_cpu_ms = all.daemon_cpu * 1000 / r.enrolled;
    r.sim_cpu_ms = all.sim_cpu * 1000 / r.enrolled;
    r.daemon_switches = static_cast<double>(all.daemon_switches) / static_cast<double>(r.enrolled);
  }
  for (const auto& [what, n] : all.others) r.note += (r.note.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  r.p50_ms = percentile(all.latencies, 0.50);
  r.p99_ms = percentile(all.latencies, 0.99);
  measure_floor(r, ca->key_spec(), options.crypto_seconds);
  measure_rest(r, data, options.key);
  return r;
}

}  // namespace capf::bench
