// Containment (issue 18): a throw inside each boundary of the daemon — the CAPF accept loop,
// a CAPF session's coroutine, its worker-pool call, an Apply Config task, the engine's round, the certificate
// monitor's check, an admin request, a dashboard request — ends only that piece of work, with
// a log line, and the daemon goes on serving phones. The faults are armed with the
// CAPF_FAULT_FOR_TEST seam (each fires once); the Online CA's boundaries are in online_ca_hostile_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <fstream>

#include "capf/net/http_client.hpp"
#include "job_fleet.hpp"

using namespace capf::it;

namespace {

std::string slurp(const std::string& path) {
  return shell("cat '" + path + "' 2>/dev/null").out;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Containment, AThrowInEachBoundaryEndsOnlyItsWorkAndPhonesAreStillServed) {
  const std::string session_dev = "SEP00000A000000", step_dev = "SEP00000A000001", trigger_dev = "SEP00000A000002";
  ::setenv("CAPF_FAULT_FOR_TEST",
           ("session=" + session_dev + ",session-step=" + step_dev + ",trigger=" + trigger_dev +
            ",accept,engine,monitor,admin=/v1/phones,web=/app.css")
               .c_str(),
           1);
  std::unique_ptr<JobFleet> made;
  try {
    made = std::make_unique<JobFleet>(std::vector<std::string>{"--web", "127.0.0.1:0", "--monitor-first-check", "0"});
  } catch (...) {
    ::unsetenv("CAPF_FAULT_FOR_TEST");
    throw;
  }
  ::unsetenv("CAPF_FAULT_FOR_TEST");
  JobFleet& f = *made;

  // Admin: the first request to the faulted route is answered 500 with a reason; the next one works.
  auto first = cli({"phones", "list", "--json", "--data-dir", f.data});
  EXPECT_NE(first.exit_code, 0);
  EXPECT_NE((first.out + first.err).find("internal error while answering GET /v1/phones"), std::string::npos)
      << first.out << first.err;
  auto second = cli({"phones", "list", "--json", "--data-dir", f.data});
  EXPECT_EQ(second.exit_code, 0) << second.err;

  // Dashboard: the same for a page.
  auto info = nlohmann::json::parse(slurp(f.data + "/daemon.json"));
  std::string base = info["web"].get<std::string>();
  base.pop_back();
  capf::net::HttpRequest page;
  page.method = "GET";
  page.url = base + "/app.css";
  page.ca_pem = slurp(f.data + "/ca/capf-ca.pem");
  auto broken = capf::net::http_request(page);
  ASSERT_TRUE(broken) << broken.error().message;
  EXPECT_EQ(broken->status, 500) << broken->body;
  EXPECT_NE(broken->body.find("internal error"), std::string::npos) << broken->body;
  auto fine = capf::net::http_request(page);
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);

  // Phones: a job over four; three meet a fault once (session start, its authentication step, Apply Config), and
  // the first connection of all is dropped at accept; they are retried by the job's rules and
  // enroll like the rest.
  const auto csv = f.write_fleet_csv(4);
  ASSERT_EQ(cli({"phones", "import", csv, "--data-dir", f.data}).exit_code, 0);
  f.start_sim(csv);
  auto sub = cli({"job", "submit", "--where", "all", "--operation", "install", "--rate", "600", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.out << sub.err;
  auto j = f.wait_job(submitted_id(sub), 120);
  ASSERT_EQ(j["state"], "completed") << j.dump(2) << f.daemon->log();
  EXPECT_EQ(j["counts"]["succeeded"], 4) << j.dump(2);

  const std::string log = f.daemon->log();
  for (const std::string boundary : {"engine", "monitor", "trigger", "admin", "web", "session"})
    EXPECT_EQ(count(log, "contained at the " + boundary + " boundary"), 1) << boundary << "\n" << log;
  EXPECT_NE(log.find("accepting a CAPF connection failed: injected fault at accept"), std::string::npos) << log;
  EXPECT_NE(log.find("ended: internal error: injected fault at session (" + session_dev + ")"), std::string::npos)
      << log;
  EXPECT_NE(log.find("ended: internal error: injected fault at session-step (" + step_dev + ")"), std::string::npos)
      << log;
  auto metrics = cli({"metrics", "--data-dir", f.data}).out;
  EXPECT_NE(metrics.find("capf_contained_exceptions_total{boundary=\"trigger\"} 1"), std::string::npos) << metrics;
  EXPECT_EQ(f.daemon->stop(), 0) << "the daemon did not stop cleanly after the contained faults";
}

}  // namespace
