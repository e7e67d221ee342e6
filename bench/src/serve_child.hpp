// `capf serve` as a child process of a benchmark, and the small helpers that go with it.
// Internal to capf_bench.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "capf/util/process.hpp"

namespace capf::bench {

/// The whole file, "" when it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The path of the running executable.
inline std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

/// `capf serve --data-dir DATA --listen 127.0.0.1:0 --log-level warn EXTRA...`, stopped with
/// SIGTERM when this goes out of scope. The constructor returns once daemon.json names the
/// CAPF port, i.e. the store is open, jobs are resumed and the listeners are bound.
class Daemon {
 public:
  Daemon(const std::string& binary, const std::string& data_dir, const std::vector<std::string>& extra,
         const std::string& log) {
    std::vector<std::string> argv{binary,     "serve",       "--data-dir",  data_dir,
                                  "--listen", "127.0.0.1:0", "--log-level", "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ::unlink((data_dir + "/daemon.json").c_str());
    started_at_ = std::chrono::steady_clock::now();
    child_ = util::ChildProcess({argv, log, log});
    // daemon.json {"capf":[{"port":N}]} appears once the listeners are bound.
    for (int i = 0; i < 30000; ++i) {
      if (!child_.running()) {
        throw std::runtime_error("capf serve exited during start-up: " + slurp(log));
      }
      auto j = nlohmann::json::parse(slurp(data_dir + "/daemon.json"), nullptr, false);
      if (!j.is_discarded() && j.contains("capf") && !j["capf"].empty()) {
        port_ = j["capf"][0]["port"].get<int>();
        ready_at_ = std::chrono::steady_clock::now();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    stop();
    throw std::runtime_error("capf serve did not start within 60 s: " + slurp(log));
  }
  ~Daemon() { stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  int port() const { return port_; }
  pid_t pid() const { return child_.pid(); }
  /// When the daemon was started and when daemon.json appeared.
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  std::chrono::steady_clock::time_point ready_at() const { return ready_at_; }
  /// CPU seconds (user + system) the daemon used so far, from /proc/PID/stat.
  double cpu_seconds() const {
    std::istringstream in(slurp("/proc/" + std::to_string(pid()) + "/stat"));
    std::string field;
    double ticks = 0;
    for (int i = 1; i <= 15 && in >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  /// Context switches (voluntary + involuntary) of all the daemon's threads so far, from
  /// /proc/PID/task/*/status: each is a thread that stopped to wait for, or gave way to, another.
  std::uint64_t context_switches() const {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid()) + "/task", ec)) {
      const std::string status = slurp(task.path().string() + "/status");
      total += status_number(status, "voluntary_ctxt_switches") + status_number(status, "nonvoluntary_ctxt_switches");
    }
    return total;
  }
  /// A "VmRSS"/"VmHWM"-style line of /proc/PID/status, in KiB; 0 when absent.
  long status_kib(const std::string& field) const {
    return static_cast<long>(status_number(slurp("/proc/" + std::to_string(pid()) + "/status"), field));
  }
  /// SIGTERM and wait.
  void stop() { child_.stop(SIGTERM); }
  /// SIGKILL and wait: the crash the restart benchmark recovers from.
  void kill() { child_.stop(SIGKILL); }

 private:
  /// The number on a "Field:   123 ..." line of a /proc status text; 0 when the line is absent.
  static std::uint64_t status_number(const std::string& status, const std::string& field) {
    std::istringstream in(status);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
    return 0;
  }

  util::ChildProcess child_;
  int port_ = 0;
  std::chrono::steady_clock::time_point started_at_, ready_at_;
};

}  // namespace capf::bench
