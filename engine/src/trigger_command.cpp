// Command triggers through Boost.Process v1, without a shell.
//
// Why not child::wait_for: in Boost 1.74 it swaps the process-wide SIGCHLD handler and waits in
// sigtimedwait without blocking SIGCHLD, so with several worker threads (or a child that exits
// before the wait starts) it sleeps the whole timeout. Polling running() (waitpid WNOHANG)
// between 20 ms polls of the stderr pipe is thread-safe and never blocks on the pipe, even when
// a grandchild keeps it open.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

// clang-format off
// Boost.Process pulls in parts of Asio: the project's Asio include goes first.
#include "capf/net/asio.hpp"
#include <boost/filesystem.hpp>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/group.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/search_path.hpp>
// clang-format on

#include "capf/engine/trigger.hpp"

namespace capf::engine {

namespace bp = boost::process;

namespace {

constexpr std::size_t kStderrKept = 1024;
constexpr int kExTempfail = 75;  // sysexits.h EX_TEMPFAIL: "try again later"

/// Reads what the pipe holds now without blocking; keeps the first kStderrKept bytes.
void drain(int fd, std::string& kept) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return;  // EAGAIN, EOF or error: nothing more for now
    if (kept.size() < kStderrKept) kept.append(buffer, std::min<std::size_t>(n, kStderrKept - kept.size()));
  }
}

/// "exit 3" plus the stderr head on one line.
std::string describe(const std::string& program, const std::string& what, std::string err) {
  for (auto& c : err)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!err.empty() && err.back() == ' ') err.pop_back();
  std::string out = program + ": " + what;
  if (!err.empty()) out += ": " + err;
  return out;
}

/// In the child, between fork and exec: every descriptor above stderr becomes close-on-exec,
/// so the command does not inherit the daemon's sockets and database files. (bp::limit_handles
/// in Boost 1.74 closes the stderr pipe and the exec-error pipe too.) Only a system call:
/// async-signal-safe. Kernels before 5.11 refuse the flag; the command then inherits them.
struct CloseOnExecAboveStderr : bp::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor&) const {
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  }
};

TriggerResult needs_admin(std::string detail) {
  return {TriggerOutcome::needs_admin, std::move(detail), std::nullopt};
}

}  // namespace

TriggerResult run_command_trigger(const TriggerConfig& c, const Device& d, const std::string& job) {
  // Split first, substitute second: a value with spaces or shell characters stays one argument.
  std::vector<std::string> words;
  {
    std::istringstream in(c.command);
    for (std::string word; in >> word;) words.push_back(expand(word, d, job, Escape::none));
  }
  if (words.empty() || words[0].empty()) return needs_admin("trigger command is empty");
  const std::string program = words[0];
  const std::vector<std::string> args(words.begin() + 1, words.end());

  boost::filesystem::path exe = program;
  if (program.find('/') == std::string::npos) {
    exe = bp::search_path(program);
    if (exe.empty()) return needs_admin(program + ": not found in PATH");
  }
  if (::access(exe.c_str(), X_OK) != 0) return needs_admin(exe.string() + ": " + std::strerror(errno));
  if (boost::filesystem::is_directory(exe)) return needs_admin(exe.string() + ": is a directory");

  std::unique_ptr<bp::pipe> err_pipe;
  std::unique_ptr<bp::group> group;
  std::unique_ptr<bp::child> child;
  std::error_code ec;
  try {
    err_pipe = std::make_unique<bp::pipe>();
    group = std::make_unique<bp::group>();
    child = std::make_unique<bp::child>(bp::exe = exe, bp::args = args, bp::std_in<bp::null, bp::std_out> bp::null,
                                        bp::std_err > *err_pipe, *group, CloseOnExecAboveStderr{}, ec);
  } catch (const std::exception& e) {
    return {TriggerOutcome::transient, exe.string() + ": cannot start: " + e.what(), std::nullopt};
  }
  if (ec || !child->valid()) return needs_admin(exe.string() + ": cannot run: " + ec.message());

  const int fd = err_pipe->native_source();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(c.timeout_s);
  std::string err;
  bool timed_out = false;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 20);
    drain(fd, err);
    std::error_code running_ec;
    if (!child->running(running_ec)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::error_code ignored;
      group->terminate(ignored);  // the whole process group: a shell's children too
      child->wait(ignored);
      timed_out = true;
      break;
    }
  }
  drain(fd, err);
  // A command may leave a helper running on purpose (it exited in time); only a command that
  // overran has its whole group killed.
  if (!timed_out) group->detach();

  if (timed_out)
    return {TriggerOutcome::transient,
            describe(exe.string(), "killed after " + std::to_string(c.timeout_s) + " s", err), std::nullopt};
  const int status = child->native_exit_code();
  if (WIFSIGNALED(status))
    return {TriggerOutcome::permanent,
            describe(exe.string(), "killed by signal " + std::to_string(WTERMSIG(status)), err), std::nullopt};
  const int code = child->exit_code();
  if (code == 0) return {TriggerOutcome::ok, describe(exe.string(), "exit 0", err), std::nullopt};
  if (code == kExTempfail)
    return {TriggerOutcome::transient, describe(exe.string(), "exit 75 (temporary failure)", err), std::nullopt};
  return {TriggerOutcome::permanent, describe(exe.string(), "exit " + std::to_string(code), err), std::nullopt};
}

}  // namespace capf::engine
