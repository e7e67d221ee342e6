// Shared helpers of the benchmarks: temporary directories, child processes, a monotonic clock.
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

}  // namespace capf::bench
