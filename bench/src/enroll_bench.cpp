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
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bare_server.hpp"
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
/// handshake's signature and the LSC's, both with the CA key, and one X25519 exchange. Sampled
/// between the rounds on the daemon's cores, so that it sees the machine as the rounds did; the
/// median sample counts (a host's neighbour slows a sample as it slows a round).
void measure_floor(EnrollResult& r, const KeySpec& ca_key, std::vector<FloorSample> samples) {
  if (samples.empty()) throw std::runtime_error("no crypto floor sample");
  std::sort(samples.begin(), samples.end(), [](const FloorSample& a, const FloorSample& b) { return a.ms() < b.ms(); });
  const FloorSample& mid = samples[samples.size() / 2];
  // Both sides in CPU time (the daemon's from /proc, the floor's from the thread's clock), so
  // a busy machine slows both alike.
  r.floor_ms = mid.ms();
  r.floor_samples = samples.size();
  r.floor_low_ms = samples.front().ms();
  r.floor_high_ms = samples.back().ms();
  r.floor_formula = fmt::format("2 / {:.1f} {} per CPU-s + 1 / {:.1f} X25519 exchanges per CPU-s, one thread", mid.sign,
                                spec_name(ca_key, "sign"), mid.exchange);
  r.ratio = r.daemon_cpu_ms > 0 ? r.floor_ms / r.daemon_cpu_ms : 0;
  // During the run the simulator and the daemon's other threads keep every core busy; where
  // cores share execution units a CPU-second then does less, so the floor is also taken so.
  std::vector<double> busy;
  for (const auto& s : samples)
    if (s.busy_ms() > 0) busy.push_back(s.busy_ms());
  r.floor_busy_ms = percentile(busy, 0.50);
  r.ratio_busy = r.daemon_cpu_ms > 0 ? r.floor_busy_ms / r.daemon_cpu_ms : 0;
}

/// One sample of the least work per enrollment (OpenSSL's with the run's CA, TLS policy and
/// phone key kind; the kernel's for the session's sockets and one fsync, in the daemon's data
/// directory): on the daemon's cores with the others idle, and again with them busy, as they
/// were while the daemon ran.
struct RestSample {
  OpensslShare idle, busy;
};

RestSample sample_rest(const std::string& data_dir, const std::vector<std::uint8_t>& phone_spki,
                       const CoreSplit& cores) {
  constexpr std::size_t kSessions = 50;
  RestSample s;
  {
    const ThreadOnCores pinned(cores.daemon);
    s.idle = measure_openssl_share(data_dir + "/ca", phone_spki, kSessions, data_dir);
  }
  // The load on the other cores (the simulator's), the measuring thread alone on the daemon's.
  const unsigned others = std::max(1u, std::thread::hardware_concurrency()) - 1;
  std::optional<BusyCores> load;
  {
    const ThreadOnCores on_others(cores.simulator);
    load.emplace(cores.split() ? static_cast<unsigned>(cores.simulator.size()) : others);
  }
  const ThreadOnCores pinned(cores.daemon);
  s.busy = measure_openssl_share(data_dir + "/ca", phone_spki, kSessions, data_dir);
  return s;
}

/// The sample whose least work is the middle one.
OpensslShare middle(std::vector<OpensslShare> v) {
  std::sort(v.begin(), v.end(),
            [](const OpensslShare& a, const OpensslShare& b) { return a.least_ms() < b.least_ms(); });
  return v[v.size() / 2];
}

/// The least work (the median of the samples) and what the daemon spends beyond it.
void measure_rest(EnrollResult& r, const std::vector<RestSample>& samples) {
  if (samples.empty()) throw std::runtime_error("no least-work sample");
  std::vector<OpensslShare> idle, busy;
  for (const auto& s : samples) {
    idle.push_back(s.idle);
    busy.push_back(s.busy);
  }
  const OpensslShare share = middle(idle);
  r.openssl_tls_ms = share.tls_ms;
  r.openssl_lsc_ms = share.lsc_ms;
  r.openssl_ms = share.tls_ms + share.lsc_ms;
  r.kernel_socket_ms = share.socket_ms;
  r.kernel_fsync_ms = share.fsync_ms;
  r.least_ms = share.least_ms();
  r.best_ratio = r.least_ms > 0 ? r.floor_ms / r.least_ms : 0;
  r.least_busy_ms = middle(busy).least_ms();
  r.capf_own_ms = r.daemon_cpu_ms - r.least_busy_ms;
  r.rest_ratio = r.floor_busy_ms + r.capf_own_ms > 0 ? r.floor_busy_ms / (r.floor_busy_ms + r.capf_own_ms) : 0;
}

/// One server under the bench (a daemon, or the bare server): its binary, store, phones' flash
/// and the rounds it served.
struct Side {
  std::string binary, dir, data, state;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<BareServer> bare;
  bool is_bare = false;
  sim::SimOptions so;
  Rounds all;
  std::size_t enrolled = 0;
  double seconds = 0;
  std::vector<double> round_cpu_ms;  ///< daemon CPU per enrollment, each round (0: none counted)
};

/// Starts `binary`'s daemon with its store in `dir`/data; its phones keep their flash in `dir`/sim.
Side start_side(const std::string& binary, const std::string& dir, const std::vector<std::string>& serve_args,
                const sim::SimOptions& so) {
  std::filesystem::create_directories(dir);
  Side s;
  s.binary = binary;
  s.dir = dir;
  s.data = dir + "/data";
  s.state = dir + "/sim";
  s.daemon = std::make_unique<Daemon>(binary, s.data, serve_args, dir + "/serve.log");
  s.so = so;
  s.so.server_port = static_cast<unsigned short>(s.daemon->port());
  s.so.ca_pem = slurp(s.data + "/ca/capf-ca.pem");
  s.so.state_dir = s.state;
  return s;
}

/// The bare server (bare_server.hpp) with the CA of the daemon whose data directory is `data`,
/// its thread on the daemon's cores; its phones keep their flash in `dir`/sim.
Side start_bare_side(const std::string& data, const std::string& dir, const std::string& key, const CoreSplit& cores,
                     const sim::SimOptions& so) {
  std::filesystem::create_directories(dir);
  Side s;
  s.binary = "the bare server";
  s.is_bare = true;
  s.dir = dir;
  s.state = dir + "/sim";
  s.bare = std::make_unique<BareServer>(data + "/ca", dir, phone_key_spec(key), cores.daemon);
  s.so = so;
  s.so.server_port = s.bare->port();
  s.so.ca_pem = slurp(data + "/ca/capf-ca.pem");
  s.so.state_dir = s.state;
  return s;
}

/// One round on `side`: re-arm every phone (a fresh import), enroll the fleet, count the
/// server's CPU and context switches and this process's CPU.
void run_round(Side& side, const std::string& csv, const std::vector<sim::PhoneProfile>& phones, bool first,
               const CoreSplit& cores) {
  const std::string out = side.dir + "/import.out", err = side.dir + "/import.err";
  if (side.daemon && run_process({side.binary, "phones", "import", csv, "--data-dir", side.data}, out, err) != 0)
    throw std::runtime_error("capf phones import (" + side.binary + ") failed: " + slurp(err));
  if (first) {
    // Boot the phones (MIC keys) outside every timed and CPU-counted part.
    for (const auto& p : phones)
      if (auto f = sim::load_flash(side.state, p.name); !f)
        throw std::runtime_error("phone state: " + f.error().message);
  }
  // Every round: a thread the daemon started since the last one may have been missed.
  if (side.daemon && cores.split())
    if (const auto e = pin_process(side.daemon->pid(), cores.daemon); !e.empty())
      throw std::runtime_error("putting the daemon on its cores: " + e);
  const auto server_cpu = [&] { return side.daemon ? side.daemon->cpu_seconds() : side.bare->cpu_seconds(); };
  const auto server_switches = [&] {
    return side.daemon ? side.daemon->context_switches() : side.bare->context_switches();
  };
  const double daemon_before = server_cpu(), self_before = self_cpu_seconds();
  const std::uint64_t switches_before = server_switches();
  // The bare server's CPU is its thread's; the simulator's (this process) must not count it.
  const double bare_before = side.bare ? side.bare->cpu_seconds() : 0;
  auto summary = [&] {
    const ThreadOnCores simulator_side(cores.simulator);  // run_fleet's threads inherit the set
    return sim::run_fleet(side.so, phones);
  }();
  const double cpu = server_cpu() - daemon_before;
  side.all.daemon_cpu += cpu;
  // A thread that ended during the round takes its count with it: never a negative count.
  const std::uint64_t switches_after = server_switches();
  side.all.daemon_switches += switches_after > switches_before ? switches_after - switches_before : 0;
  side.all.sim_cpu += self_cpu_seconds() - self_before - (side.bare ? side.bare->cpu_seconds() - bare_before : 0);
  if (!summary) throw std::runtime_error("simulator: " + summary.error().message);
  side.enrolled += summary->enrollments;
  side.seconds += summary->elapsed_seconds;
  side.round_cpu_ms.push_back(summary->enrollments > 0 ? cpu * 1000 / static_cast<double>(summary->enrollments) : 0);
  for (const auto& [what, n] : summary->by_result)
    if (what != "installed") side.all.others[what] += n;
  for (const auto& o : summary->outcomes) side.all.latencies.push_back(o.seconds * 1000);
}

/// `b`'s figures beside `a`'s from the same rounds, and round by round its CPU per enrollment over a's.
EnrollResult::Against compare(const Side& a, const Side& b, std::size_t rounds) {
  EnrollResult::Against x;
  x.binary = b.binary;
  x.enrolled = b.enrolled;
  x.per_second = b.seconds > 0 ? b.enrolled / b.seconds : 0;
  x.daemon_cpu_ms = b.enrolled > 0 ? b.all.daemon_cpu * 1000 / b.enrolled : 0;
  x.switches = b.enrolled > 0 ? static_cast<double>(b.all.daemon_switches) / static_cast<double>(b.enrolled) : 0;
  // A round whose CPU the clock's ticks missed on either side has no ratio.
  for (std::size_t i = 0; i < rounds; ++i)
    if (a.round_cpu_ms[i] > 0 && b.round_cpu_ms[i] > 0) x.round_ratios.push_back(b.round_cpu_ms[i] / a.round_cpu_ms[i]);
  x.median = percentile(x.round_ratios, 0.50);
  x.q1 = percentile(x.round_ratios, 0.25);
  x.q3 = percentile(x.round_ratios, 0.75);
  x.higher = static_cast<std::size_t>(
      std::count_if(x.round_ratios.begin(), x.round_ratios.end(), [](double q) { return q > 1; }));
  return x;
}

}  // namespace

EnrollResult bench_enroll(const EnrollOptions& options) {
  if (options.key != "rsa2048" && options.key != "p256")
    throw std::invalid_argument("--key must be rsa2048 or p256, got \"" + options.key + "\"");
  EnrollResult r;
  r.key = options.key;
  r.phones = options.phones;
  TempDir dir;
  std::vector<std::string> serve_args{"--ca-key-type", options.ca_key};
  if (options.workers > 0) serve_args.insert(serve_args.end(), {"--workers", std::to_string(options.workers)});
  if (options.io_threads > 0) serve_args.insert(serve_args.end(), {"--io-threads", std::to_string(options.io_threads)});
  const CoreSplit cores = options.split_cores ? split_cores() : CoreSplit{};
  r.cores = options.split_cores ? cores.describe() : "daemon and simulator share every core (--cores shared)";

  const auto names = sim::generated_names(options.phones, 0x00EBD5000000ull);
  const std::string csv = dir.path() + "/phones.csv";
  write_phones_csv(csv, names, options.key);
  std::vector<sim::PhoneProfile> phones;
  for (const auto& n : names) {
    sim::PhoneProfile p;
    p.name = n;
    phones.push_back(std::move(p));
  }
  sim::SimOptions so;
  so.concurrency = options.concurrency;
  so.key_threads = std::max(1u, std::thread::hardware_concurrency());

  // This binary's daemon (A) and, with --against, the other's (B), each in its own directory.
  std::vector<Side> sides;
  sides.push_back(
      start_side(options.capf_binary.empty() ? self_exe() : options.capf_binary, dir.path() + "/a", serve_args, so));
  if (!options.against.empty()) sides.push_back(start_side(options.against, dir.path() + "/b", serve_args, so));
  if (options.bare) sides.push_back(start_bare_side(sides.front().data, dir.path() + "/bare", options.key, cores, so));
  auto ca = crypto::Certificate::from_pem(sides.front().so.ca_pem);
  if (!ca) throw std::runtime_error("CAPF CA: " + ca.error().message);

  r.rounds = std::max<std::size_t>(1, options.rounds);
  r.prepared_keys = prepare_keys(so, options.phones * r.rounds * sides.size(), options.key);
  for (auto& side : sides) side.so.prepared_keys = so.prepared_keys;  // one pool, drawn by both
  auto phone = crypto::PrivateKey::generate(phone_key_spec(options.key));
  if (!phone) throw std::runtime_error("phone key: " + phone.error().message);
  const auto phone_spki = phone->public_key_der();
  std::vector<FloorSample> floor;
  std::vector<RestSample> rest;
  const double sample_seconds = std::max(0.05, options.crypto_seconds / 4);
  for (std::size_t round = 0; round < r.rounds; ++round) {
    // Taking turns, and which side goes first alternates, so neither always follows the other.
    for (std::size_t i = 0; i < sides.size(); ++i)
      run_round(sides[round % 2 == 0 ? i : sides.size() - 1 - i], csv, phones, round == 0, cores);
    floor.push_back(sample_floor(ca->key_spec(), sample_seconds, cores.daemon));
    rest.push_back(sample_rest(sides.front().data, phone_spki, cores));
  }
  for (auto& side : sides) {
    if (side.daemon) side.daemon->stop();
    side.bare.reset();
  }

  const Side& a = sides.front();
  r.enrolled = a.enrolled;
  r.seconds = a.seconds;
  r.per_second = r.seconds > 0 ? r.enrolled / r.seconds : 0;
  if (r.enrolled > 0) {
    r.daemon_cpu_ms = a.all.daemon_cpu * 1000 / r.enrolled;
    r.sim_cpu_ms = a.all.sim_cpu * 1000 / r.enrolled;
    r.daemon_switches = static_cast<double>(a.all.daemon_switches) / static_cast<double>(r.enrolled);
  }
  for (const auto& [what, n] : a.all.others) r.note += (r.note.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  r.p50_ms = percentile(a.all.latencies, 0.50);
  r.p99_ms = percentile(a.all.latencies, 0.99);
  for (const Side& b : sides) {
    if (&b == &a) continue;
    (b.is_bare ? r.bare : r.against) = compare(a, b, r.rounds);
  }
  measure_floor(r, ca->key_spec(), std::move(floor));
  measure_rest(r, rest);
  if (r.bare) {
    r.capf_beyond_bare_ms = r.daemon_cpu_ms - r.bare->daemon_cpu_ms;
    r.bare_ratio = r.bare->daemon_cpu_ms > 0 ? r.floor_ms / r.bare->daemon_cpu_ms : 0;
    const double rest = r.floor_ms + r.capf_beyond_bare_ms;
    r.bare_rest_ratio = rest > 0 ? r.floor_ms / rest : 0;
  }
  return r;
}

}  // namespace capf::bench
