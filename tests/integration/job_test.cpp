// Batch jobs end to end: the daemon triggers simulated phones (which connect only when
// triggered) through its Apply Config URL, within a window and a rate; and a 500-phone job
// survives repeated SIGKILLs of the daemon without losing a device or issuing twice.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "capf/admin/http.hpp"
#include "harness.hpp"

using namespace capf::it;

namespace {

/// A daemon on a fixed loopback port whose Apply Config calls a simulator's control endpoint.
struct JobFleet {
  TempDir dir;
  std::string data = dir / "data", sim_state = dir / "sim", ca_file = dir / "capf-ca.pem";
  int capf_port = free_port(), control_port = free_port();
  std::unique_ptr<Daemon> daemon;
  int sim_pid = -1;

  explicit JobFleet(const std::vector<std::string>& extra = {}) {
    auto init = cli({"sim", "init", "--state", sim_state});
    if (init.exit_code != 0) throw std::runtime_error(init.err);
    std::vector<std::string> args{"--listen", "127.0.0.1:" + std::to_string(capf_port), "--mic-root",
                                  sim_state + "/manufacturer/capf-ca.pem", "--trigger-url",
                                  "http://127.0.0.1:" + std::to_string(control_port) + "/trigger/{name}",
                                  "--session-wait", "10", "--backoff-base", "1", "--backoff-ceiling", "2"};
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
    std::vector<std::string> args{"sim", "--server", "127.0.0.1:" + std::to_string(capf_port), "--ca", ca_file,
                                  "--csv", csv, "--state", sim_state, "--control",
                                  "127.0.0.1:" + std::to_string(control_port), "--control-port-file",
                                  dir / "control.json", "--timeout", "20"};
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
  std::string write_fleet_csv(int n, const std::string& pool_b = "DP-BRANCH") const {
    std::string rows = "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,EC Key Size (Bits)\n";
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "SEP00000A%06X", i);
      rows += std::string(name) + "," + (i % 2 ? "DP-HQ" : pool_b) + ",No Pending Operation,By Null String,EC Only,256\n";
    }
    const auto path = dir / "fleet.csv";
    std::ofstream(path) << rows;
    return path;
  }
};

std::string submitted_id(const Run& r) {
  auto lines = r.out;
  while (!lines.empty() && lines.back() == '\n') lines.pop_back();
  return lines.substr(lines.rfind('\n') + 1);
}

}  // namespace

TEST(Job, QueryJobInAWindowWithARateCompletesOverTriggeredPhones) {
  JobFleet f;
  const auto csv = f.write_fleet_csv(40);
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv);

  // Dry run: the count and the first rows, nothing submitted.
  auto dry = cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--dry-run",
                  "--data-dir", f.data});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("matched 20 devices"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("dry run: nothing submitted"), std::string::npos);
  EXPECT_EQ(cli({"job", "list", "--json", "--data-dir", f.data}).out.find("\"id\""), std::string::npos);

  // Every minute opens a 10-minute window, so the job runs now, inside a window.
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--window",
                  "* * * * * 10m UTC", "--rate", "120/min", "--burst", "2", "--max-in-flight", "4", "--data-dir",
                  f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);
  auto j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << shell("tail -20 '" + f.dir / "sim.err" + "'").out;
  EXPECT_EQ(j["counts"]["succeeded"], 20);

  auto report = cli({"job", "report", id, "--format", "csv", "--data-dir", f.data});
  ASSERT_EQ(report.exit_code, 0);
  EXPECT_EQ(std::count(report.out.begin(), report.out.end(), '\n'), 21);
  EXPECT_EQ(report.out.find(",failed,"), std::string::npos);
  auto json = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  for (const auto& d : json["devices"]) {
    EXPECT_EQ(d["state"], "succeeded");
    EXPECT_FALSE(d["serial"].get<std::string>().empty());
    EXPECT_GE(d["attempts"].get<int>(), 1);
  }
  // The other pool was not touched: its phones were never triggered.
  auto other = nlohmann::json::parse(cli({"phone", "show", "SEP00000A000000", "--json", "--data-dir", f.data}).out);
  EXPECT_TRUE(other["lsc"].is_null());
  auto one = nlohmann::json::parse(cli({"phone", "show", "SEP00000A000001", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(verify_lsc_with_openssl(f.sim_state + "/phones/SEP00000A000001.lsc.pem", f.ca_file, "SEP00000A000001"), "");
  EXPECT_EQ(one["certificates"][0]["state"], "delivered");

  // The watch shows a full bar once done.
  auto watch = cli({"job", "watch", id, "--once", "--data-dir", f.data});
  EXPECT_NE(watch.out.find("20/20 100%"), std::string::npos) << watch.out;
}

TEST(Job, RefusesAuthenticationStringsOnSecureProfilesAndHandsGeneratedStringsOutOnce) {
  JobFleet f;
  const auto csv = f.dir / "p.csv";
  std::ofstream(csv) << "Device Name,Device Security Profile\n"
                        "SEP00000B000001,Cisco 8841 - Standard SIP Non-Secure Profile\n"
                        "SEP00000B000002,Cisco 8841 - Standard SIP Secure Profile\n";
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  auto r = cli({"job", "submit", "--csv", csv, "--operation", "install", "--auth-mode", "string", "--string-policy",
                "unique", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("SEP00000B000002: By Authentication String cannot work"), std::string::npos) << r.out;
  const auto strings = f.dir / "strings.csv";
  r = cli({"job", "submit", "--csv", csv, "--operation", "install", "--auth-mode", "string", "--string-policy", "unique",
           "--skip-invalid", "--strings-out", strings, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto content = shell("cat '" + strings + "'").out;
  EXPECT_NE(content.find("SEP00000B000001,"), std::string::npos);
  EXPECT_EQ(shell("stat -c %a '" + strings + "'").out, "600\n");
  const std::string generated = content.substr(content.rfind(',') + 1, content.size() - content.rfind(',') - 2);
  EXPECT_EQ(r.out.find(generated), std::string::npos) << "the string must not be printed";
  EXPECT_EQ(f.daemon->log().find(generated), std::string::npos) << "the string must not be logged";
}

TEST(Job, SurvivesRepeatedSigkillWithoutLosingOrDoubleIssuing) {
  JobFleet f;
  const int phones = 500;
  const auto csv = f.write_fleet_csv(phones, "DP-HQ");
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv, {"--concurrency", "64"});
  // 400/min keeps the job running long enough for a dozen kills at random points.
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--max-in-flight", "40", "--rate",
                  "400", "--burst", "5", "--max-attempts", "50", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> pause_ms(300, 1500);
  int kills = 0;
  for (; kills < 12; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    auto j = f.job(id);
    if (!j.is_discarded() && j["state"] == "completed") break;
    f.daemon->kill();
    f.daemon->restart();
  }
  auto j = f.wait_job(id, 300);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  std::printf("crash test: %d SIGKILLs, %d devices, %zu succeeded, %zu failed\n", kills, phones,
              j["counts"]["succeeded"].get<std::size_t>(), j["counts"]["failed"].get<std::size_t>());
  EXPECT_GE(kills, 10) << "the job finished before ten kills; make it longer";
  EXPECT_EQ(j["devices"], phones);
  EXPECT_EQ(j["counts"]["succeeded"], phones);

  // Exactly one delivered LSC per device, and no device without one.
  auto token = shell("cat '" + f.data + "/admin.token'").out;
  auto certs = capf::admin::call_daemon(f.data + "/admin.sock", token, {"GET", "/v1/certificates", "", "test"});
  ASSERT_TRUE(certs.ok() && certs->has_value());
  std::map<std::string, int> delivered, issued_total;
  for (const auto& c : (*certs)->body["certificates"]) {
    ++issued_total[c["device"]];
    if (c["state"] == "delivered") ++delivered[c["device"]];
  }
  EXPECT_EQ(delivered.size(), static_cast<std::size_t>(phones));
  int doubles = 0, extra_signed = 0;
  for (const auto& [device, n] : delivered) doubles += n != 1;
  for (const auto& [device, n] : issued_total) extra_signed += n - 1;
  std::printf("crash test: %zu devices with a delivered LSC, %d with more than one, %d LSCs signed but superseded (stale)\n",
              delivered.size(), doubles, extra_signed);
  EXPECT_EQ(doubles, 0);
}
