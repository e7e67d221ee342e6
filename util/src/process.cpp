#include "capf/util/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/search_path.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "capf/util/unique_fd.hpp"

namespace capf::util {

namespace bp = boost::process;

namespace {

int open_output(const std::string& path, bool truncate, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), mode);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

/// In the child, between fork and exec: standard output and error onto the files. dup2 is
/// async-signal-safe, and the copies it makes are not close-on-exec.
struct RedirectOutput : bp::extend::handler {
  int out = -1;
  int err = -1;
  template <class Executor>
  void on_exec_setup(Executor&) const {
    if (out >= 0) ::dup2(out, STDOUT_FILENO);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
  }
};

/// The exit status of a waitpid() status: the code, or 128 + the signal.
int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/// argv[0] as a path: itself when it has a slash, else found in PATH (as execvp would).
boost::filesystem::path executable(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  auto found = bp::search_path(program);
  if (found.empty()) throw std::runtime_error(program + ": not found in PATH");
  return found;
}

}  // namespace

ChildProcess::ChildProcess(const Launch& launch) {
  if (launch.argv.empty()) throw std::runtime_error("no program to start");
  // Opened close-on-exec, so only the dup2 of RedirectOutput reaches the child (and no other
  // child started meanwhile inherits them); closed here once the child has its copies.
  UniqueFd out, err;
  if (!launch.out.empty()) out.reset(open_output(launch.out, launch.truncate_out, launch.file_mode));
  if (!launch.err.empty() && launch.err != launch.out) err.reset(open_output(launch.err, false, launch.file_mode));
  RedirectOutput redirect;
  redirect.out = out.get();
  redirect.err = launch.err.empty() ? -1 : (launch.err == launch.out ? out.get() : err.get());
  const std::vector<std::string> args(launch.argv.begin() + 1, launch.argv.end());
  std::error_code ec;
  child_ = std::make_unique<bp::child>(bp::exe = executable(launch.argv[0]), bp::args = args, redirect, ec);
  if (ec || !child_->valid()) throw std::runtime_error(launch.argv[0] + ": cannot start: " + ec.message());
  pid_ = child_->id();
}

ChildProcess::ChildProcess() = default;

ChildProcess::~ChildProcess() {
  if (pid_ > 0) stop(SIGTERM);
}

ChildProcess::ChildProcess(ChildProcess&&) noexcept = default;

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) stop(SIGTERM);
    child_ = std::move(other.child_);
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  std::error_code ec;
  if (child_->running(ec)) return true;
  status_ = decode(child_->native_exit_code());
  pid_ = -1;
  return false;
}

int ChildProcess::wait() {
  if (pid_ <= 0) return status_;
  std::error_code ec;
  child_->wait(ec);
  status_ = ec ? -1 : decode(child_->native_exit_code());
  pid_ = -1;
  return status_;
}

int ChildProcess::stop(int signal) {
  if (running()) ::kill(pid_, signal);
  return wait();
}

pid_t ChildProcess::release() {
  const pid_t pid = pid_;
  if (child_) child_->detach();
  pid_ = -1;
  return pid;
}

int wait_exit_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return decode(status);
}

int run_process(const Launch& launch) {
  try {
    return ChildProcess(launch).wait();
  } catch (const std::runtime_error&) {
    return 127;
  }
}

}  // namespace capf::util
