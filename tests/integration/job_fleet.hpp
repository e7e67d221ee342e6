// A daemon whose Apply Config calls a simulator's control endpoint: phones connect only when
// the job engine triggers them. Shared by the job and CA-mode integration tests.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace capf::it {

/// A daemon on a fixed loopback port whose Apply Config calls a simulator's control endpoint.
struct JobFleet {
  TempDir dir;
  std::string data = dir / "data", sim_state = dir / "sim", ca_file = dir / "capf-ca.pem";
  int capf_port = free_port(), control_port = free_port();
  std::unique_ptr<Daemon> daemon;
  int sim_pid = -1;

  /// `session_wait`: seconds a triggered phone has to finish its session (short, so retries show).
  explicit JobFleet(const std::vector<std::string>& extra = {}, int session_wait = 10) {
    auto init = cli({"sim", "init", "--state", sim_state});
    if (init.exit_code != 0) throw std::runtime_error(init.err);
    std::vector<std::string> args{
        "--listen",          "127.0.0.1:" + std::to_string(capf_port),
        "--mic-root",        sim_state + "/manufacturer/capf-ca.pem",
        "--trigger-url",     "http://127.0.0.1:" + std::to_string(control_port) + "/trigger/{name}",
        "--session-wait",    std::to_string(session_wait),
        "--backoff-base",    "1",
        "--backoff-ceiling", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon = std::make_unique<Daemon>(data, args);
    std::ofstream(ca_file) << cli({"ca", "show", "--pem", "--data-dir", data}).out;
  }
  ~JobFleet() {
    if (sim_pid > 0) {
      ::kill(sim_pid, SIGTERM);
      wait_process(sim_pid);
    }
  }
  void start_sim(const std::string& csv, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"sim",
                                  "--server",
                                  "127.0.0.1:" + std::to_string(capf_port),
                                  "--ca",
                                  ca_file,
                                  "--csv",
                                  csv,
                                  "--state",
                                  sim_state,
                                  "--control",
                                  "127.0.0.1:" + std::to_string(control_port),
                                  "--control-port-file",
                                  dir / "control.json",
                                  "--timeout",
                                  "20"};
    args.insert(args.end(), extra.begin(), extra.end());
    sim_pid = spawn_capf(args, dir / "sim.out", dir / "sim.err");
    for (int i = 0; i < 3000 && shell("cat '" + dir / "control.json" + "' 2>/dev/null").out.empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  nlohmann::json job(const std::string& id) const {
    auto r = cli({"job", "show", id, "--json", "--data-dir", data});
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  /// Polls until the job is completed or `seconds` pass.
  nlohmann::json wait_job(const std::string& id, int seconds) const {
    nlohmann::json j;
    for (int i = 0; i < seconds * 5; ++i) {
      j = job(id);
      if (!j.is_discarded() && j["state"] == "completed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return j;
  }
  /// Writes `rows` (a header line, then one phone a line) to DIR/p.csv and imports them with
  /// `capf phones import`; the file's path, for the simulator. Throws (ending the test) when
  /// the import fails.
  std::string import_rows(const std::string& rows) const {
    const auto path = dir / "p.csv";
    std::ofstream(path) << rows;
    const auto r = cli({"phones", "import", path, "--data-dir", data});
    if (r.exit_code != 0) throw std::runtime_error("capf phones import failed: " + r.out + r.err);
    return path;
  }
  std::string write_fleet_csv(int n, const std::string& pool_b = "DP-BRANCH") const {
    std::string rows =
        "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,EC Key Size (Bits)\n";
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "SEP00000A%06X", i);
      rows +=
          std::string(name) + "," + (i % 2 ? "DP-HQ" : pool_b) + ",No Pending Operation,By Null String,EC Only,256\n";
    }
    const auto path = dir / "fleet.csv";
    std::ofstream(path) << rows;
    return path;
  }
};

/// The job id `capf job submit` printed on its last line.
inline std::string submitted_id(const Run& r) {
  auto lines = r.out;
  while (!lines.empty() && lines.back() == '\n') lines.pop_back();
  return lines.substr(lines.rfind('\n') + 1);
}

}  // namespace capf::it
