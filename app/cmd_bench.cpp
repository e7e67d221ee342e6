// `capf bench NAME [options]`: the benchmarks of issue 7. Each prints capf's figure, the
// reference measured in the same run and the ratio; none asserts on time.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "capf/bench/bench.hpp"
#include "capf/store/store.hpp"
#include "capf/util/log.hpp"
#include "cli.hpp"

namespace capf::cli {

namespace {

constexpr const char* kBenchUsage =
    "usage: capf bench crypto|enroll|night|csv|store|rate|idle|offline-import|restart|paging|all [options]\n"
    "  crypto [--seconds S]                      private-key ops/s, 1 thread and all cores\n"
    "  enroll [--key rsa2048|p256] [--phones N] [--rounds R] [--concurrency C] [--ca-key rsa2048|p256]\n"
    "         [--workers W] [--io-threads T]     (the daemon's --workers and --io-threads)\n"
    "         [--cores split|shared]             (split: the daemon on half the cores, the simulator on the rest)\n"
    "         [--against CAPF]                   (another capf binary's daemon takes turns with this one: B/A)\n"
    "         [--bare]                           (the bare server takes turns too: the least under this load)\n"
    "                                            daemon CPU per enrollment vs the server's crypto floor\n"
    "  night [--phones N] [--rate R] [--canary C]\n"
    "                                            a job over N devices, phones connect when triggered\n"
    "  csv [--rows N] [--repeat R]               CSV import rows/s vs sqlite3 .import (medians of R runs)\n"
    "  store [--transitions N] [--batch K] [--threads T]\n"
    "                                            durable transitions/s vs raw synced WriteBatches\n"
    "  rate [--dispatches N]                     rate limiter accuracy and windows\n"
    "  idle [--sessions N] [--hold S]            idle phone sessions held open: daemon memory\n"
    "  offline-import [--certs N]                offline import certificates/s vs openssl verify\n"
    "  restart [--devices N] [--kills K]         SIGKILL during a job: exec to first dispatch\n"
    "  paging [--devices N] [--runs R] [--data-dir DIR]\n"
    "                                            first page of device queries over N planted phones\n"
    "                                            (default 40000; with --data-dir the fleet stays there)\n"
    "  all                                       everything with small defaults, then a summary\n";

struct Row {
  std::string bench, figure, reference, ratio, target, met;
};

std::string fmt(double v, const char* unit) {
  return fmt::format("{:.1f} {}", v, unit);
}
std::string fmt3(double seconds) {
  return fmt::format("{:.3f} s", seconds);
}
std::string fmt_ratio(double v) {
  return fmt::format("{:.3f}", v);
}

Row run_crypto(double seconds) {
  auto r = bench::bench_crypto(seconds);
  std::printf("crypto: private-key operations per second (%u threads for all cores)\n", r.threads);
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : r.ops)
    rows.push_back({o.name, fmt(o.single, "ops/s"), fmt(o.all_cores, "ops/s"), fmt(o.per_cpu_second, "ops/CPU-s"),
                    fmt(o.per_cpu_second_busy, "ops/CPU-s")});
  print_table({"operation", "1 thread", "all cores", "1 thread, per CPU-s", "all cores, per CPU-s"}, rows);
  const auto* rsa = r.find("RSA-2048 sign");
  return {"crypto", fmt(rsa ? rsa->all_cores : 0, "RSA-2048 sign/s"), "-", "-", "reference only", "-"};
}

Row run_store(std::size_t transitions, std::size_t batch, unsigned threads) {
  auto r = bench::bench_store(transitions, batch, threads);
  std::printf("store: %zu transitions of %zu devices (%zu bytes of keys+values each), %u writer threads, synced\n",
              r.transitions, r.batch, r.bytes_per_batch, r.threads);
  print_table({"writer", "transitions/s", "devices/s"},
              {{"capf Store::apply(Sync::yes)", fmt(r.capf_per_second, ""), fmt(r.capf_per_second * r.batch, "")},
               {"raw rocksdb WriteBatch sync=true", fmt(r.raw_per_second, ""), fmt(r.raw_per_second * r.batch, "")}});
  std::printf("ratio capf/raw: %.3f (target >= 0.5: %s)\n", r.ratio, r.ratio >= 0.5 ? "met" : "NOT met");
  std::printf(
      "group commit (capf side, RocksDB's counters): %llu synced writes, %llu WAL syncs in %llu write groups: "
      "%.2f writes a sync\n",
      static_cast<unsigned long long>(r.synced_writes), static_cast<unsigned long long>(r.wal_syncs),
      static_cast<unsigned long long>(r.write_groups),
      r.wal_syncs ? static_cast<double>(r.synced_writes) / static_cast<double>(r.wal_syncs) : 0.0);
  return {"store",
          fmt(r.capf_per_second, "transitions/s"),
          fmt(r.raw_per_second, "batches/s"),
          fmt_ratio(r.ratio),
          ">= 0.5",
          r.ratio >= 0.5 ? "yes" : "no"};
}

std::string list_seconds(const std::vector<double>& runs) {
  std::string out;
  for (double s : runs) {
    out += fmt::format("{}{:.3f}", out.empty() ? "" : ", ", s);
  }
  return out;
}

Row run_csv(std::size_t rows, std::size_t repeat) {
  auto r = bench::bench_csv(rows, repeat);
  std::printf("csv: %zu generated rows (BAT columns like samples/csv/site-500.csv), %zu stored by capf\n", r.rows,
              r.imported);
  if (r.rejected) std::printf("  %zu rows rejected, first: %s\n", r.rejected, r.first_issue.c_str());
  print_table(
      {"importer", "seconds", "rows/s"},
      {{"capf (parse, validate, apply, one durable write)", fmt(r.capf_seconds, "s"), fmt(r.capf_rows_per_second, "")},
       {"sqlite3 .import into an indexed table", r.sqlite_seconds > 0 ? fmt(r.sqlite_seconds, "s") : "not run",
        fmt(r.sqlite_rows_per_second, "")}});
  std::printf("  medians of %zu runs each, taking turns; capf %s s; sqlite3 %s s\n", r.capf_runs.size(),
              list_seconds(r.capf_runs).c_str(), list_seconds(r.sqlite_runs).c_str());
  std::printf(
      "  capf's steps timed alone, on one thread: parse %.2f s, per-row lookup+apply+check+encode %.2f s, "
      "one durable write %.2f s\n  (the route parses on a second thread while the rows already parsed are "
      "applied; from %zu devices on, the write is an ingest of sorted table files)\n",
      r.parse_seconds, r.rows_seconds, r.write_seconds, store::kIngestMinimumDevices);
  std::printf("ratio capf/sqlite3: %.3f (target >= 1: %s)\n", r.ratio, r.ratio >= 1 ? "met" : "NOT met");
  return {"csv",
          fmt(r.capf_rows_per_second, "rows/s"),
          fmt(r.sqlite_rows_per_second, "rows/s"),
          fmt_ratio(r.ratio),
          ">= 1",
          r.ratio >= 1 ? "yes" : "no"};
}

Row run_rate(std::size_t dispatches) {
  auto r = bench::bench_rate(dispatches);
  std::printf("rate: token bucket (burst 1) and job engine on a manual clock\n");
  std::vector<std::vector<std::string>> rows;
  double worst = 0;
  for (const auto& l : r.lines) {
    const std::string dev = fmt::format("{:+.3f} %", l.deviation_pct);
    rows.push_back(
        {l.what, fmt(l.set_per_minute, "/min"), std::to_string(l.dispatches), fmt(l.measured_per_minute, "/min"), dev});
    worst = std::max(worst, std::abs(l.deviation_pct));
  }
  print_table({"what", "set", "dispatches", "measured", "deviation"}, rows);
  std::printf(
      "windowed job over 7 simulated days (%s): %zu dispatches; the schedule is open %.0f min, "
      "x %.0f/min = %.0f possible\n",
      r.windows.c_str(), r.window_dispatches, r.open_minutes, r.window_rate, r.open_minutes * r.window_rate);
  std::printf("dispatches outside a window: %zu\n", r.outside_window);
  const bool met = worst <= 2.0 && r.outside_window == 0 && r.window_dispatches > 0;
  const std::string fig = fmt::format("worst deviation {:.3f} %, {} outside", worst, r.outside_window);
  return {"rate", fig, "set rate; schedule", "-", "±2 %, 0 outside", met ? "yes" : "no"};
}

// `--against B`: the other daemon's figures from the same rounds, and the spread of its CPU per
// enrollment over this one's, round by round (the rounds took turns, so the machine's drift cancels).
void print_against(const bench::EnrollResult& r) {
  const auto& x = *r.against;
  std::printf("against %s (B; this binary is A), the rounds taking turns: B enrolled %zu, %.2f enrollments/s\n",
              x.binary.c_str(), x.enrolled, x.per_second);
  std::printf(
      "  daemon CPU per enrollment: A %.3f ms, B %.3f ms (B/A %.3f); B/A round by round: median %.3f, middle half "
      "%.3f-%.3f, B higher in %zu of %zu rounds\n",
      r.daemon_cpu_ms, x.daemon_cpu_ms, r.daemon_cpu_ms > 0 ? x.daemon_cpu_ms / r.daemon_cpu_ms : 0.0, x.median, x.q1,
      x.q3, x.higher, x.round_ratios.size());
}

// `--bare`: the least a server spends under this very load, and capf's own work beyond it.
void print_bare(const bench::EnrollResult& r) {
  const auto& x = *r.bare;
  std::printf(
      "the bare server (one thread, epoll, OpenSSL with the daemon's CA and TLS policy, one fdatasync per loop turn), "
      "the rounds taking turns, same phones and cores: enrolled %zu, %.2f enrollments/s\n",
      x.enrolled, x.per_second);
  std::printf(
      "  CPU per enrollment: bare %.3f ms, capf %.3f ms (capf/bare %.3f; round by round: median %.3f, middle half "
      "%.3f-%.3f); context switches per enrollment: bare %.1f, capf %.1f\n",
      x.daemon_cpu_ms, r.daemon_cpu_ms, x.daemon_cpu_ms > 0 ? r.daemon_cpu_ms / x.daemon_cpu_ms : 0.0,
      x.median > 0 ? 1 / x.median : 0.0, x.q3 > 0 ? 1 / x.q3 : 0.0, x.q1 > 0 ? 1 / x.q1 : 0.0, x.switches,
      r.daemon_switches);
  std::printf(
      "ratio floor/bare server CPU: %.3f (the best measured under this load); capf's own work beyond the bare "
      "server %.3f ms; floor/(floor + capf's own): %.3f (target >= 0.6: %s)\n",
      r.bare_ratio, r.capf_beyond_bare_ms, r.bare_rest_ratio, r.bare_rest_ratio >= 0.6 ? "met" : "NOT met");
}

Row run_enroll(const bench::EnrollOptions& o) {
  auto r = bench::bench_enroll(o);
  std::printf(
      "enroll: %zu phones, key %s, CA key %s, concurrency %zu, daemon + in-process simulator on loopback TLS, "
      "%zu phone keys made beforehand; %s\n",
      r.phones, r.key.c_str(), o.ca_key.c_str(), o.concurrency, r.prepared_keys, r.cores.c_str());
  std::printf(
      "  enrolled %zu in %zu round(s) taking %.2f s: %.2f enrollments/s, session p50 %.1f ms, p99 %.1f ms%s%s\n",
      r.enrolled, r.rounds, r.seconds, r.per_second, r.p50_ms, r.p99_ms, r.note.empty() ? "" : "; also ",
      r.note.c_str());
  std::printf(
      "  CPU per enrollment: daemon %.3f ms (/proc/PID/stat), simulator %.3f ms; daemon context switches %.1f per "
      "enrollment (/proc/PID/task/*/status)\n",
      r.daemon_cpu_ms, r.sim_cpu_ms, r.daemon_switches);
  std::printf(
      "  server crypto floor %.3f ms per enrollment = %s on the daemon's core (the median of %zu samples, one after "
      "each round: %.3f-%.3f ms); %.3f ms per CPU-s of a thread while every core signs (the cores share execution "
      "units when this is higher)\n",
      r.floor_ms, r.floor_formula.c_str(), r.floor_samples, r.floor_low_ms, r.floor_high_ms, r.floor_busy_ms);
  std::printf(
      "  OpenSSL's own work %.3f ms per enrollment = TLS %.3f ms (server side: handshake, the session's records) + "
      "LSC %.3f ms (issue_lsc), one thread on the daemon's core, the daemon's CA and TLS policy (the median of %zu "
      "samples, one after each round)\n",
      r.openssl_ms, r.openssl_tls_ms, r.openssl_lsc_ms, r.floor_samples);
  std::printf(
      "  the kernel's least work %.3f ms per enrollment = sockets %.3f ms (the same session over loopback TCP, "
      "beyond it in memory) + fsync %.3f ms (two synced transitions' WAL bytes, one fdatasync)\n",
      r.kernel_socket_ms + r.kernel_fsync_ms, r.kernel_socket_ms, r.kernel_fsync_ms);
  std::printf(
      "  least work of any server here %.3f ms (OpenSSL's + the kernel's), %.3f ms with the other cores busy; "
      "capf's own work %.3f ms per enrollment (daemon - least, cores busy), %.0f %% of the daemon's CPU\n",
      r.least_ms, r.least_busy_ms, r.capf_own_ms, r.daemon_cpu_ms > 0 ? 100 * r.capf_own_ms / r.daemon_cpu_ms : 0.0);
  std::printf(
      "ratio floor/least work: %.3f (the best a server can score on this machine); floor/(floor + capf's own), "
      "cores busy: %.3f\n",
      r.best_ratio, r.rest_ratio);
  std::printf(
      "ratio floor/daemon CPU: %.3f (target >= 0.6: %s); with the floor taken as the daemon ran, every core "
      "busy: %.3f\n",
      r.ratio, r.ratio >= 0.6 ? "met" : "NOT met", r.ratio_busy);
  if (r.against) print_against(r);
  if (r.bare) print_bare(r);
  return {"enroll " + r.key, fmt(r.daemon_cpu_ms, "ms daemon CPU"), fmt(r.floor_ms, "ms floor"), fmt_ratio(r.ratio),
          ">= 0.6",          r.ratio >= 0.6 ? "yes" : "no"};
}

Row run_night(const bench::NightOptions& o) {
  auto r = bench::bench_night(o);
  std::printf(
      "night: a job over %zu devices (query), %.0f/min, canary %d, simulator phones connect when triggered "
      "(import %.1f s)\n",
      r.phones, o.rate_per_minute, o.canary, r.import_seconds);
  std::printf(
      "  job %s: %zu succeeded, %zu failed, %zu other; wall %.1f s, daemon CPU %.1f s (%.3f ms per device), "
      "peak RSS %.1f MiB\n",
      r.job_state.c_str(), r.succeeded, r.failed, r.other, r.wall_seconds, r.daemon_cpu_seconds,
      r.phones ? 1000 * r.daemon_cpu_seconds / static_cast<double>(r.phones) : 0.0, r.peak_rss_mib);
  const bool met = r.job_state == "completed" && r.succeeded == r.phones && r.peak_rss_mib <= 108;
  return {"night " + std::to_string(r.phones), fmt(r.peak_rss_mib, "MiB peak"), "108 MiB",
          fmt_ratio(r.peak_rss_mib / 108),     "completes, <= 108 MiB",         met ? "yes" : "no"};
}

Row run_idle(std::size_t sessions, double hold) {
  auto r = bench::bench_idle(sessions, hold);
  const double mib = r.rss_kib / 1024.0, before = r.rss_before_kib / 1024.0;
  std::printf("idle: %zu loopback TLS sessions that read AUTH_REQUEST and stay silent, held %.0f s\n", r.sessions,
              r.held_seconds);
  std::printf(
      "  established %zu (in %.1f s, 64 handshakes at a time), failed %zu, closed by the daemon while held %zu%s%s\n",
      r.established, r.open_seconds, r.failed, r.closed_early,
      r.first_error.empty() ? "" : "; first: ", r.first_error.c_str());
  std::printf("  daemon capf_sessions_open while held: %ld\n", r.daemon_sessions_open);
  std::printf("  daemon resident memory: %.1f MiB before, %.1f MiB held (peak VmHWM %.1f MiB); %.1f KiB per session\n",
              before, mib, r.hwm_kib / 1024.0,
              r.established ? (r.rss_kib - r.rss_before_kib) / static_cast<double>(r.established) : 0.0);
  const bool met = mib < 1024 && r.failed == 0 && r.closed_early == 0 && r.established == r.sessions;
  std::printf("target: resident < 1024 MiB, no errors: %s\n", met ? "met" : "NOT met");
  return {"idle " + std::to_string(r.sessions),
          fmt(mib, "MiB resident"),
          "1024 MiB",
          fmt_ratio(mib / 1024),
          "< 1 GiB, 0 errors",
          met ? "yes" : "no"};
}

Row run_offline_import(std::size_t certs) {
  auto r = bench::bench_offline_import(certs);
  std::printf("offline-import: %zu certificates (%s), one PEM file each; prepared in %.1f s\n", r.certificates,
              r.chain.c_str(), r.prepare_seconds);
  print_table({"what", "seconds", "certificates/s"},
              {{"capf import (read, match by key, verify chain and usage, record)", fmt(r.capf_seconds, "s"),
                fmt(r.capf_per_second, "")},
               {"openssl verify -CAfile root (xargs, one process at a time)", fmt(r.openssl_seconds, "s"),
                fmt(r.openssl_per_second, "")}});
  std::printf("  capf imported %zu, failed %zu; openssl verified %zu\n", r.imported, r.failed, r.openssl_verified);
  const bool met = r.ratio >= 0.5 && r.imported == r.certificates;
  std::printf("ratio capf/openssl: %.3f (target >= 0.5: %s)\n", r.ratio, met ? "met" : "NOT met");
  return {"offline-import",
          fmt(r.capf_per_second, "certs/s"),
          fmt(r.openssl_per_second, "certs/s"),
          fmt_ratio(r.ratio),
          ">= 0.5",
          met ? "yes" : "no"};
}

Row run_restart(std::size_t devices, std::size_t kills) {
  auto r = bench::bench_restart(devices, kills);
  std::printf(
      "restart: a job of %zu devices (import %.1f s, submit %.1f s), 6000/min, SIGKILL %zu times while it dispatches\n",
      r.devices, r.import_seconds, r.submit_seconds, r.dispatch_seconds.size());
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < r.dispatch_seconds.size(); ++i)
    rows.push_back({std::to_string(i + 1), std::to_string(r.dispatched_before[i]), fmt3(r.ready_seconds[i]),
                    fmt3(r.dispatch_seconds[i])});
  print_table({"restart", "dispatched before the kill", "exec to listening", "exec to first Apply Config"}, rows);
  std::printf("  Apply Configs received: %zu for %zu distinct devices\n", r.dispatches, r.distinct);
  const bool met = r.worst < 2.0 && !r.dispatch_seconds.empty();
  const std::string worst = fmt3(r.worst);
  std::printf("worst restart to first dispatch: %s (target < 2 s: %s)\n", worst.c_str(), met ? "met" : "NOT met");
  return {"restart " + std::to_string(r.devices),
          std::string("worst ") + worst,
          "2 s",
          fmt_ratio(r.worst / 2),
          "< 2 s",
          met ? "yes" : "no"};
}

std::string fmt_timing(const bench::Timing& t) {
  return fmt::format("{:.1f} ms (cpu {:.1f} ms)", t.wall_ms, t.cpu_ms);
}

Row run_paging(std::size_t devices, std::size_t runs, const std::string& data_dir) {
  auto r = bench::bench_paging(devices, runs, data_dir);
  std::printf(
      "paging: %zu phones planted in %.1f s%s; pages of %zu through the admin API in-process (as the dashboard "
      "asks it), JSON written out; medians of %zu runs, wall and the request thread's CPU time\n",
      r.fleet.devices, r.fleet.seconds, data_dir.empty() ? "" : (" into " + data_dir).c_str(), r.page_size, r.runs);
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : r.lines)
    rows.push_back(
        {l.what, std::to_string(l.matched), fmt_timing(l.first), l.next.wall_ms > 0 ? fmt_timing(l.next) : "-"});
  print_table({"device query", "matched", "first page (counted)", "next page (cursor)"}, rows);
  std::printf("reference: a bare scan of every device record %s; the former dashboard request (limit=500) %s\n",
              fmt_timing(r.scan).c_str(), fmt_timing(r.unpaged).c_str());
  const bool met = r.worst_first.wall_ms < 100;
  std::printf("slowest first page: %s (target < 100 ms: %s)\n", fmt_timing(r.worst_first).c_str(),
              met ? "met" : "NOT met");
  return {"paging " + std::to_string(r.fleet.devices),
          fmt(r.worst_first.wall_ms, "ms first page"),
          fmt(r.scan.wall_ms, "ms scan"),
          fmt_ratio(r.scan.wall_ms > 0 ? r.worst_first.wall_ms / r.scan.wall_ms : 0),
          "< 100 ms",
          met ? "yes" : "no"};
}

bench::EnrollOptions enroll_options(const po::variables_map& vm, const std::string& key, std::size_t phones,
                                    std::size_t rounds) {
  bench::EnrollOptions o;
  o.rounds = rounds;
  o.key = key;
  o.phones = phones;
  o.concurrency = vm["concurrency"].as<std::size_t>();
  o.ca_key = vm["ca-key"].as<std::string>();
  o.workers = vm["workers"].as<unsigned>();
  o.io_threads = vm["io-threads"].as<unsigned>();
  o.crypto_seconds = vm["seconds"].as<double>();
  if (vm.count("against")) o.against = vm["against"].as<std::string>();
  o.bare = vm.count("bare") > 0;
  const std::string cores = vm["cores"].as<std::string>();
  if (cores != "split" && cores != "shared")
    throw std::invalid_argument("--cores must be split or shared, got \"" + cores + "\"");
  o.split_cores = cores == "split";
  return o;
}

}  // namespace

int cmd_bench(const Args& args) {
  po::options_description desc("bench options");
  desc.add_options()("name", po::value<std::string>(), "benchmark")(
      "seconds", po::value<double>()->default_value(1.0),
      "crypto: seconds per measurement; enroll: the floor's, a quarter after each round")(
      "key", po::value<std::string>()->default_value("p256"), "enroll: rsa2048 or p256")(
      "phones", po::value<std::size_t>()->default_value(200), "enroll: phones")(
      "concurrency", po::value<std::size_t>()->default_value(64), "enroll: sessions at once")(
      "rate", po::value<double>()->default_value(2000), "night: dispatches per minute")(
      "canary", po::value<int>()->default_value(100), "night: canary wave")(
      "workers", po::value<unsigned>()->default_value(0), "enroll: the daemon's --workers (0 = its default)")(
      "io-threads", po::value<unsigned>()->default_value(0), "enroll: the daemon's --io-threads (0 = its default)")(
      "rounds", po::value<std::size_t>()->default_value(1), "enroll: re-arm and enroll the fleet this many times")(
      "ca-key", po::value<std::string>()->default_value("rsa2048"), "enroll: the daemon's CA key (rsa2048, p256)")(
      "against", po::value<std::string>(),
      "enroll: another capf binary whose daemon takes turns with this one, round by round")(
      "bare", "enroll: the bare server (one thread, epoll, OpenSSL, one fsync per loop turn) takes turns too")(
      "cores", po::value<std::string>()->default_value("split"),
      "enroll: split (the daemon on half the cores, the simulator on the rest) or shared")(
      "rows", po::value<std::size_t>()->default_value(100000), "csv: rows")(
      "repeat", po::value<std::size_t>()->default_value(3),
      "csv: runs of each importer, taking turns (medians compared)")(
      "transitions", po::value<std::size_t>()->default_value(2000), "store: transitions")(
      "batch", po::value<std::size_t>()->default_value(4), "store: devices per transition")(
      "threads", po::value<unsigned>()->default_value(8), "store: writer threads")(
      "dispatches", po::value<std::size_t>()->default_value(300), "rate: dispatches per setting")(
      "sessions", po::value<std::size_t>()->default_value(10000), "idle: sessions held open")(
      "hold", po::value<double>()->default_value(10), "idle: seconds they are held")(
      "certs", po::value<std::size_t>()->default_value(100000), "offline-import: certificates")(
      "devices", po::value<std::size_t>()->default_value(100000), "restart: devices in the job")(
      "kills", po::value<std::size_t>()->default_value(3), "restart: SIGKILLs")(
      "runs", po::value<std::size_t>()->default_value(15), "paging: runs of each request (medians)");
  desc.add(common_options());
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse(args, desc, pos, kBenchUsage);
  if (!vm.count("name")) throw UsageError(std::string("which benchmark?\n") + kBenchUsage);
  util::set_log_level(vm["log-level"].as<std::string>());
  const std::string name = vm["name"].as<std::string>();
  std::vector<Row> summary;
  if (name == "all") {
    // Sized to finish in a few minutes on 2 cores (RSA-2048 phone keys take 0.1-0.5 s each).
    summary.push_back(run_crypto(vm["seconds"].as<double>()));
    summary.push_back(run_enroll(enroll_options(vm, "p256", 100, 5)));
    summary.push_back(run_enroll(enroll_options(vm, "rsa2048", 20, 1)));
    summary.push_back(run_csv(vm["rows"].as<std::size_t>(), vm["repeat"].as<std::size_t>()));
    summary.push_back(
        run_store(vm["transitions"].as<std::size_t>(), vm["batch"].as<std::size_t>(), vm["threads"].as<unsigned>()));
    summary.push_back(run_rate(vm["dispatches"].as<std::size_t>()));
    summary.push_back(run_idle(vm["sessions"].as<std::size_t>(), vm["hold"].as<double>()));
    summary.push_back(run_offline_import(vm["certs"].as<std::size_t>()));
    summary.push_back(run_restart(vm["devices"].as<std::size_t>(), vm["kills"].as<std::size_t>()));
    summary.push_back(run_paging(40000, vm["runs"].as<std::size_t>(), ""));
    std::printf("\nsummary\n");
    std::vector<std::vector<std::string>> rows;
    rows.reserve(summary.size());
    for (const auto& r : summary) rows.push_back({r.bench, r.figure, r.reference, r.ratio, r.target, r.met});
    print_table({"bench", "capf", "reference", "ratio", "target", "met"}, rows);
  } else if (name == "crypto")
    summary.push_back(run_crypto(vm["seconds"].as<double>()));
  else if (name == "store")
    summary.push_back(
        run_store(vm["transitions"].as<std::size_t>(), vm["batch"].as<std::size_t>(), vm["threads"].as<unsigned>()));
  else if (name == "csv")
    summary.push_back(run_csv(vm["rows"].as<std::size_t>(), vm["repeat"].as<std::size_t>()));
  else if (name == "rate")
    summary.push_back(run_rate(vm["dispatches"].as<std::size_t>()));
  else if (name == "idle")
    summary.push_back(run_idle(vm["sessions"].as<std::size_t>(), vm["hold"].as<double>()));
  else if (name == "offline-import")
    summary.push_back(run_offline_import(vm["certs"].as<std::size_t>()));
  else if (name == "restart")
    summary.push_back(run_restart(vm["devices"].as<std::size_t>(), vm["kills"].as<std::size_t>()));
  else if (name == "night") {
    bench::NightOptions o;
    o.phones = vm["phones"].defaulted() ? 40000 : vm["phones"].as<std::size_t>();
    o.rate_per_minute = vm["rate"].as<double>();
    o.canary = vm["canary"].as<int>();
    summary.push_back(run_night(o));
  } else if (name == "paging")
    summary.push_back(run_paging(vm["devices"].defaulted() ? 40000 : vm["devices"].as<std::size_t>(),
                                 vm["runs"].as<std::size_t>(), vm.count("data-dir") ? data_dir(vm) : ""));
  else if (name == "enroll")
    summary.push_back(run_enroll(enroll_options(vm, vm["key"].as<std::string>(), vm["phones"].as<std::size_t>(),
                                                vm["rounds"].as<std::size_t>())));
  else
    throw UsageError("unknown benchmark \"" + name + "\"\n" + kBenchUsage);
  return 0;
}

}  // namespace capf::cli
