// Benchmarks of issue 7: each measures capf and a reference in the same run and reports the
// ratio. They print figures; they never assert on time. Everything runs on loopback in
// temporary directories that are removed afterwards.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capf/core/vocabulary.hpp"

namespace capf::bench {

/// Private-key operations per second of one kind, single thread and with every core.
struct OpRate {
  std::string name;           ///< "RSA-2048 sign", "P-256 keygen", ...
  double single = 0;          ///< ops/s on one thread
  double all_cores = 0;       ///< ops/s with one thread per core, summed
  double per_cpu_second = 0;  ///< ops per CPU-second of one thread (the floor's unit: CPU time, like the daemon's)
  /// ops per CPU-second of each thread while one thread per core runs: lower than
  /// per_cpu_second where cores share execution units (SMT siblings, a VM's vCPUs)
  double per_cpu_second_busy = 0;
};

/// The machine's crypto ceiling.
struct CryptoResult {
  unsigned threads = 1;     ///< threads used for the all-cores figures
  std::vector<OpRate> ops;  ///< RSA-2048 sign, P-256 sign, RSA-2048 keygen, P-256 keygen, X25519 exchange
  /// The entry called `name`, or nullptr.
  const OpRate* find(const std::string& name) const;
};

/// Measures each private-key operation for about `seconds` per op and thread mode.
CryptoResult bench_crypto(double seconds = 1.0);

/// The server's crypto floor per enrollment, sampled once: two signatures with the CA key (the
/// TLS handshake's, the LSC's) and one X25519 exchange, in CPU time of the measuring thread.
struct FloorSample {
  double sign = 0, exchange = 0;            ///< ops per CPU-second, one thread, the other cores as they are
  double sign_busy = 0, exchange_busy = 0;  ///< ops per CPU-second of each thread, one thread per core
  double ms() const { return sign > 0 && exchange > 0 ? 1000.0 * (2.0 / sign + 1.0 / exchange) : 0; }
  double busy_ms() const {
    return sign_busy > 0 && exchange_busy > 0 ? 1000.0 * (2.0 / sign_busy + 1.0 / exchange_busy) : 0;
  }
};

/// One FloorSample for `ca_key`, about `seconds` per operation and mode: one thread on
/// `one_core` (empty: wherever the caller runs), then one thread per core.
FloorSample sample_floor(const KeySpec& ca_key, double seconds, const std::vector<int>& one_core);

/// `threads` threads signing with RSA-2048 until destroyed: the other cores kept busy while a
/// reference is measured on this one, as the simulator and the daemon's other threads keep them
/// during `capf bench enroll`.
class BusyCores {
 public:
  explicit BusyCores(unsigned threads);
  ~BusyCores();
  BusyCores(const BusyCores&) = delete;
  BusyCores& operator=(const BusyCores&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

/// Settings of the enrollment benchmark.
struct EnrollOptions {
  std::string key = "p256";      ///< "rsa2048" or "p256": the phones' Key Order (RSA Only 2048 / EC Only 256)
  std::size_t phones = 200;      ///< phones in the fleet
  std::size_t rounds = 1;        ///< times the fleet is re-armed (re-imported) and enrolled again
  std::size_t concurrency = 64;  ///< simulator sessions at once
  std::string capf_binary;       ///< the capf executable ("" = /proc/self/exe)
  /// Another capf executable (`--against`): its daemon takes turns with this one round by round,
  /// on the same cores with its own store and phones, so the two are compared as the machine's
  /// speed drifts ("" = none).
  std::string against;
  /// The bare server (one thread, epoll, OpenSSL, one fsync per loop turn) takes turns with the
  /// daemon too, on its cores with the same phones: the least a server spends per enrollment
  /// under this very load, wake-ups and interrupts included.
  bool bare = false;
  unsigned workers = 0;            ///< the daemon's --workers (0 = its default)
  unsigned io_threads = 0;         ///< the daemon's --io-threads (0 = its default)
  std::string ca_key = "rsa2048";  ///< the daemon's --ca-key-type (signs the LSC and the TLS handshake)
  double crypto_seconds = 1.0;     ///< measuring time per op for the floor, over 4 per round
  /// The daemon's threads on the first half of the cores and the simulator's on the rest, as
  /// phones on other machines leave the daemon its caches; false: the scheduler mixes them.
  bool split_cores = true;
};

/// Enrollments against a real `capf serve`: the daemon's CPU per enrollment against the
/// server's crypto floor, throughput and session latency.
struct EnrollResult {
  std::string key;                ///< "rsa2048" or "p256", as asked
  std::string cores;              ///< where the daemon and the simulator ran ("daemon on CPU 0, simulator on CPU 1")
  std::size_t phones = 0;         ///< phones in the fleet
  std::size_t rounds = 0;         ///< fleet runs timed
  std::size_t enrolled = 0;       ///< LSCs installed and verified by the simulator, all rounds
  double seconds = 0;             ///< wall time of the fleet runs (imports between rounds excluded)
  double per_second = 0;          ///< enrolled / seconds
  double p50_ms = 0, p99_ms = 0;  ///< session latency (connect to END_SESSION), phones' view
  double floor_ms = 0;            ///< the server's crypto floor per enrollment, one thread (median sample)
  std::size_t floor_samples = 0;  ///< samples taken, one after each round
  double floor_low_ms = 0, floor_high_ms = 0;  ///< the cheapest and the dearest sample
  std::string floor_formula;                   ///< how the floor was computed, with the figures
  double ratio = 0;               ///< floor_ms / daemon_cpu_ms (1 = the daemon does nothing but the crypto)
  double floor_busy_ms = 0;       ///< the same floor per CPU-second of a thread while every core signs
  double ratio_busy = 0;          ///< floor_busy_ms / daemon_cpu_ms: the floor as the daemon runs, every core busy
  std::string note;               ///< non-installed outcomes, if any
  double daemon_cpu_ms = 0;       ///< daemon CPU time (user+system, /proc/PID/stat) per enrollment, timed rounds
  double sim_cpu_ms = 0;          ///< simulator (this process) CPU time per enrollment, timed rounds
  double daemon_switches = 0;     ///< the daemon's threads' context switches per enrollment, timed rounds
  std::size_t prepared_keys = 0;  ///< phone keys generated before the timed part
  double openssl_ms = 0;          ///< OpenSSL's own work per enrollment (measure_openssl_share), one core
  double openssl_tls_ms = 0, openssl_lsc_ms = 0;     ///< its TLS and LSC parts
  double kernel_socket_ms = 0, kernel_fsync_ms = 0;  ///< the kernel's least work: the session's sockets, one fsync
  double least_ms = 0;       ///< openssl_ms + kernel_socket_ms + kernel_fsync_ms: what any server spends here
  double best_ratio = 0;     ///< floor_ms / least_ms: the best ratio a server could reach on this machine
  double least_busy_ms = 0;  ///< least_ms measured again with the other cores busy (BusyCores)
  double capf_own_ms = 0;    ///< daemon_cpu_ms - least_busy_ms: what capf spends beyond the least work
  double rest_ratio = 0;     ///< floor_busy_ms / (floor_busy_ms + capf_own_ms): the ratio for the rest
  /// With `against`: that daemon's figures from the same rounds, and per round its CPU per
  /// enrollment over this one's (1.1: it spent a tenth more).
  struct Against {
    std::string binary;
    std::size_t enrolled = 0;
    double daemon_cpu_ms = 0, per_second = 0;
    double switches = 0;                ///< its context switches per enrollment
    std::vector<double> round_ratios;   ///< rounds where both daemons' CPU was counted
    double median = 0, q1 = 0, q3 = 0;  ///< of round_ratios: the middle one, the middle half
    std::size_t higher = 0;             ///< round_ratios above 1
  };
  std::optional<Against> against;
  /// With `bare`: the bare server's figures from the same rounds (binary "the bare server").
  std::optional<Against> bare;
  double capf_beyond_bare_ms = 0;  ///< daemon_cpu_ms - the bare server's: capf's own work under the same load
  double bare_ratio = 0;           ///< floor_ms / the bare server's CPU per enrollment: the best measured here
  double bare_rest_ratio = 0;      ///< floor_ms / (floor_ms + capf_beyond_bare_ms): the ratio for the rest
};

/// The least work of one enrollment's server side, per session, in thread CPU time: OpenSSL's
/// and the kernel's.
struct OpensslShare {
  std::size_t sessions = 0;
  double tls_ms = 0;     ///< SSL_new, the handshake, the session's records, SSL_free (in memory)
  double lsc_ms = 0;     ///< one LSC issued by the daemon's CA (crypto::CertificateAuthority::issue_lsc)
  double socket_ms = 0;  ///< the same session over loopback TCP beyond it in memory: accept, reads, writes, close
  double fsync_ms = 0;   ///< two WAL appends of the synced transitions' size and one fdatasync
  /// All of it: the least work of one enrollment's server side.
  double least_ms() const { return tls_ms + lsc_ms + socket_ms + fsync_ms; }
};

/// The server side of `sessions` CAPF sessions' TLS with the daemon's CA (certificate and key in
/// `ca_dir`) and TLS policy, over an in-memory BIO pair and again over loopback TCP on this
/// thread, records of the session's sizes, and an LSC for `phone_spki` each (only the server's
/// calls are timed); and the fsync of a session's synced transitions in `data_dir`.
OpensslShare measure_openssl_share(const std::string& ca_dir, const std::vector<std::uint8_t>& phone_spki,
                                   std::size_t sessions, const std::string& data_dir);

/// Starts `capf serve` on 127.0.0.1:0 with a temporary data dir, imports the phones with
/// `capf phones import`, boots the phones and generates their keys before the timed part, runs
/// sim::run_fleet in-process, and measures the floor with bench_crypto on one core: two
/// signatures with the CA key (the TLS handshake, the LSC) and one X25519 exchange. Throws
/// std::runtime_error when the daemon cannot start or the import fails.
EnrollResult bench_enroll(const EnrollOptions& options);

/// The 40,000-phone night: a job over a query of `phones` devices at `rate_per_minute`, with a
/// canary wave, Apply Config sent to the simulator in control mode (phones connect only when
/// triggered), run until the job completes.
struct NightOptions {
  std::size_t phones = 40000;
  double rate_per_minute = 2000;
  int canary = 100;
  std::string capf_binary;  ///< "" = /proc/self/exe
};
struct NightResult {
  std::size_t phones = 0;
  std::string job_state;  ///< "completed" when it finished
  std::size_t succeeded = 0, failed = 0, other = 0;
  double wall_seconds = 0;        ///< submit to completed
  double daemon_cpu_seconds = 0;  ///< over the same span
  double peak_rss_mib = 0;        ///< the daemon's VmHWM at the end
  double import_seconds = 0;      ///< the CSV import before the night
};
NightResult bench_night(const NightOptions& options);

/// CSV import against `sqlite3 .import` into an indexed table.
struct CsvResult {
  std::size_t rows = 0;                        ///< data rows in the generated file
  std::size_t imported = 0;                    ///< devices capf stored
  std::size_t rejected = 0;                    ///< rows capf reported as issues
  std::string first_issue;                     ///< the first of them, "" when none
  std::vector<double> capf_runs, sqlite_runs;  ///< seconds of every run, in order
  double capf_seconds = 0;                     ///< median wall time of capf's import route
  double capf_rows_per_second = 0;             ///< rows / capf_seconds
  double sqlite_seconds = 0;                   ///< median; 0 when sqlite3 is not installed
  double sqlite_rows_per_second = 0;           ///< rows / sqlite_seconds
  double ratio = 0;                            ///< capf / sqlite (0 without sqlite3)
  /// The same steps again on a fresh store, each timed alone: parse_phones_csv; per row
  /// get_device + apply_row + check_capf_settings; one Store::apply(Sync::yes) of all devices.
  double parse_seconds = 0, rows_seconds = 0, write_seconds = 0;
};

/// Generates a BAT CSV of `rows` phones like samples/csv/site-500.csv.
std::string generate_csv(std::size_t rows);
/// Times capf's import (parse, validate, apply rows, one durable store write, through
/// admin::AdminService's import route, each run in a forked child on a cold heap) and
/// `sqlite3 .import` of the same file, taking turns `repeat` times; compares the medians.
CsvResult bench_csv(std::size_t rows = 100000, std::size_t repeat = 3);

/// Durable device transitions against raw synced RocksDB WriteBatches.
struct StoreResult {
  std::size_t transitions = 0;      ///< transitions written on each side
  std::size_t batch = 0;            ///< devices per transition
  unsigned threads = 0;             ///< writer threads
  double capf_per_second = 0;       ///< Store::apply(Sync::yes) transitions/s
  double raw_per_second = 0;        ///< rocksdb WriteBatch sync=true batches/s
  double ratio = 0;                 ///< capf / raw
  std::size_t bytes_per_batch = 0;  ///< encoded value bytes per batch (both sides)
  /// capf's side, from RocksDB's counters (Store::write_stats): synced writes, the WAL syncs
  /// they shared, and the write groups they went in.
  std::uint64_t synced_writes = 0;
  std::uint64_t wal_syncs = 0;
  std::uint64_t write_groups = 0;
};

/// Writes `transitions` transitions of `batch` devices each from `threads` threads through
/// Store::apply, then the same encoded keys and values as raw WriteBatches.
StoreResult bench_store(std::size_t transitions = 2000, std::size_t batch = 4, unsigned threads = 8);

/// One rate setting's measurement.
struct RateLine {
  std::string what;                ///< "RateLimiter, poll 100 ms", "Engine, tick 103 ms", ...
  double set_per_minute = 0;       ///< the configured rate
  std::size_t dispatches = 0;      ///< dispatches observed
  double measured_per_minute = 0;  ///< (dispatches - 1) / minutes from first to last
  double deviation_pct = 0;        ///< (measured - set) / set × 100
};

/// Rate limiter and windows.
struct RateResult {
  std::vector<RateLine> lines;        ///< one per (what, rate, tick) measured
  std::size_t window_dispatches = 0;  ///< dispatches of the windowed job over 7 simulated days
  std::size_t outside_window = 0;     ///< of those, at an instant the schedule says is closed
  double open_minutes = 0;            ///< open time of the schedule over the 7 days
  double window_rate = 0;             ///< the job's rate, per minute
  std::string windows;                ///< the windows used, as text
};

/// Drives RateLimiter and Engine with a util::ManualClock: 300/min and 60/min over
/// `dispatches` each (ticks of 100 ms, the daemon's default, and 103 ms), and a windowed job
/// of `window_devices` phones over 7 simulated days in 5 s ticks.
RateResult bench_rate(std::size_t dispatches = 300, std::size_t window_devices = 3000);

/// A fleet planted straight into a store, for the paging benchmark and the dashboard's browser
/// test: every figure of the overview is known from the device records.
struct PlantedFleet {
  std::size_t devices = 0;
  std::string ca_subject;  ///< the CAPF CA (created in DATA/ca when missing)
  std::string retired_subject, online_subject, offline_subject;
  double seconds = 0;  ///< time to plant
};

/// Creates (or loads) the CAPF CA in `data_dir`/ca and writes `devices` phones SEP000000000000…
/// into `data_dir`/store, in 20 device pools DP-00…DP-19. By index i: i % 50 == 0 no LSC;
/// i % 50 == 1 an LSC expired 1–90 days before `now`; otherwise one expiring spread over the
/// 5 years and 3 weeks after `now`. Issuers: i % 10 == 2 a retired CAPF CA (store meta
/// retired_ca_subjects), 3 an Online CA and 4 an Offline CA (each with its CSR record), the
/// rest the CAPF CA. Every 500th (i % 500 == 5) is revoked; every 1000th (i % 1000 == 7) also
/// holds a stale LSC. Each LSC has its certificate record (no DER). Throws on errors.
PlantedFleet plant_fleet(const std::string& data_dir, std::size_t devices, std::int64_t now);

/// Medians of one request: wall time, and CPU time of the thread that ran it (which a machine
/// shared with other work does not inflate).
struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

/// First pages of device queries over a planted fleet.
struct PagingLine {
  std::string what;         ///< the query and sort, in words
  std::size_t matched = 0;  ///< devices the query selects (the count the page carries)
  Timing first;             ///< first page, counted (what the dashboard asks first)
  Timing next;              ///< the page after it from the cursor, not counted; 0 = not timed
};
struct PagingResult {
  PlantedFleet fleet;
  std::size_t page_size = 50;
  std::size_t runs = 0;
  std::vector<PagingLine> lines;
  Timing scan;         ///< reference: a bare Store::for_each_device over every device
  Timing unpaged;      ///< reference: the former dashboard request (limit=500, no cursor)
  Timing worst_first;  ///< the slowest first page among the lines (by wall time)
};

/// Plants `devices` phones (into `data_dir`, or a temporary directory when empty) and times
/// admin::AdminService's device listing in-process, `runs` times each; the median counts.
PagingResult bench_paging(std::size_t devices = 40000, std::size_t runs = 15, const std::string& data_dir = "");

/// Idle phone sessions held open against a real daemon.
struct IdleResult {
  std::size_t sessions = 0;        ///< sessions asked for
  std::size_t established = 0;     ///< TLS up and AUTH_REQUEST read
  std::size_t failed = 0;          ///< connections that never got that far
  std::size_t closed_early = 0;    ///< established, then ended by the daemon while held
  std::string first_error;         ///< the first failure in words, "" when none
  double open_seconds = 0;         ///< time to open all of them (64 handshakes at a time)
  double held_seconds = 0;         ///< how long they were held while memory was sampled
  long rss_before_kib = 0;         ///< daemon VmRSS before the first connection
  long rss_kib = 0;                ///< highest daemon VmRSS sampled while held
  long hwm_kib = 0;                ///< daemon VmHWM (peak) at the end
  long daemon_sessions_open = -1;  ///< capf_sessions_open from `capf metrics` while held
};

/// Starts `capf serve` (step and handshake timeouts longer than the run), opens `sessions`
/// loopback TLS connections that each read AUTH_REQUEST and stay silent, holds them for
/// `hold_seconds` while sampling the daemon's resident memory. Raises the open-file limit to
/// its hard limit; throws when that is too low.
IdleResult bench_idle(std::size_t sessions = 10000, double hold_seconds = 10, const std::string& capf_binary = "");

/// Offline import of certificates signed by another team's CA, against `openssl verify`.
struct OfflineImportResult {
  std::size_t certificates = 0;  ///< certificate files written (one PEM each)
  std::size_t imported = 0;      ///< matched to a pending CSR, verified and recorded
  std::size_t failed = 0;        ///< reported as problems (should be 0)
  double prepare_seconds = 0;    ///< keys, CSRs and certificates generated (not timed against)
  double capf_seconds = 0;       ///< expand_paths + reading + import_certificates
  double capf_per_second = 0;
  double openssl_seconds = 0;  ///< `openssl verify -CAfile root.pem FILE...` over the same files, one process at a time
  double openssl_per_second = 0;
  std::size_t openssl_verified = 0;  ///< "FILE: OK" lines
  double ratio = 0;                  ///< capf / openssl
  std::string chain;                 ///< "RSA-2048 root signs P-256 phone keys"
};

/// Stores `certificates` pending Offline CA CSRs (P-256 phone keys), has an RSA-2048 root of
/// "another team" sign each, writes one PEM file per certificate into a directory, then times
/// capf's import of that directory (in-process, on the store, with the root in CAPF-trust)
/// and single-core `openssl verify` of the same files (xargs, one process at a time).
OfflineImportResult bench_offline_import(std::size_t certificates = 100000);

/// Restart of a large job after SIGKILL.
struct RestartResult {
  std::size_t devices = 0;                     ///< devices in the job
  double import_seconds = 0;                   ///< `capf phones import` of them
  double submit_seconds = 0;                   ///< `capf job submit --where all`
  std::vector<double> ready_seconds;           ///< per restart: fork to daemon.json (listeners bound)
  std::vector<double> dispatch_seconds;        ///< per restart: fork to the first Apply Config received
  std::vector<std::size_t> dispatched_before;  ///< per restart: Apply Configs received before the kill
  std::size_t dispatches = 0;                  ///< Apply Configs received in all
  std::size_t distinct = 0;                    ///< distinct devices among them
  double worst = 0;                            ///< the largest dispatch_seconds
};

/// A job of `devices` phones at 6,000/min whose Apply Config is an HTTP POST to a listener in
/// this process (phones never connect: session wait 1 h); SIGKILLs the daemon `kills` times
/// while it dispatches and measures each restart from fork to the first Apply Config.
RestartResult bench_restart(std::size_t devices = 100000, std::size_t kills = 3, const std::string& capf_binary = "");

/// Runs `argv` (argv[0] a path) without a shell, stdout/stderr to the given files; returns
/// the exit status (128+signal when killed).
int run_process(const std::vector<std::string>& argv, const std::string& out, const std::string& err);

/// A temporary directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  /// Creates /tmp/capf-bench-XXXXXX.
  TempDir();
  /// Removes the directory tree.
  ~TempDir();
  /// Not copyable: one owner removes the directory.
  TempDir(const TempDir&) = delete;
  /// Not copyable.
  TempDir& operator=(const TempDir&) = delete;
  /// The directory's path.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Seconds on a monotonic clock.
double now_seconds();
/// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
double thread_cpu_seconds();

}  // namespace capf::bench
