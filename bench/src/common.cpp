// Shared helpers of the benchmarks: temporary directories, child processes, a monotonic clock,
// the calling thread's CPU clock.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "capf/bench/bench.hpp"
#include "capf/util/process.hpp"

namespace capf::bench {

TempDir::TempDir() {
  char tmpl[] = "/tmp/capf-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int run_process(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  return util::run_process({argv, out, err, /*truncate_out=*/true});
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace capf::bench
