// Integration harness: real `capf` processes on loopback in a temporary directory.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capf/util/process.hpp"
#include "capf_binary.hpp"

namespace capf::it {

/// What a finished command printed and returned.
struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs the capf binary with arguments (no shell quoting needed: arguments are passed as is).
Run cli(const std::vector<std::string>& args);
/// Runs a shell command line.
Run shell(const std::string& command_line);

/// A fresh temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A `capf serve` process on 127.0.0.1 with an ephemeral port.
class Daemon {
 public:
  /// Starts and waits until it listens; extra arguments are appended.
  Daemon(const std::string& data_dir, const std::vector<std::string>& extra = {});
  ~Daemon();
  /// SIGTERM and wait; returns the exit status.
  int stop();
  /// SIGKILL and wait.
  void kill();
  /// Starts again with the same arguments.
  void restart();
  bool running() const { return child_.pid() > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_; }
  std::string log() const;

 private:
  void start();
  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string log_;
  util::ChildProcess child_;
  int port_ = 0;
};

/// A daemon, a simulator state with its manufacturer CA trusted, and the CAPF CA file.
class Fleet {
 public:
  /// `daemon_args` are appended to `capf serve`.
  explicit Fleet(const std::vector<std::string>& daemon_args = {});
  TempDir dir;
  std::string data;       ///< data directory
  std::string sim_state;  ///< simulator state
  std::string mic_root;   ///< manufacturer CA PEM
  std::unique_ptr<Daemon> daemon;
  std::string ca_file;  ///< CAPF CA PEM

  /// Writes a CSV file under the temp dir and returns its path.
  std::string write_csv(const std::string& name, const std::string& content) const;
  /// Imports a CSV through the CLI; asserts nothing, returns the run.
  Run import(const std::string& csv_path) const;
  /// Runs the simulator over a CSV and returns its JSON summary.
  nlohmann::json sim_csv(const std::string& csv_path, const std::vector<std::string>& extra = {}) const;
  /// `capf phone show NAME --json`.
  nlohmann::json phone(const std::string& name) const;
  /// Sets a phone through the CLI; returns the run.
  Run phone_set(const std::string& name, const std::vector<std::string>& settings) const;
  /// Path of a phone's LSC PEM in the simulator state.
  std::string lsc_file(const std::string& name) const { return sim_state + "/phones/" + name + ".lsc.pem"; }
};

/// The header row of the BAT CSV used by the tests.
extern const char* const kCsvHeader;

/// Checks an LSC file with the openssl command-line tool: chain to the CA, key usage,
/// extended key usage, subject CN. Returns "" when all hold, else what failed.
std::string verify_lsc_with_openssl(const std::string& lsc_pem_path, const std::string& ca_pem_path,
                                    const std::string& device);

/// A loopback TCP port that was free a moment ago (for processes that must agree on a port
/// before either starts).
int free_port();
/// Starts capf with arguments in the background, output to files; returns its pid.
int spawn_capf(const std::vector<std::string>& args, const std::string& out, const std::string& err);
/// Waits for a process and returns its exit status (128 + signal when killed).
int wait_process(int pid);

/// Outcome of one phone in a simulator summary.
std::string result_of(const nlohmann::json& summary, const std::string& device);

}  // namespace capf::it
