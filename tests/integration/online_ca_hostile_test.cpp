// A hostile Online CA against a real daemon (issue 18): a "cfssl" on loopback that first asks to
// slow down (429) and then answers with an error code that is a string — the answer that used
// to terminate the daemon from the Online CA's thread pool. Also a throw inside the CA worker's
// pool task and inside the CA call itself (CAPF_FAULT_FOR_TEST). Each CSR ends needs-admin with
// its reason, and the daemon goes on serving phones.
#include <stdlib.h>

#include <fstream>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "job_fleet.hpp"
#include "scripted_http.hpp"

using namespace capf::it;
using capf::test::ScriptedHttp;

namespace {

void config(const JobFleet& f, const std::string& name, const std::string& value) {
  auto r = cli({"config", "set", name, value, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
}

TEST(OnlineCaHostile, AStringErrorCodeAndThrowsInTheCaWorkerEndClassifiedAndPhonesAreStillServed) {
  const std::string a = "SEP00000D000000", b = "SEP00000D000001", c = "SEP00000D000002", d = "SEP00000D000003";
  // Each CSR: first 429 (provably not processed: retried by the worker), then the poisoned answer.
  std::mutex seen_mutex;
  std::map<std::string, int> seen;
  ScriptedHttp cfssl([&](const std::string& request) {
    std::lock_guard lock(seen_mutex);
    if (seen[request]++ == 0) return ScriptedHttp::Answer{429, {{"Retry-After", "1"}}, "slow down", false, {}};
    return ScriptedHttp::json(400, R"({"success":false,"errors":[{"code":"E1","message":"no"}],"messages":[]})");
  });

  ::setenv("CAPF_FAULT_FOR_TEST", ("ca-worker=" + b + ",ca-submit=" + c).c_str(), 1);
  std::unique_ptr<JobFleet> made;
  try {
    made = std::make_unique<JobFleet>();
  } catch (...) {
    ::unsetenv("CAPF_FAULT_FOR_TEST");
    throw;
  }
  ::unsetenv("CAPF_FAULT_FOR_TEST");
  JobFleet& f = *made;

  std::string rows = "Device Name,Device Pool,Certificate Operation,Authentication Mode,Key Order,Key Size (Bits)\n";
  for (const auto& name : {a, b, c}) rows += name + ",DP-CA,No Pending Operation,By Null String,RSA Only,2048\n";
  rows += d + ",DP-HQ,No Pending Operation,By Null String,RSA Only,2048\n";
  const auto csv = f.dir / "hostile.csv";
  std::ofstream(csv) << rows;
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  config(f, "online-ca-type", "cfssl");
  config(f, "online-ca-host", "127.0.0.1");
  config(f, "online-ca-port", std::to_string(cfssl.port()));
  config(f, "online-ca-template", "phone");
  config(f, "online-ca-auth-key", "00112233445566778899aabbccddeeff");
  config(f, "online-ca-retry-base", "1");
  config(f, "online-ca-retry-ceiling", "2");
  config(f, "online-ca-scheme", "http");
  config(f, "issuer", "online-ca");
  const auto listed = cli({"config", "list", "--data-dir", f.data});
  EXPECT_NE(listed.out.find("warning: online-ca-scheme is http"), std::string::npos) << listed.out;
  f.start_sim(csv);

  auto sub = cli({"job", "submit", "--where", "device_pool = DP-CA", "--operation", "install", "--key-order", "rsa",
                  "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  auto j = f.wait_job(submitted_id(sub), 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << f.daemon->log();
  EXPECT_EQ(j["counts"].value("failed", 0), 3) << j.dump(2);

  auto list = nlohmann::json::parse(cli({"csr", "list", "--state", "all", "--json", "--data-dir", f.data}).out);
  std::map<std::string, nlohmann::json> by_device;
  for (const auto& csr : list["csrs"]) by_device[csr["device"].get<std::string>()] = csr;
  for (const auto& name : {a, b, c}) {
    ASSERT_TRUE(by_device.count(name)) << list.dump(2);
    EXPECT_EQ(by_device[name]["state"], "rejected") << by_device[name].dump(2);
    EXPECT_EQ(by_device[name].value("error_class", ""), "needs-admin") << by_device[name].dump(2);
  }
  EXPECT_NE(by_device[a].value("error", "").find("no (code not a number)"), std::string::npos) << by_device[a].dump(2);
  EXPECT_NE(by_device[b].value("error", "").find("no (code not a number)"), std::string::npos) << by_device[b].dump(2);
  EXPECT_NE(by_device[c].value("error", "").find("could not read the Online CA's answer to the submission"),
            std::string::npos)
      << by_device[c].dump(2);
  const std::string log = f.daemon->log();
  EXPECT_NE(log.find("online CA work for device " + b + " failed: injected fault at ca-worker"), std::string::npos) << log;
  EXPECT_NE(log.find("service parameters: online-ca-scheme is http"), std::string::npos) << log;

  // The daemon still serves phones: with CAPF as the issuer, the fourth one enrolls.
  config(f, "issuer", "CAPF");
  auto next = cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--key-order", "rsa",
                   "--data-dir", f.data});
  ASSERT_EQ(next.exit_code, 0) << next.out << next.err;
  auto k = f.wait_job(submitted_id(next), 120);
  ASSERT_EQ(k["state"], "completed") << k.dump(2);
  EXPECT_EQ(k["counts"].value("succeeded", 0), 1) << k.dump(2);
  EXPECT_EQ(f.daemon->stop(), 0);
}

}  // namespace
