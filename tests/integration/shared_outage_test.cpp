// Shared outages are not device failures, over real processes: the Apply Config endpoint (a
// simulator's control port) refuses connections for a while, the job waits and shows why, and
// once the endpoint is back the job completes with nothing failed and no attempt spent during
// the outage; a device's own failure still fails that device alone; expiry notices wait for an
// SMTP server (a real aiosmtpd) that is down and go out by themselves once it is back.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "capf/util/time.hpp"
#include "job_fleet.hpp"
#include "lifecycle_support.hpp"

using namespace capf::it;

namespace {

using Steady = std::chrono::steady_clock;

/// Short probe intervals, so that an outage of a few seconds sees several probes.
const std::vector<std::string> kQuickBreaker{"--breaker-probe-base", "1", "--breaker-probe-ceiling", "2"};

/// Polls `capf job show --json` until `done(job)` or `seconds` pass; returns the last answer.
template <class F>
nlohmann::json poll_job(const JobFleet& f, const std::string& id, int seconds, F done) {
  nlohmann::json j;
  const auto until = Steady::now() + std::chrono::seconds(seconds);
  while (Steady::now() < until) {
    j = f.job(id);
    if (!j.is_discarded() && done(j)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return j;
}

/// The audit entries of the daemon whose action starts with `prefix`.
nlohmann::json audit(const JobFleet& f, const std::string& prefix) {
  auto r = cli({"audit", "list", "--action", prefix, "--json", "--data-dir", f.data});
  return nlohmann::json::parse(r.out, nullptr, false);
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

double since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

}  // namespace

TEST(Breaker, TheApplyConfigEndpointDownThenBackCompletesTheJobWithNothingFailedAndNoAttemptSpent) {
  JobFleet f(kQuickBreaker);
  const int phones = 12;
  const auto csv = f.write_fleet_csv(phones);
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  const auto t0 = Steady::now();
  // No simulator yet: every Apply Config to its control port is refused.
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  EXPECT_NE(sub.out.find("safety: canary: the first 5 devices go first"), std::string::npos) << sub.out;
  const auto id = submitted_id(sub);

  // Open between probes (a probe out has no next probe time yet).
  auto j = poll_job(f, id, 60, [](const nlohmann::json& x) {
    return x["waiting"].is_object() && x["waiting"]["next_probe"].is_string();
  });
  ASSERT_TRUE(j["waiting"].is_object()) << j.dump(2) << f.daemon->log();
  const double opened_at = since(t0);
  const std::string first_probe = j["waiting"]["next_probe"].get<std::string>();
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(f.control_port);
  EXPECT_EQ(j["state"], "active");
  EXPECT_EQ(j["waiting"]["dependency"], "apply-config");
  EXPECT_EQ(j["waiting"]["endpoint"], endpoint);
  EXPECT_EQ(j["counts"]["failed"], 0);

  // Every view says what the job waits for.
  const std::string sentence = "waiting: Apply Config endpoint " + endpoint + " unreachable since ";
  auto show = cli({"job", "show", id, "--data-dir", f.data});
  EXPECT_NE(show.out.find(sentence), std::string::npos) << show.out;
  // Between two probes the view names the next one; while a probe is out it says so.
  EXPECT_TRUE(show.out.find(", next probe at ") != std::string::npos ||
              show.out.find(", probing now") != std::string::npos)
      << show.out;
  auto watch = cli({"job", "watch", id, "--once", "--data-dir", f.data});
  EXPECT_NE(watch.out.find(" waiting  (" + sentence), std::string::npos) << watch.out;
  auto list = cli({"job", "list", "--data-dir", f.data});
  const auto row = list.out.substr(list.out.find(id), list.out.find('\n', list.out.find(id)) - list.out.find(id));
  EXPECT_NE(row.find(" waiting "), std::string::npos) << list.out;

  // Probes go and fail while the endpoint stays down: the next probe time moves on, twice.
  std::vector<std::string> probes{first_probe};
  for (int k = 0; k < 2; ++k) {
    j = poll_job(f, id, 30, [&](const nlohmann::json& x) {
      return x["waiting"].is_object() && x["waiting"]["next_probe"].is_string() &&
             x["waiting"]["next_probe"] != probes.back();
    });
    ASSERT_TRUE(j["waiting"].is_object()) << j.dump(2);
    ASSERT_NE(j["waiting"]["next_probe"], probes.back()) << "no probe failed within 30 s";
    probes.push_back(j["waiting"]["next_probe"].get<std::string>());
  }
  auto report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  for (const auto& d : report["devices"]) {
    EXPECT_EQ(d["attempts"], 0) << d.dump() << ": an attempt was spent while the endpoint was down";
    EXPECT_EQ(d["state"], "queued") << d.dump();
  }

  // The endpoint comes back: the next probe closes the breaker and the job resumes by itself.
  const double up_at = since(t0);
  f.start_sim(csv);
  const double listening_at = since(t0);
  j = f.wait_job(id, 120);
  const double completed_at = since(t0);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << f.daemon->log();
  EXPECT_EQ(j["counts"]["succeeded"], phones);
  EXPECT_EQ(j["counts"]["failed"], 0);
  EXPECT_TRUE(j["waiting"].is_null());
  report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  for (const auto& d : report["devices"]) {
    EXPECT_EQ(d["state"], "succeeded") << d.dump();
    EXPECT_EQ(d["attempts"], 1) << d.dump() << ": one attempt, the one that got through";
    EXPECT_EQ(verify_lsc_with_openssl(f.sim_state + "/phones/" + d["device"].get<std::string>() + ".lsc.pem", f.ca_file,
                                      d["device"]),
              "");
  }
  const auto down = audit(f, "dependency.down");
  const auto up = audit(f, "dependency.up");
  ASSERT_EQ(down.size(), 1u) << down.dump(2);
  ASSERT_EQ(up.size(), 1u) << up.dump(2);
  EXPECT_EQ(down[0]["subject"], "apply-config");

  // The timeline of the outage, for the record (seconds since the job was submitted, and the
  // daemon's own times).
  std::printf("outage timeline: endpoint down from the start (no listener on %s)\n", endpoint.c_str());
  std::printf("outage timeline: +%.1f s breaker open, seen by job show (daemon: %s, %s)\n", opened_at,
              down[0]["time"].get<std::string>().c_str(), down[0]["detail"].get<std::string>().c_str());
  std::printf("outage timeline: probes due %s, %s, %s (each failed: the next moved on)\n", probes[0].c_str(),
              probes[1].c_str(), probes[2].c_str());
  const auto log = f.daemon->log();
  const auto sent = occurrences(log, "probing the Apply Config endpoint");
  const auto failed = occurrences(log, "probe failed: Apply Config");
  std::printf("outage timeline: +%.1f s simulator starting, +%.1f s its endpoint listening\n", up_at, listening_at);
  std::printf("outage timeline: %zu probes sent, %zu failed (daemon log)\n", sent, failed);
  std::printf("outage timeline: breaker closed at %s (%s)\n", up[0]["time"].get<std::string>().c_str(),
              up[0]["detail"].get<std::string>().c_str());
  std::printf("outage timeline: +%.1f s job completed (daemon: %s): %d succeeded, 0 failed, 1 attempt each\n",
              completed_at, j["finished_at"].get<std::string>().c_str(), phones);
}

TEST(Breaker, ADevicesOwnFailureFailsThatDeviceAloneAndOpensNothing) {
  JobFleet f(kQuickBreaker);
  const int phones = 12;
  const auto csv = f.write_fleet_csv(phones);
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  // The simulator knows every phone but the second: its Apply Config answers 404.
  std::string rows;
  {
    auto all = shell("cat '" + csv + "'").out;
    const std::string missing = "SEP00000A000001,";
    const auto at = all.find(missing);
    ASSERT_NE(at, std::string::npos);
    rows = all.substr(0, at) + all.substr(all.find('\n', at) + 1);
  }
  const auto sim_csv = f.dir / "sim.csv";
  std::ofstream(sim_csv) << rows;
  f.start_sim(sim_csv);
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  const auto id = submitted_id(sub);
  auto j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  EXPECT_EQ(j["counts"]["succeeded"], phones - 1);
  EXPECT_EQ(j["counts"]["failed"], 1);
  auto report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  for (const auto& d : report["devices"]) {
    if (d["device"] != "SEP00000A000001") continue;
    EXPECT_EQ(d["state"], "failed");
    EXPECT_NE(d["reason"].get<std::string>().find("HTTP 404"), std::string::npos) << d.dump();
  }
  EXPECT_TRUE(audit(f, "dependency.").empty()) << audit(f, "dependency.").dump(2);
}

TEST(Breaker, TheSmtpServerDownThenBackSendsTheWaitingNoticesByItself) {
  Fleet f({"--validity-days", "9", "--monitor-first-check", "3600", "--breaker-probe-base", "1",
           "--breaker-probe-ceiling", "2"});
  std::string rows = kCsvHeader;
  for (int i = 1; i <= 4; ++i)
    rows += "SEP0000000004A" + std::to_string(i) + ",DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n";
  const auto csv = f.write_csv("p.csv", rows);
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.sim_csv(csv)["enrollments"], 4);
  const int smtp_port = free_port();  // nothing listens there yet
  const std::string server = "smtp://127.0.0.1:" + std::to_string(smtp_port);
  ASSERT_EQ(f.daemon->stop(), 0);
  set_service_params(f.data, [&](capf::ServiceParams& p) {
    p.expiry_notice_days = 30;
    p.notify_email = "pki-team@example.com";
    p.smtp_url = server;
    p.smtp_from = "capf@example.com";
  });
  f.daemon->restart();

  // Four LSCs due: three refusals in a row open the breaker, the fourth notice waits for it.
  auto run = cli({"monitor", "run-now", "--json", "--data-dir", f.data});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  auto report = nlohmann::json::parse(run.out);
  ASSERT_EQ(report["notices"].size(), 4u) << run.out;
  EXPECT_EQ(report["notices_sent"], 0);
  ASSERT_TRUE(report["waiting"].is_string()) << run.out;
  EXPECT_EQ(report["waiting"].get<std::string>().rfind("waiting: SMTP server " + server + " unreachable since ", 0), 0u)
      << report["waiting"];
  EXPECT_EQ(report["notices"][3]["error"].get<std::string>().rfind("waiting: SMTP server", 0), 0u) << run.out;
  const auto next_check = capf::util::parse_iso8601(report["next_check"].get<std::string>());
  const auto at = capf::util::parse_iso8601(report["at"].get<std::string>());
  ASSERT_TRUE(next_check && at);
  EXPECT_LE(*next_check - *at, 3) << "the next check is the breaker's probe, not tomorrow's check";
  auto text = cli({"monitor", "status", "--data-dir", f.data});
  EXPECT_NE(text.out.find("waiting: SMTP server " + server + " unreachable since "), std::string::npos) << text.out;

  // The server comes up; the monitor's own loop probes it and sends what waited.
  SmtpServer smtp(f.dir / "maildir", smtp_port);
  const auto until = Steady::now() + std::chrono::seconds(60);
  while (smtp.messages().size() < 4 && Steady::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto mail = smtp.messages();
  ASSERT_EQ(mail.size(), 4u) << f.daemon->log();
  for (int i = 1; i <= 4; ++i) {
    // Valid 9 days, checked within seconds of issuance: days are counted up (monitor.cpp), so 9.
    const std::string subject = "Subject: [capf] LSC of SEP0000000004A" + std::to_string(i) + " expires in 9 days";
    std::size_t n = 0;
    for (const auto& m : mail) n += m.find(subject) != std::string::npos;
    EXPECT_EQ(n, 1u) << subject;
  }
  auto status = nlohmann::json::parse(cli({"monitor", "status", "--json", "--data-dir", f.data}).out);
  EXPECT_TRUE(status["waiting"].is_null()) << status.dump(2);
  EXPECT_EQ(status["notices_sent"], 4) << status.dump(2);
  auto down =
      nlohmann::json::parse(cli({"audit", "list", "--action", "dependency.down", "--json", "--data-dir", f.data}).out);
  auto up =
      nlohmann::json::parse(cli({"audit", "list", "--action", "dependency.up", "--json", "--data-dir", f.data}).out);
  ASSERT_EQ(down.size(), 1u) << down.dump(2);
  ASSERT_EQ(up.size(), 1u) << up.dump(2);
  EXPECT_EQ(down[0]["subject"], "smtp");
  EXPECT_EQ(up[0]["subject"], "smtp");
}
