// An Offline CA round end to end: 200 simulated phones in a job make CSRs, `capf offline
// export` writes them, another team signs them with `openssl ca` (one by the wrong CA, one with
// the wrong key, one expired), `capf offline import` brings them back (one file twice), and
// the engine triggers the phones again to collect their LSCs.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "capf/core/service_params.hpp"
#include "capf/store/store.hpp"
#include "external_ca.hpp"
#include "harness.hpp"

using namespace capf::it;

namespace {

constexpr int kPhones = 200;

std::string phone_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "SEP00000F%06X", i);
  return name;
}

/// A daemon whose Apply Config calls a simulator's control endpoint, with Offline CA as the
/// Certificate Issuer to Endpoint.
struct OfflineFleet {
  TempDir dir;
  std::string data = dir / "data", sim_state = dir / "sim", ca_file = dir / "capf-ca.pem";
  int capf_port = free_port(), control_port = free_port();
  std::unique_ptr<Daemon> daemon;
  int sim_pid = -1;

  OfflineFleet() {
    auto init = cli({"sim", "init", "--state", sim_state});
    if (init.exit_code != 0) throw std::runtime_error(init.err);
    daemon = std::make_unique<Daemon>(
        data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(capf_port), "--mic-root",
                                       sim_state + "/manufacturer/capf-ca.pem", "--trigger-url",
                                       "http://127.0.0.1:" + std::to_string(control_port) + "/trigger/{name}",
                                       "--session-wait", "30", "--backoff-base", "1", "--backoff-ceiling", "2"});
    std::ofstream(ca_file) << cli({"ca", "show", "--pem", "--data-dir", data}).out;
    // "Certificate Issuer to Endpoint" = Offline CA, in the store's service parameters.
    daemon->stop();
    {
      auto store = capf::store::Store::open(data + "/store");
      if (!store) throw std::runtime_error(store.error().message);
      capf::ServiceParams params;
      params.issuer = capf::IssuerKind::offline_ca;
      capf::store::Transition t;
      t.put_docs.push_back({capf::store::Family::params, "service", capf::encode_params(params)});
      if (auto r = (*store)->apply(t); !r) throw std::runtime_error(r.error().message);
    }
    daemon->restart();
  }
  ~OfflineFleet() {
    if (sim_pid > 0) {
      ::kill(sim_pid, SIGTERM);
      wait_process(sim_pid);
    }
  }
  /// `lsc_ca`: the external CA chain the phones accept LSCs from (their CTL).
  void start_sim(const std::string& csv, const std::string& lsc_ca) {
    sim_pid = spawn_capf({"sim", "--server", "127.0.0.1:" + std::to_string(capf_port), "--ca", ca_file, "--csv", csv,
                          "--state", sim_state, "--control", "127.0.0.1:" + std::to_string(control_port),
                          "--control-port-file", dir / "control.json", "--timeout", "30", "--lsc-ca", lsc_ca},
                         dir / "sim.out", dir / "sim.err");
    for (int i = 0; i < 3000 && shell("cat '" + dir / "control.json" + "' 2>/dev/null").out.empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  nlohmann::json cli_json(const std::vector<std::string>& args) const {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--json", "--data-dir", data});
    return nlohmann::json::parse(cli(full).out, nullptr, false);
  }
  /// Polls `capf job show` until `done(job)` or `seconds` pass.
  template <class Done>
  nlohmann::json wait_job(const std::string& id, int seconds, Done done) const {
    nlohmann::json j;
    for (int i = 0; i < seconds * 4; ++i) {
      j = cli_json({"job", "show", id});
      if (!j.is_discarded() && done(j)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return j;
  }
};

int count_of(const nlohmann::json& job, const char* state) { return job["counts"].value(state, 0); }

}  // namespace

TEST(OfflineRound, TwoHundredPhonesSignedByAnotherTeamWithFourBadFiles) {
  OfflineFleet f;
  std::string rows = "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,EC Key Size (Bits)\n";
  for (int i = 0; i < kPhones; ++i) rows += phone_name(i) + ",DP-HQ,No Pending Operation,By Null String,EC Only,256\n";
  const std::string csv = f.dir / "fleet.csv";
  std::ofstream(csv) << rows;
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  // The other team's CA exists before the round; the phones accept LSCs chaining to it.
  ExternalCa ca(f.dir / "other-team", "Other Team");
  f.start_sim(csv, ca.chain());
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--rate", "6000/min",
                  "--burst", "50", "--max-in-flight", "50", "--description", "offline round", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  std::string id = sub.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  id = id.substr(id.rfind('\n') + 1);

  // Every phone made its CSR and waits for the CA.
  auto job = f.wait_job(id, 240, [](const nlohmann::json& j) { return count_of(j, "pending-ca") == kPhones; });
  ASSERT_EQ(count_of(job, "pending-ca"), kPhones) << job.dump(2) << shell("tail -20 '" + f.dir / "sim.err" + "'").out;
  ASSERT_EQ(f.cli_json({"csr", "list"})["csrs"].size(), static_cast<std::size_t>(kPhones));

  const std::string out = f.dir / "rounds";
  auto exp = cli({"offline", "export", "--out", out, "--data-dir", f.data});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  EXPECT_NE(exp.out.find("round 1: 200 CSRs"), std::string::npos) << exp.out;
  const std::string round = out + "/round-001";
  ASSERT_TRUE(std::filesystem::exists(round + "/manifest.csv"));

  // The other team: its CA chain goes to CAPF-trust; it signs the round with `openssl ca`.
  ExternalCa stranger(f.dir / "stranger", "Stranger");
  ASSERT_EQ(cli({"trust", "upload", "--store", "capf-trust", ca.chain(), "--description",
                 "Certificate for External LSC-Signing CA", "--data-dir", f.data}).exit_code, 0);
  const std::string signed_dir = f.dir / "signed";
  std::filesystem::create_directories(signed_dir);
  const std::string wrong_ca = phone_name(10), wrong_key = phone_name(20), expired = phone_name(30), twice = phone_name(40);
  auto loop = shell("cd '" + round + "' && for f in SEP*.csr.pem; do d=${f%.csr.pem}; case $d in " + wrong_ca + "|" +
                    wrong_key + "|" + expired + ") continue;; esac; openssl ca -batch -notext -config '" + ca.dir() +
                    "/ca.cnf' -in $f -out '" + signed_dir + "'/$d.pem 2>/dev/null || echo FAIL $d; done");
  ASSERT_EQ(loop.out.find("FAIL"), std::string::npos) << loop.out;
  EXPECT_EQ(stranger.sign(round + "/" + wrong_ca + ".csr.pem", signed_dir + "/" + wrong_ca + ".pem").exit_code, 0);
  EXPECT_EQ(ca.sign(round + "/" + expired + ".csr.pem", signed_dir + "/" + expired + ".pem",
                    "-startdate 20200101000000Z -enddate 20200201000000Z").exit_code, 0);
  // A certificate for the right name over a key that is not the phone's.
  shell("cd '" + f.dir.path() + "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        " -keyout other.key -out other.csr -subj '/CN=" + wrong_key + "'");
  EXPECT_EQ(ca.sign(f.dir / "other.csr", signed_dir + "/" + wrong_key + ".pem").exit_code, 0);

  auto imp = cli({"offline", "import", signed_dir, signed_dir + "/" + twice + ".pem", "--data-dir", f.data});
  EXPECT_EQ(imp.exit_code, 1);
  EXPECT_NE(imp.out.find("imported 197, already imported 1, failed 3"), std::string::npos) << imp.out << imp.err;
  EXPECT_NE(imp.err.find(wrong_ca + ".pem: CN=" + wrong_ca), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("does not chain to CAPF-trust"), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find(wrong_key + ".pem: CN=" + wrong_key), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("is not the key of " + wrong_key), std::string::npos) << imp.err;
  EXPECT_NE(imp.err.find("expired on 2020-02-01"), std::string::npos) << imp.err;

  // The engine triggers the answered phones again; each collects its LSC.
  job = f.wait_job(id, 240, [](const nlohmann::json& j) { return count_of(j, "succeeded") == kPhones - 3; });
  ASSERT_EQ(count_of(job, "succeeded"), kPhones - 3) << job.dump(2) << shell("tail -20 '" + f.dir / "sim.err" + "'").out;
  EXPECT_EQ(count_of(job, "pending-ca"), 3);

  std::string files;
  int with_lsc = 0;
  for (int i = 0; i < kPhones; ++i) {
    const std::string name = phone_name(i);
    const std::string lsc = f.sim_state + "/phones/" + name + ".lsc.pem";
    const bool bad = name == wrong_ca || name == wrong_key || name == expired;
    EXPECT_EQ(std::filesystem::exists(lsc), !bad) << name;
    if (bad || !std::filesystem::exists(lsc)) continue;
    files += " '" + lsc + "'";
    ++with_lsc;
  }
  EXPECT_EQ(with_lsc, kPhones - 3);
  // One openssl run verifies them all against the other team's chain; a few get every check.
  auto verify = shell("openssl verify -x509_strict -purpose sslclient -CAfile '" + ca.chain() + "'" + files);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(static_cast<int>(std::count(verify.out.begin(), verify.out.end(), '\n')), kPhones - 3);
  for (const auto& name : {phone_name(0), twice, phone_name(kPhones - 1)})
    EXPECT_EQ(verify_lsc_with_openssl(f.sim_state + "/phones/" + name + ".lsc.pem", ca.chain(), name), "") << name;

  // The three others stay pending, each with its reason.
  auto pending = f.cli_json({"csr", "list"})["csrs"];
  ASSERT_EQ(pending.size(), 3u) << pending.dump(2);
  std::map<std::string, std::string> reason;
  for (const auto& c : pending) reason[c["device"]] = c["error"];
  EXPECT_NE(reason[wrong_ca].find("does not chain"), std::string::npos) << reason[wrong_ca];
  EXPECT_NE(reason[wrong_key].find("public key"), std::string::npos) << reason[wrong_key];
  EXPECT_NE(reason[expired].find("expired"), std::string::npos) << reason[expired];
}
