#include "capf/bench/cores.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace capf::bench {

std::vector<int> cores_of(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (::sched_getaffinity(tid, sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

namespace {

// 0 or errno.
int set_cpus(pid_t tid, const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  return ::sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : errno;
}

std::string list(const std::vector<int>& cpus) {
  std::string out;
  for (int c : cpus) out += fmt::format("{}{}", out.empty() ? "" : ",", c);
  return out;
}

}  // namespace

std::string CoreSplit::describe() const {
  if (!split()) return "daemon and simulator share the one core";
  return fmt::format("daemon on CPU {}, simulator on CPU {}", list(daemon), list(simulator));
}

CoreSplit split_cores() {
  const auto all = cores_of(0);
  CoreSplit s;
  if (all.size() < 2) return s;
  const auto half = static_cast<std::ptrdiff_t>(all.size() / 2);
  s.daemon.assign(all.begin(), all.begin() + half);
  s.simulator.assign(all.begin() + half, all.end());
  return s;
}

std::string pin_process(pid_t pid, const std::vector<int>& cpus) {
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const pid_t tid = static_cast<pid_t>(std::stol(name));
    // A thread that ended since the listing has nothing left to pin.
    if (const int err = set_cpus(tid, cpus); err != 0 && err != ESRCH)
      return fmt::format("thread {} of process {}: sched_setaffinity: {}", tid, pid, std::strerror(err));
  }
  if (ec) return "listing " + dir + ": " + ec.message();
  return "";
}

ThreadOnCores::ThreadOnCores(const std::vector<int>& cpus) {
  if (cpus.empty()) return;
  before_ = cores_of(0);
  if (before_.empty())
    throw std::runtime_error("sched_getaffinity of this thread failed: " + std::string(std::strerror(errno)));
  if (const int err = set_cpus(0, cpus); err != 0)
    throw std::runtime_error(
        fmt::format("putting this thread on CPU {}: sched_setaffinity: {}", list(cpus), std::strerror(err)));
  set_ = true;
}

ThreadOnCores::~ThreadOnCores() {
  if (set_) (void)set_cpus(0, before_);
}

}  // namespace capf::bench
