// Issue 19 item 10: behaviour that had no test, each against a running daemon and simulated
// phones: the shared-string policy (BAT's one string for all devices), Run Later (`--start-at`),
// a submit whose windows cannot meet the deadline (refused, then accepted with --force), and
// stale LSCs made by real sessions (a phone that loses power as its LSC arrives).
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "capf/util/time.hpp"
#include "job_fleet.hpp"

using namespace capf::it;

namespace {

/// N phones in DP-JOB, By Null String, no operation armed; returns the CSV path.
std::string fleet_csv(const JobFleet& f, int n, const std::string& file, const std::string& prefix) {
  std::string rows = "Device Name,Device Pool,Authentication Mode,Key Order,EC Key Size (Bits)\n";
  for (int i = 0; i < n; ++i) rows += prefix + std::to_string(i) + ",DP-JOB,By Null String,EC Only,256\n";
  const auto path = f.dir / file;
  std::ofstream(path) << rows;
  return path;
}

}  // namespace

TEST(JobControls, SharedStringPolicyGivesEveryDeviceOneStringHandedOutOnce) {
  JobFleet f;
  const auto csv = fleet_csv(f, 3, "fleet.csv", "SEP00000019F00");
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  const auto strings = f.dir / "shared.csv";
  auto r = cli({"job", "submit", "--where", "device_pool = DP-JOB", "--operation", "install", "--auth-mode", "string",
                "--string-policy", "shared", "--hold", "--strings-out", strings, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto id = submitted_id(r);
  // One generated string, the same for all three, only in the 0600 file.
  std::ifstream in(strings);
  std::string line, shared;
  std::getline(in, line);
  std::set<std::string> values;
  std::string sim_rows = "Device Name,Authentication Mode,Authentication String,Key Order,EC Key Size (Bits)\n";
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    values.insert(line.substr(comma + 1));
    sim_rows += line.substr(0, comma) + ",By Authentication String," + line.substr(comma + 1) + ",EC Only,256\n";
  }
  ASSERT_EQ(values.size(), 1u) << "one shared string";
  shared = *values.begin();
  EXPECT_EQ(shell("stat -c %a '" + strings + "'").out, "600\n");
  EXPECT_EQ(r.out.find(shared), std::string::npos);
  EXPECT_EQ(std::count(sim_rows.begin(), sim_rows.end(), '\n'), 4);

  // The phones' users type the one string; the job completes.
  const auto sim_csv = f.dir / "sim.csv";
  std::ofstream(sim_csv) << sim_rows;
  f.start_sim(sim_csv);
  ASSERT_EQ(cli({"job", "release", id, "--data-dir", f.data}).exit_code, 0);
  auto j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  EXPECT_EQ(j["counts"]["succeeded"], 3) << j.dump(2);
  EXPECT_EQ(f.daemon->log().find(shared), std::string::npos);

  // A shared string the administrator gives is used as it is and not written anywhere.
  r = cli({"job", "submit", "--where", "device_pool = DP-JOB", "--operation", "install", "--auth-mode", "string",
           "--string-policy", "shared", "--auth-string", "97531", "--hold", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("authentication strings"), std::string::npos) << r.out;
}

TEST(JobControls, RunLaterStartsNoPhoneBeforeItsStartTime) {
  JobFleet f;
  const auto csv = fleet_csv(f, 3, "fleet.csv", "SEP00000019F10");
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv);
  const auto start = capf::util::now() + 8;  // far enough that the check below comes first
  auto r = cli({"job", "submit", "--where", "device_pool = DP-JOB", "--operation", "install", "--start-at",
                capf::util::format_iso8601(start), "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto id = submitted_id(r);
  auto j = f.job(id);
  EXPECT_EQ(j["start_at"], capf::util::format_iso8601(start));
  EXPECT_NE(j["schedule"].get<std::string>().find("starts at " + capf::util::format_iso8601(start)), std::string::npos)
      << j.dump(2);
  EXPECT_EQ(j["counts"]["queued"], 3) << j.dump(2);

  j = f.wait_job(id, 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2);
  EXPECT_EQ(j["counts"]["succeeded"], 3);
  auto report = nlohmann::json::parse(cli({"job", "report", id, "--format", "json", "--data-dir", f.data}).out);
  for (const auto& d : report["devices"]) {
    ASSERT_TRUE(d["triggered_at"].is_string()) << d.dump();
    EXPECT_GE(*capf::util::parse_iso8601(d["triggered_at"].get<std::string>()), start) << d.dump();
  }
}

TEST(JobControls, WindowsThatCannotMeetTheDeadlineAreRefusedUnlessForced) {
  JobFleet f;
  const auto csv = fleet_csv(f, 3, "fleet.csv", "SEP00000019F20");
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  // The only window opens 12 hours from now; the deadline is in 6 hours.
  const auto now = capf::util::now();
  const int hour = static_cast<int>((now / 3600 + 12) % 24);
  const std::string window = "0 " + std::to_string(hour) + " * * * 1h UTC";
  const std::string deadline = capf::util::format_iso8601(now + 6 * 3600);
  std::vector<std::string> args{"job", "submit", "--where", "device_pool = DP-JOB", "--operation", "install",
                                "--window", window, "--completes-by", deadline, "--data-dir", f.data};
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("the windows cannot meet the deadline"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force submits anyway"), std::string::npos) << r.err;
  EXPECT_EQ(nlohmann::json::parse(cli({"job", "list", "--json", "--data-dir", f.data}).out)["jobs"].size(), 0u);

  args.insert(args.end() - 2, "--force");
  r = cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = f.job(submitted_id(r));
  EXPECT_EQ(j["completes_by"], deadline);
  EXPECT_EQ(j["devices"], 3);
}

TEST(JobControls, APhoneThatLosesPowerAsItsLscArrivesLeavesAStaleLscBehind) {
  JobFleet f;
  std::ofstream(f.dir / "armed.csv") << "Device Name,Device Pool,Certificate Operation,Authentication Mode\n"
                                        "SEP00000019F300,DP-JOB,Install/Upgrade,By Null String\n"
                                        "SEP00000019F301,DP-JOB,Install/Upgrade,By Null String\n";
  ASSERT_EQ(cli({"phones", "import", f.dir / "armed.csv", "--data-dir", f.data}).exit_code, 0);
  auto run_sim = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"sim", "--server", "127.0.0.1:" + std::to_string(f.capf_port), "--ca", f.ca_file,
                                  "--csv", f.dir / "armed.csv", "--state", f.sim_state, "--summary-json",
                                  f.dir / "summary.json", "--timeout", "30"};
    args.insert(args.end(), extra.begin(), extra.end());
    cli(args);
    return nlohmann::json::parse(shell("cat '" + f.dir / "summary.json" + "'").out);
  };
  // First sessions: the LSCs are signed and sent, and the power goes.
  auto first = run_sim({"--fault", "power-cut-at-store"});
  EXPECT_EQ(result_of(first, "SEP00000019F300"), "power-cut") << first.dump(2);
  std::map<std::string, std::string> lost;
  for (const char* d : {"SEP00000019F300", "SEP00000019F301"}) {
    auto p = nlohmann::json::parse(cli({"phone", "show", d, "--json", "--data-dir", f.data}).out);
    ASSERT_EQ(p["certificates"].size(), 1u) << p.dump(2);
    EXPECT_EQ(p["certificates"][0]["state"], "issued") << "signed, never confirmed";
    EXPECT_TRUE(p["lsc"].is_null());
    lost[d] = p["certificates"][0]["serial"];
  }
  EXPECT_TRUE(nlohmann::json::parse(cli({"stale-lsc", "list", "--json", "--data-dir", f.data}).out)["lscs"].empty());

  // The phones come back (the seed: they retry) and make new keys: the first LSCs are stale.
  auto second = run_sim({});
  EXPECT_EQ(result_of(second, "SEP00000019F300"), "installed") << second.dump(2);
  EXPECT_EQ(result_of(second, "SEP00000019F301"), "installed") << second.dump(2);
  auto stale = nlohmann::json::parse(cli({"stale-lsc", "list", "--json", "--data-dir", f.data}).out)["lscs"];
  ASSERT_EQ(stale.size(), 2u) << stale.dump(2);
  for (const auto& s : stale) EXPECT_EQ(lost[s["device"].get<std::string>()], s["serial"]) << s.dump();

  auto del = cli({"stale-lsc", "delete", "--all", "--data-dir", f.data});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_NE(del.out.find("deleted 2 stale LSCs"), std::string::npos) << del.out;
  EXPECT_TRUE(nlohmann::json::parse(cli({"stale-lsc", "list", "--json", "--data-dir", f.data}).out)["lscs"].empty());
  // What the phones hold now is untouched.
  for (const char* d : {"SEP00000019F300", "SEP00000019F301"}) {
    auto p = nlohmann::json::parse(cli({"phone", "show", d, "--json", "--data-dir", f.data}).out);
    ASSERT_FALSE(p["lsc"].is_null()) << p.dump(2);
    EXPECT_NE(p["lsc"]["serial"], lost[d]);
    EXPECT_EQ(verify_lsc_with_openssl(f.sim_state + "/phones/" + std::string(d) + ".lsc.pem", f.ca_file, d), "");
  }
}
