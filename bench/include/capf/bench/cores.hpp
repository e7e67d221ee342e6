// Which cores the enrollment benchmark's daemon and simulator run on.
//
// Phones are other machines: a daemon in the field keeps its cores' caches while they
// generate keys. On one machine the simulator's threads would otherwise take turns with the
// daemon's on the same cores and evict what the daemon had cached, so the daemon's CPU per
// enrollment would count the simulator's cache misses too.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace capf::bench {

/// The cores thread `tid` (0: the calling thread) may run on, ascending; empty when unreadable.
std::vector<int> cores_of(pid_t tid);

/// The cores this process may run on, split in two halves: the daemon's (the first half,
/// rounded down, at least one) and the simulator's (the rest). Empty halves when there is only
/// one core (or the allowed set cannot be read): then nothing is split.
struct CoreSplit {
  std::vector<int> daemon, simulator;
  bool split() const { return !daemon.empty() && !simulator.empty(); }
  /// "daemon on CPU 0, simulator on CPU 1", or why they share.
  std::string describe() const;
};
CoreSplit split_cores();

/// Puts every thread of process `pid` on `cpus` (threads it makes later inherit their maker's
/// set). Returns "" or what failed, naming the thread.
std::string pin_process(pid_t pid, const std::vector<int>& cpus);

/// The calling thread on `cpus` while this lives (threads it starts meanwhile inherit them),
/// back on the cores it had before afterwards. Does nothing for an empty set; throws
/// std::runtime_error naming the cores when the kernel refuses them.
class ThreadOnCores {
 public:
  explicit ThreadOnCores(const std::vector<int>& cpus);
  ~ThreadOnCores();
  ThreadOnCores(const ThreadOnCores&) = delete;
  ThreadOnCores& operator=(const ThreadOnCores&) = delete;

 private:
  bool set_ = false;
  std::vector<int> before_;
};

}  // namespace capf::bench
