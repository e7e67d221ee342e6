// Batch jobs end to end: the daemon triggers simulated phones (which connect only when
// triggered) through its Apply Config URL, within a window and a rate; and a 500-phone job
// survives repeated SIGKILLs of the daemon without losing a device or issuing twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "capf/admin/http.hpp"
#include "job_fleet.hpp"

using namespace capf::it;

TEST(Job, QueryJobInAWindowWithARateCompletesOverTriggeredPhones) {
  JobFleet f;
  const auto csv = f.write_fleet_csv(40);
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv);

  // Dry run: the count and the first rows, nothing submitted.
  auto dry = cli(
      {"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--dry-run", "--data-dir", f.data});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("matched 20 devices"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("dry run: nothing submitted"), std::string::npos);
  EXPECT_EQ(cli({"job", "list", "--json", "--data-dir", f.data}).out.find("\"id\""), std::string::npos);

  // Every minute opens a 10-minute window, so the job runs now, inside a window.
  auto sub =
      cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--window", "* * * * * 10m UTC",
           "--rate", "120/min", "--burst", "2", "--max-in-flight", "4", "--data-dir", f.data});
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
  const auto csv = f.import_rows(
      "Device Name,Device Security Profile\n"
      "SEP00000B000001,Cisco 8841 - Standard SIP Non-Secure Profile\n"
      "SEP00000B000002,Cisco 8841 - Standard SIP Secure Profile\n");
  auto r = cli({"job", "submit", "--csv", csv, "--operation", "install", "--auth-mode", "string", "--string-policy",
                "unique", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("SEP00000B000002: By Authentication String cannot work"), std::string::npos) << r.out;
  const auto strings = f.dir / "strings.csv";
  r = cli({"job", "submit", "--csv", csv, "--operation", "install", "--auth-mode", "string", "--string-policy",
           "unique", "--skip-invalid", "--strings-out", strings, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto content = shell("cat '" + strings + "'").out;
  EXPECT_NE(content.find("SEP00000B000001,"), std::string::npos);
  EXPECT_EQ(shell("stat -c %a '" + strings + "'").out, "600\n");
  const std::string generated = content.substr(content.rfind(',') + 1, content.size() - content.rfind(',') - 2);
  EXPECT_EQ(r.out.find(generated), std::string::npos) << "the string must not be printed";
  EXPECT_EQ(f.daemon->log().find(generated), std::string::npos) << "the string must not be logged";
}

/// A whole number from the environment, or `fallback`.
static int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The default run (500 phones, 12 kills) is part of every test run; scripts/reliability.sh runs
// it with CAPF_CRASH_PHONES=5000 CAPF_CRASH_KILLS=100 CAPF_CRASH_RATE=2400.
TEST(Job, SurvivesRepeatedSigkillWithoutLosingOrDoubleIssuing) {
  JobFleet f;
  const int phones = env_int("CAPF_CRASH_PHONES", 500), target_kills = env_int("CAPF_CRASH_KILLS", 12);
  const int rate = env_int("CAPF_CRASH_RATE", 400);
  const auto csv = f.write_fleet_csv(phones, "DP-HQ");
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  const std::string sessions_file = f.dir / "sim-summary.json";
  f.start_sim(csv, {"--concurrency", "64", "--mic-key", "p256", "--summary-json", sessions_file});
  // The rate keeps the job running long enough for every kill to land at a random point of it.
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--max-in-flight", "40", "--rate",
                  std::to_string(rate), "--burst", "5", "--max-attempts", "50", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> pause_ms(300, 1500);
  int kills = 0;
  const auto started = std::chrono::steady_clock::now();
  for (; kills < target_kills; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    auto j = f.job(id);
    if (!j.is_discarded() && j["state"] == "completed") break;
    f.daemon->kill();
    f.daemon->restart();
  }
  auto j = f.wait_job(id, 300 + phones * 60 / rate);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  std::printf("crash test: %d SIGKILLs over %.0f s, %d devices, %zu succeeded, %zu failed\n", kills,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), phones,
              j["counts"]["succeeded"].get<std::size_t>(), j["counts"]["failed"].get<std::size_t>());
  EXPECT_EQ(kills, target_kills) << "the job finished before every kill landed; lower CAPF_CRASH_RATE";
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
  std::printf(
      "crash test: %zu devices with a delivered LSC, %d with more than one, %d LSCs signed but superseded (stale)\n",
      delivered.size(), doubles, extra_signed);
  EXPECT_EQ(doubles, 0);

  // Over each device's whole history (replaced LSCs included): every LSC capf ever recorded as
  // delivered was stored by the phone in a session that reached STORE_CERTIFICATE_RESPONSE,
  // and no such session counts twice.
  ::kill(f.sim_pid, SIGTERM);
  wait_process(f.sim_pid);
  f.sim_pid = -1;
  auto sessions = nlohmann::json::parse(shell("cat '" + sessions_file + "'").out, nullptr, false);
  ASSERT_TRUE(sessions.is_object()) << "no simulator summary";
  std::map<std::string, std::set<std::string>> stored;  // device → serials its phone stored
  std::map<std::string, int> storing_sessions;
  for (const auto& o : sessions["phones"]) {
    const std::string serial = o.value("lsc_serial", "");
    if (serial.empty()) continue;
    stored[o["device"]].insert(serial);
    ++storing_sessions[o["device"]];
  }
  std::map<std::string, int> ever_delivered;
  int not_stored = 0, too_many = 0;
  for (const auto& c : (*certs)->body["certificates"]) {
    if (c["state"] != "delivered" && c["state"] != "replaced") continue;
    ++ever_delivered[c["device"]];
    not_stored += stored[c["device"]].count(c["serial"].get<std::string>()) == 0;
  }
  std::size_t total = 0;
  for (const auto& [device, n] : ever_delivered) {
    total += static_cast<std::size_t>(n);
    too_many += n > storing_sessions[device];
  }
  std::printf(
      "crash test: %zu LSCs ever delivered over %zu devices; %d not stored by a phone, %d devices with more "
      "delivered LSCs than sessions that reached STORE_CERTIFICATE_RESPONSE\n",
      total, ever_delivered.size(), not_stored, too_many);
  EXPECT_EQ(not_stored, 0);
  EXPECT_EQ(too_many, 0);
}
