// Issue 19 items 4 and 6, what a phone does inside its session: a slow key generation under a
// short KeepAlive Timer (kept alive, waited for up to keygen-timeout), and a phone whose user
// aborts the operation (recorded as an abort, the operation stays armed, the job shows it).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "job_fleet.hpp"

using namespace capf::it;

namespace {

/// `capf metrics` as name{labels} → value.
std::map<std::string, double> metrics(const std::string& data) {
  std::map<std::string, double> out;
  std::istringstream in(cli({"metrics", "--data-dir", data}).out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

}  // namespace

TEST(KeepAlive, APhoneGeneratingItsKeyLongerThanTheKeepAliveIsKeptAliveNotCut) {
  // KeepAlive Timer 2 s (test override), Maximum Allowable Time For Key Generation 1 minute; the
  // phone is silent for 7 s after REQUEST_IN_PROGRESS.
  Fleet f({"--test-keep-alive-seconds", "2", "--keygen-timeout", "1"});
  const auto csv = f.write_csv(
      "p.csv", std::string(kCsvHeader) + "SEP00000019A401,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto s = f.sim_csv(csv, {"--keygen-seconds", "7"});
  ASSERT_EQ(result_of(s, "SEP00000019A401"), "installed") << s.dump(2) << f.daemon->log();
  EXPECT_EQ(verify_lsc_with_openssl(f.lsc_file("SEP00000019A401"), f.ca_file, "SEP00000019A401"), "");
  auto m = metrics(f.data);
  EXPECT_EQ(m["capf_session_failures_total{reason=\"keep_alive\"}"], 0);
  EXPECT_EQ(f.daemon->log().find("idle past keep-alive"), std::string::npos);

  // TCP keep-alive is on for CAPF connections with the KeepAlive Timer as its interval: seen on
  // the daemon's end of a session while the slow phone is in it.
  ASSERT_EQ(f.phone_set("SEP00000019A401", {"--operation", "install"}).exit_code, 0);
  const std::string summary = f.dir / "slow.json";
  const int pid = spawn_capf({"sim", "--server", f.daemon->address(), "--ca", f.ca_file, "--csv", csv, "--state",
                              f.sim_state, "--keygen-seconds", "6", "--summary-json", summary},
                             f.dir / "slow.out", f.dir / "slow.err");
  std::string sockets;
  for (int i = 0; i < 200; ++i) {
    sockets = shell("ss -tno state established '( sport = :" + std::to_string(f.daemon->port()) + " )'").out;
    if (sockets.find("keepalive") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  // Set on the listener and inherited by the accepted connection: the timer runs at the KeepAlive
  // Timer (2 s), not the kernel's default of two hours.
  const auto timer = sockets.find("timer:(keepalive,");
  ASSERT_NE(timer, std::string::npos) << sockets;
  const std::string left = sockets.substr(timer + 17, sockets.find(',', timer + 17) - timer - 17);
  EXPECT_TRUE(left.ends_with("ms") || (left.ends_with("sec") && std::stod(left) <= 2.0)) << sockets;
  EXPECT_EQ(wait_process(pid), 0);
}

TEST(PhoneAbort, AUserAbortIsRecordedWithItsReasonTheOperationStaysArmedAndTheJobShowsIt) {
  JobFleet f;
  const auto csv = f.import_rows(
      "Device Name,Device Pool,Authentication Mode,Key Order,Key Size (Bits)\n"
      "SEP00000019A601,DP-AB,By Null String,RSA Only,2048\n");

  // Armed by hand, the phone's user aborts: recorded as an abort with its reason, not as a
  // malformed message, and the operation stays armed.
  ASSERT_EQ(cli({"phone", "set", "SEP00000019A601", "--operation", "install", "--data-dir", f.data}).exit_code, 0);
  cli({"sim", "--server", "127.0.0.1:" + std::to_string(f.capf_port), "--ca", f.ca_file, "--csv", csv, "--state",
       f.sim_state, "--fault", "user-abort-at-keygen", "--timeout", "30"});
  auto p = nlohmann::json::parse(cli({"phone", "show", "SEP00000019A601", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(p["operation"], "Install/Upgrade") << "the operation stays armed";
  EXPECT_NE(p["status_reason"].get<std::string>().find("aborted by the phone: END_SESSION reason 7 (user abort)"),
            std::string::npos)
      << p.dump(2);
  const auto log = f.daemon->log();
  EXPECT_NE(log.find("aborted by the phone"), std::string::npos) << log;
  EXPECT_EQ(log.find("malformed message"), std::string::npos) << log;
  auto m = metrics(f.data);
  EXPECT_EQ(m["capf_session_failures_total{reason=\"phone_abort\"}"], 1);
  EXPECT_EQ(m["capf_session_failures_total{reason=\"malformed\"}"], 0);

  // In a job, the job shows the phone's reason.
  f.start_sim(csv, {"--fault", "user-abort-at-keygen"});
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-AB", "--operation", "install", "--max-attempts", "1",
                  "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);
  auto j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << f.daemon->log();
  EXPECT_EQ(j["counts"].value("failed", 0), 1) << j.dump(2);
  auto report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  ASSERT_EQ(report["devices"].size(), 1u) << report.dump(2);
  const std::string reason = report["devices"][0]["reason"];
  EXPECT_NE(reason.find("aborted by the phone: END_SESSION reason 7 (user abort)"), std::string::npos) << reason;

  // The user lets it run the next time: retried, the phone installs its LSC.
  ::kill(f.sim_pid, SIGTERM);
  wait_process(f.sim_pid);
  f.sim_pid = -1;
  shell("rm -f '" + f.dir / "control.json" + "'");  // start_sim waits for the new simulator's port file
  f.start_sim(csv);
  ASSERT_EQ(cli({"job", "retry", id, "--data-dir", f.data}).exit_code, 0);
  j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  EXPECT_EQ(j["counts"].value("succeeded", 0), 1) << j.dump(2);
}
