// The 40,000-phone night: a real `capf serve`, a job over a query of every phone at the night's
// rate with a canary wave, Apply Config sent to `capf sim --control` (phones connect only when
// triggered), until the job completes; the daemon's wall time, CPU and peak memory.
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "capf/bench/bench.hpp"
#include "capf/sim/simulator.hpp"
#include "capf/util/loopback.hpp"
#include "capf/util/process.hpp"
#include "serve_child.hpp"

namespace capf::bench {

namespace {

/// A loopback port that was free a moment ago (the daemon must know the simulator's port
/// before either starts).
int free_port() {
  return util::LoopbackListener(1).port();
}

}  // namespace

NightResult bench_night(const NightOptions& options) {
  NightResult r;
  r.phones = options.phones;
  TempDir dir;
  const std::string data = dir.path() + "/data", state = dir.path() + "/sim";
  const std::string binary = options.capf_binary.empty() ? self_exe() : options.capf_binary;
  const int sim_port = free_port();
  Daemon daemon(
      binary, data,
      {"--trigger-url", "http://127.0.0.1:" + std::to_string(sim_port) + "/trigger/{name}", "--trigger-threads", "8"},
      dir.path() + "/serve.log");
  constexpr std::uint64_t kFirstMac = 0x00D1E0000000ull;
  const std::string first_mac = fmt::format("{:012X}", kFirstMac);
  util::ChildProcess sim({{binary,
                           "sim",
                           "--control",
                           "127.0.0.1:" + std::to_string(sim_port),
                           "--server",
                           "127.0.0.1:" + std::to_string(daemon.port()),
                           "--ca",
                           data + "/ca/capf-ca.pem",
                           "--phones",
                           std::to_string(options.phones),
                           "--first-mac",
                           first_mac,
                           "--state",
                           state,
                           "--mic-key",
                           "p256",
                           "--concurrency",
                           "64",
                           "--control-port-file",
                           dir.path() + "/sim-port.json",
                           "--log-level",
                           "warn"},
                          dir.path() + "/sim.log",
                          dir.path() + "/sim.log"});
  // The simulator makes every phone's MIC before it listens: 40,000 of them took more than a
  // minute on a busy machine, so the bound grows with the fleet.
  const double start_limit = 60 + 0.01 * static_cast<double>(options.phones), asked = now_seconds();
  while (slurp(dir.path() + "/sim-port.json").empty() && now_seconds() - asked < start_limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (slurp(dir.path() + "/sim-port.json").empty())
    throw std::runtime_error("capf sim --control did not start: " + slurp(dir.path() + "/sim.log"));

  auto cli = [&](const std::vector<std::string>& args, const std::string& what) {
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", data});
    if (run_process(argv, dir.path() + "/cli.out", dir.path() + "/cli.err") != 0)
      throw std::runtime_error(what + " failed: " + slurp(dir.path() + "/cli.err") + slurp(dir.path() + "/cli.out"));
    return slurp(dir.path() + "/cli.out");
  };
  const std::string csv = dir.path() + "/phones.csv";
  {
    std::ofstream out(csv);
    out << "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,EC Key Size (Bits)\n";
    for (const auto& n : sim::generated_names(options.phones, kFirstMac))
      out << n << ",DP-NIGHT,No Pending Operation,By Null String,EC Only,256\n";
  }
  double t0 = now_seconds();
  cli({"phones", "import", csv}, "capf phones import");
  r.import_seconds = now_seconds() - t0;

  const double cpu_before = daemon.cpu_seconds();
  t0 = now_seconds();
  // No --burst: the engine's automatic burst covers its ticks' share of the rate.
  const std::string submitted = cli({"job", "submit", "--where", "device_pool = DP-NIGHT", "--operation", "install",
                                     "--rate", std::to_string(static_cast<long>(options.rate_per_minute)), "--canary",
                                     std::to_string(options.canary), "--json"},
                                    "capf job submit");
  auto sub = nlohmann::json::parse(submitted, nullptr, false);
  const std::string id = sub.is_object() ? sub.value("job_id", "") : "";
  if (id.empty()) throw std::runtime_error("capf job submit answered no job id: " + submitted);
  // Bounded: the night's dispatch time at the set rate, twice over, plus ten minutes.
  const double limit = 2 * 60.0 * static_cast<double>(options.phones) / options.rate_per_minute + 600;
  nlohmann::json job;
  while (now_seconds() - t0 < limit) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    job = nlohmann::json::parse(cli({"job", "show", id, "--json"}, "capf job show"), nullptr, false);
    if (job.is_object() && (job.value("state", "") == "completed" || job.value("state", "") == "cancelled")) break;
  }
  r.wall_seconds = now_seconds() - t0;
  r.daemon_cpu_seconds = daemon.cpu_seconds() - cpu_before;
  r.peak_rss_mib = static_cast<double>(daemon.status_kib("VmHWM")) / 1024.0;
  if (job.is_object()) {
    r.job_state = job.value("state", "");
    for (const auto& [state, n] : job["counts"].items()) {
      const auto count = n.get<std::size_t>();
      if (state == "succeeded")
        r.succeeded = count;
      else if (state == "failed")
        r.failed = count;
      else
        r.other += count;
    }
  }
  return r;
}

}  // namespace capf::bench
