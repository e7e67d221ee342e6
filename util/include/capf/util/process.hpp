// Child processes started without a shell, with their output in files: the benchmarks' `capf
// serve` and simulator, the integration tests' daemons and command lines. One launcher (Boost.
// Process underneath) in place of a fork/exec in each.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace boost::process {
class child;
}

namespace capf::util {

/// What to start and where its output goes.
struct Launch {
  /// argv[0] is a path, or a name looked up in PATH; the rest are passed as they are.
  std::vector<std::string> argv;
  /// The file standard output goes to; "" leaves it as this process has it.
  std::string out;
  /// The file standard error goes to ("" as for `out`); it may be the same file as `out`.
  std::string err;
  /// Whether `out` is emptied at start (else appended to); `err` is always appended to.
  bool truncate_out = false;
  /// The permissions of a file created for `out` or `err`.
  mode_t file_mode = 0600;
};

/// A running child. Ended with SIGTERM and waited for when this goes out of scope, unless it
/// has exited, was waited for, or was released.
class ChildProcess {
 public:
  /// Starts `launch`; throws std::runtime_error naming the program when it cannot (not found,
  /// not executable, an output file that cannot be opened).
  explicit ChildProcess(const Launch& launch);
  /// No child: running() is false, wait() returns -1.
  ChildProcess();
  ~ChildProcess();
  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess& operator=(ChildProcess&&) noexcept;

  /// The child's process id; -1 once it has been waited for or released.
  pid_t pid() const { return pid_; }
  /// Whether it still runs; false once it has exited (it is reaped then, and wait() returns at
  /// once).
  bool running();
  /// Waits for it to end; returns its exit status, or 128 + the signal that ended it.
  int wait();
  /// Sends `signal` (unless it has exited already) and waits; returns as wait() does.
  int stop(int signal = SIGTERM);
  /// Leaves the child running unowned and returns its pid: the caller waits for it with
  /// wait_exit_status().
  pid_t release();

 private:
  std::unique_ptr<boost::process::child> child_;
  pid_t pid_ = -1;
  int status_ = -1;
};

/// Waits for the process `pid` (a child of this process) to end; returns its exit status, or
/// 128 + the signal that ended it.
int wait_exit_status(pid_t pid);

/// Starts `launch` and waits for it; returns as ChildProcess::wait() does, or 127 (as a shell
/// does) when it cannot be started.
int run_process(const Launch& launch);

}  // namespace capf::util
