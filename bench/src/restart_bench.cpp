// Restart of a large job after SIGKILL: how long from exec to the first Apply Config the
// restarted daemon sends. Apply Config is an HTTP POST to a listener in this process, which
// notes when each arrives; phones never connect, so dispatched devices stay in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "capf/bench/bench.hpp"
#include "capf/sim/simulator.hpp"
#include "capf/util/loopback.hpp"
#include "serve_child.hpp"

namespace capf::bench {

namespace {

/// A minimal HTTP/1.1 server on 127.0.0.1:0 that answers 200 to every request and records
/// the path and the arrival time of each one.
class TriggerListener {
 public:
  TriggerListener() : listener_(512) {
    thread_ = std::thread([this] { loop(); });
  }
  ~TriggerListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return listener_.port(); }
  /// Requests received so far: (arrival, path).
  std::size_t count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_.size();
  }
  /// The arrival of the first request received at or after `since`, if any.
  std::optional<std::chrono::steady_clock::time_point> first_since(std::chrono::steady_clock::time_point since) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& h : hits_)
      if (h.first >= since) return h.first;
    return std::nullopt;
  }
  std::vector<std::string> paths() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& h : hits_) out.push_back(h.second);
    return out;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{listener_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const util::UniqueFd c(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c.valid()) serve(c.get());
    }
  }
  /// Reads one request (headers and Content-Length body), records it, answers 200.
  void serve(int c) {
    std::string req;
    char buf[4096];
    std::size_t need = std::string::npos;
    while (true) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<std::size_t>(n));
      const auto head_end = req.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      if (need == std::string::npos) {
        std::size_t body = 0;
        std::string lower = req.substr(0, head_end);
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (auto at = lower.find("content-length:"); at != std::string::npos) body = std::stoul(lower.substr(at + 15));
        need = head_end + 4 + body;
      }
      if (req.size() >= need) break;
    }
    const auto now = std::chrono::steady_clock::now();
    const auto sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hits_.emplace_back(now, req.substr(sp1 + 1, sp2 - sp1 - 1));
    }
    static const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::send(c, kOk, sizeof kOk - 1, MSG_NOSIGNAL);
  }

  util::LoopbackListener listener_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> hits_;
  std::thread thread_;
};

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

RestartResult bench_restart(std::size_t devices, std::size_t kills, const std::string& capf_binary) {
  RestartResult r;
  r.devices = devices;
  TempDir dir;
  TriggerListener listener;
  const std::string data = dir.path() + "/data";
  const std::string binary = capf_binary.empty() ? self_exe() : capf_binary;
  const std::vector<std::string> serve_args{
      "--trigger-url",     "http://127.0.0.1:" + std::to_string(listener.port()) + "/trigger/{name}",
      "--session-wait",    "3600",
      "--trigger-threads", "8"};
  auto daemon = std::make_unique<Daemon>(binary, data, serve_args, dir.path() + "/serve.log");

  const std::string csv = dir.path() + "/phones.csv";
  {
    std::ofstream out(csv);
    out << "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,EC Key Size (Bits)\n";
    for (const auto& n : sim::generated_names(devices, 0x00AB00000000ull))
      out << n << ",DP-HQ,No Pending Operation,By Null String,EC Only,256\n";
  }
  auto cli = [&](const std::vector<std::string>& args, const std::string& what) {
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--data-dir", data});
    const double t0 = now_seconds();
    if (run_process(argv, dir.path() + "/cli.out", dir.path() + "/cli.err") != 0)
      throw std::runtime_error(what + " failed: " + slurp(dir.path() + "/cli.err") + slurp(dir.path() + "/cli.out"));
    return now_seconds() - t0;
  };
  r.import_seconds = cli({"phones", "import", csv}, "capf phones import");
  // No canary: the listener plays the Apply Config endpoint and no phone ever connects.
  r.submit_seconds = cli({"job", "submit", "--where", "all", "--operation", "install", "--rate", "6000", "--burst",
                          "10", "--max-in-flight", std::to_string(devices), "--canary", "0", "--max-fail-pct", "100"},
                         "capf job submit");

  auto wait_for = [&](std::size_t hits, double seconds) {
    const double until = now_seconds() + seconds;
    while (listener.count() < hits && now_seconds() < until) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return listener.count() >= hits;
  };
  if (!wait_for(100, 60))
    throw std::runtime_error("the job dispatched nothing within 60 s: " + slurp(dir.path() + "/serve.log"));
  for (std::size_t k = 0; k < kills; ++k) {
    // Let it dispatch a little more, then crash it in the middle of its work.
    wait_for(listener.count() + 150, 30);
    r.dispatched_before.push_back(listener.count());
    daemon->kill();
    daemon.reset();
    // Requests the dead daemon had already sent are answered before the new one starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    daemon = std::make_unique<Daemon>(binary, data, serve_args, dir.path() + "/serve.log");
    const auto forked = daemon->started_at();
    r.ready_seconds.push_back(seconds_between(forked, daemon->ready_at()));
    std::optional<std::chrono::steady_clock::time_point> first;
    for (int i = 0; i < 6000 && !(first = listener.first_since(forked)); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!first) throw std::runtime_error("the restarted daemon dispatched nothing within 30 s");
    r.dispatch_seconds.push_back(seconds_between(forked, *first));
  }
  daemon->stop();
  const auto paths = listener.paths();
  r.dispatches = paths.size();
  r.distinct = std::set<std::string>(paths.begin(), paths.end()).size();
  r.worst = r.dispatch_seconds.empty() ? 0 : *std::max_element(r.dispatch_seconds.begin(), r.dispatch_seconds.end());
  return r;
}

}  // namespace capf::bench
