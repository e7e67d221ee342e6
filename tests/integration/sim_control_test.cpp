// The simulator's control endpoint: phones wait until triggered over HTTP, as real phones wait
// for "Apply Config"; only the triggered ones enroll.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "capf/net/http_client.hpp"
#include "harness.hpp"

using namespace capf;
using namespace capf::it;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A `capf sim --control` process; stdout and stderr go to files in the fleet's directory.
class ControlledSim {
 public:
  ControlledSim(const Fleet& f, const std::string& csv, const std::vector<std::string>& extra)
      : out_(f.dir / "sim-control.out"), err_(f.dir / "sim-control.err"), summary_(f.dir / "sim-summary.json") {
    const auto port_file = f.dir / "control-port.json";
    std::vector<std::string> argv{CAPF_BINARY,
                                  "sim",
                                  "--server",
                                  f.daemon->address(),
                                  "--ca",
                                  f.ca_file,
                                  "--csv",
                                  csv,
                                  "--state",
                                  f.sim_state,
                                  "--timeout",
                                  "30",
                                  "--control",
                                  "127.0.0.1:0",
                                  "--control-port-file",
                                  port_file,
                                  "--summary-json",
                                  summary_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(o, 1);
      ::dup2(e, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    // The port file appears once the phones have booted and the endpoint listens.
    for (int i = 0; i < 1500 && port_ == 0; ++i) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("capf sim --control exited during start-up:\n" + slurp(err_));
      }
      auto j = nlohmann::json::parse(slurp(port_file), nullptr, false);
      if (!j.is_discarded() && j.contains("port"))
        port_ = j["port"].get<int>();
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (port_ == 0) throw std::runtime_error("capf sim --control wrote no port file:\n" + slurp(err_));
  }
  ~ControlledSim() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }

  /// POST /trigger/NAME.
  net::HttpResponse trigger(const std::string& name) const {
    net::HttpRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/trigger/" + name;
    req.body = R"({"device":")" + name + R"(","job":"it"})";
    auto r = net::http_request(req);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : net::HttpResponse{};
  }
  /// GET /status.
  nlohmann::json status() const {
    net::HttpRequest req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/status";
    auto r = net::http_request(req);
    EXPECT_TRUE(r) << r.error().message;
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json{};
  }
  /// Waits for the idle exit (at most `seconds`); returns the exit code, or -1 when it hung.
  int wait_exit(int seconds) {
    for (int i = 0; i < seconds * 50; ++i) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  /// SIGTERM, then wait_exit.
  int terminate(int seconds) {
    ::kill(pid_, SIGTERM);
    return wait_exit(seconds);
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  nlohmann::json summary() const { return nlohmann::json::parse(slurp(summary_), nullptr, false); }

 private:
  std::string out_, err_, summary_;
  int pid_ = -1;
  int status_ = 0;
  int port_ = 0;
};

std::string five_phones() {
  std::string csv = kCsvHeader;
  for (int i = 1; i <= 5; ++i)
    csv += "SEP0000000000C" + std::to_string(i) + ",DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n";
  return csv;
}

}  // namespace

TEST(SimControl, OnlyTriggeredPhonesEnroll) {
  Fleet f;
  const auto csv = f.write_csv("five.csv", five_phones());
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ControlledSim sim(f, csv, {"--idle-exit", "2"});

  const std::vector<std::string> triggered{"SEP0000000000C1", "SEP0000000000C3", "SEP0000000000C4"};
  for (const auto& name : triggered) {
    auto r = sim.trigger(name);
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false)["accepted"], name) << r.body;
  }
  auto unknown = sim.trigger("SEP0000000000FF");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(sim.status()["phones"], 5);

  const int code = sim.wait_exit(90);
  ASSERT_EQ(code, 0) << sim.out() << sim.err();
  EXPECT_NE(sim.out().find("capf sim: control endpoint http://127.0.0.1:"), std::string::npos) << sim.out();
  EXPECT_NE(sim.out().find("/trigger/{name}"), std::string::npos) << sim.out();

  const auto summary = sim.summary();
  ASSERT_FALSE(summary.is_discarded()) << sim.out() << sim.err();
  EXPECT_EQ(summary["phones"].size(), 3u) << summary.dump(2);
  EXPECT_EQ(summary["enrollments"], 3) << summary.dump(2);
  for (const auto& name : triggered) {
    EXPECT_EQ(result_of(summary, name), "installed");
    auto p = f.phone(name);
    EXPECT_EQ(p["status"], "success") << p.dump(2);
    ASSERT_TRUE(p["lsc"].is_object()) << p.dump(2);
    ASSERT_FALSE(p["certificates"].empty()) << p.dump(2);
    EXPECT_EQ(p["certificates"][0]["state"], "delivered");
    EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file(name), f.ca_file, name), "");
  }
  for (const std::string name : {"SEP0000000000C2", "SEP0000000000C5"}) {
    auto p = f.phone(name);
    EXPECT_EQ(p["status"], "pending") << p.dump(2);
    EXPECT_TRUE(p["lsc"].is_null()) << p.dump(2);
    EXPECT_EQ(result_of(summary, name), "(not in summary)");
  }
}

TEST(SimControl, InjectedFailuresAnswer503WithRetryAfter) {
  Fleet f;
  const auto csv = f.write_csv("five.csv", five_phones());
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ControlledSim sim(f, csv, {"--idle-exit", "2", "--fail-percent", "100"});

  for (const std::string name : {"SEP0000000000C1", "SEP0000000000C2"}) {
    auto r = sim.trigger(name);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.header("Retry-After"), "1");
  }
  auto status = sim.status();
  EXPECT_EQ(status["sessions"], 0) << status.dump();

  ASSERT_EQ(sim.wait_exit(60), 0) << sim.out() << sim.err();
  EXPECT_TRUE(sim.summary()["phones"].empty()) << sim.summary().dump(2);
  EXPECT_EQ(f.phone("SEP0000000000C1")["status"], "pending");
}

TEST(SimControl, APhoneTriggeredInSessionRunsOnceMoreAndSessionsWaitForASlot) {
  Fleet f;
  const auto csv = f.write_csv("five.csv", five_phones());
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ControlledSim sim(f, csv, {"--concurrency", "1"});  // no idle exit: runs until SIGTERM

  EXPECT_EQ(sim.trigger("SEP0000000000C1").status, 202);
  EXPECT_EQ(sim.trigger("SEP0000000000C1").status, 202);
  EXPECT_EQ(sim.trigger("SEP0000000000C2").status, 202);
  nlohmann::json status;
  for (int i = 0; i < 3000; ++i) {
    status = sim.status();
    ASSERT_LE(status["in_session"].get<int>(), 1) << status.dump();
    if (status["sessions"] == 3 && status["in_session"] == 0 && status["queued"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(status["sessions"], 3) << status.dump();
  ASSERT_EQ(sim.terminate(30), 0) << sim.out() << sim.err();

  const auto summary = sim.summary();
  ASSERT_EQ(summary["phones"].size(), 3u) << summary.dump(2);
  int c1 = 0;
  for (const auto& p : summary["phones"]) c1 += p["device"] == "SEP0000000000C1";
  EXPECT_EQ(c1, 2) << summary.dump(2);
  EXPECT_EQ(summary["enrollments"], 2) << summary.dump(2);  // C1's second session finds nothing armed
  EXPECT_EQ(f.phone("SEP0000000000C1")["status"], "success");
  EXPECT_EQ(f.phone("SEP0000000000C2")["status"], "success");
}

TEST(SimControl, SigtermDuringSessionsExitsCleanly) {
  Fleet f;
  const auto csv = f.write_csv("five.csv", five_phones());
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ControlledSim sim(f, csv, {});
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(sim.trigger("SEP0000000000C" + std::to_string(i)).status, 202);
  // Sessions still running are abandoned, as phones losing power; the process still ends well.
  EXPECT_EQ(sim.terminate(30), 0) << sim.out() << sim.err();
  EXPECT_FALSE(sim.summary().is_discarded()) << sim.out() << sim.err();
}

TEST(SimControl, RefusesANonLoopbackAddress) {
  Fleet f;
  const auto csv = f.write_csv(
      "one.csv", std::string(kCsvHeader) + "SEP0000000000C9,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  auto r = cli({"sim", "--server", f.daemon->address(), "--ca", f.ca_file, "--csv", csv, "--state", f.sim_state,
                "--control", "0.0.0.0:0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("loopback"), std::string::npos) << r.err;
}
