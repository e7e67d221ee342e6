// Administration against a running daemon: `capf config` (ranges, secrets, live changes),
// keep-alive closing an idle CAPF session, the audit trail with filters, /metrics after an
// enrollment, and `capf serve --config FILE`.
#include <array>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "capf/admin/http.hpp"
#include "capf/crypto/tls.hpp"
#include "capf/net/asio.hpp"
#include "capf/protocol/messages.hpp"
#include "harness.hpp"

using namespace capf::it;
namespace asio = capf::net::asio;

namespace {

/// Samples of a Prometheus text exposition: "name{labels}" -> value.
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(AdminOps, ConfigSetGetListWithRangesAndSecrets) {
  Fleet f;
  auto r = cli({"config", "set", "keep-alive", "61", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "capf: keep-alive must be 5–60 minutes, got 61\n");
  r = cli({"config", "set", "no-such-thing", "1", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no service parameter"), std::string::npos) << r.err;

  r = cli({"config", "set", "keep-alive", "20", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"config", "get", "keep-alive", "--data-dir", f.data});
  EXPECT_EQ(r.out, "20\n");

  // A secret through --stdin: never printed back by get, list or audit.
  r = shell(std::string("printf 'Sup3r-S3cret\\n' | '") + CAPF_BINARY + "' config set online-ca-password --stdin --data-dir '" +
            f.data + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Sup3r"), std::string::npos);
  r = cli({"config", "get", "online-ca-password", "--data-dir", f.data});
  EXPECT_EQ(r.out, "(set)\n");
  r = cli({"config", "list", "--json", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("Sup3r"), std::string::npos);
  auto list = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : list["parameters"]) by_name[p["name"]] = p;
  EXPECT_EQ(by_name["keep-alive"]["value"], "20");
  EXPECT_EQ(by_name["keep-alive"]["default"], "15");
  EXPECT_EQ(by_name["keep-alive"]["range"], "5–60");
  EXPECT_EQ(by_name["validity-days"]["display"], "Duration Of Certificate Validity");
  r = cli({"audit", "list", "--json", "--data-dir", f.data});
  EXPECT_EQ(r.out.find("Sup3r"), std::string::npos);
  EXPECT_EQ(f.daemon->log().find("Sup3r"), std::string::npos);
  r = cli({"config", "reset", "keep-alive", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(cli({"config", "get", "keep-alive", "--data-dir", f.data}).out, "15\n");

  // The parameters survive a restart and the daemon loads them.
  cli({"config", "set", "keygen-timeout", "7", "--data-dir", f.data});
  f.daemon->restart();
  EXPECT_EQ(cli({"config", "get", "keygen-timeout", "--data-dir", f.data}).out, "7\n");
}

TEST(AdminOps, ValidityChangedWhileRunningAppliesToTheNextLsc) {
  Fleet f;
  ASSERT_EQ(cli({"config", "set", "validity-days", "30", "--data-dir", f.data}).exit_code, 0);
  const auto csv = f.write_csv("one.csv", std::string(kCsvHeader) +
                                              "SEP0000000C0001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  auto summary = f.sim_csv(csv);
  ASSERT_EQ(result_of(summary, "SEP0000000C0001"), "installed") << summary.dump();
  // notAfter - notBefore of the LSC, in days, from openssl.
  auto dates = shell("openssl x509 -noout -startdate -enddate -in '" + f.lsc_file("SEP0000000C0001") + "'");
  ASSERT_EQ(dates.exit_code, 0) << dates.err;
  auto days = shell("s=$(date -d \"$(openssl x509 -noout -startdate -in '" + f.lsc_file("SEP0000000C0001") +
                    "' | cut -d= -f2)\" +%s); e=$(date -d \"$(openssl x509 -noout -enddate -in '" +
                    f.lsc_file("SEP0000000C0001") + "' | cut -d= -f2)\" +%s); echo $(( (e - s) / 86400 ))");
  EXPECT_EQ(days.out, "30\n") << dates.out;
  EXPECT_NE(f.daemon->log().find("service parameters applied: validity 30 days"), std::string::npos);
}

TEST(AdminOps, KeepAliveClosesAnIdleSession) {
  // Test-only override: the keep-alive in seconds, so the close comes before the 30 s step timeout.
  Fleet f({"--test-keep-alive-seconds", "2", "--step-timeout", "30"});
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  ASSERT_TRUE(capf::crypto::configure_client_tls(tls.native_handle(), read_text(f.ca_file), capf::crypto::TlsLegacy::no).ok());
  capf::net::TlsStream stream(io, tls);
  stream.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(f.daemon->port())});
  stream.handshake(asio::ssl::stream_base::client);
  std::array<std::uint8_t, 8> header{};
  asio::read(stream, asio::buffer(header));
  EXPECT_EQ(header[1], 1) << "AUTH_REQUEST";
  auto h = capf::protocol::decode_header(header);
  ASSERT_TRUE(h.ok());
  std::vector<std::uint8_t> body(h->body_length);
  asio::read(stream, asio::buffer(body));
  // The phone now stays silent: the daemon must close the connection.
  boost::system::error_code ec;
  std::array<std::uint8_t, 64> b{};
  stream.read_some(asio::buffer(b), ec);
  EXPECT_TRUE(ec.failed());
  // The watchdog closes the socket before the session coroutine logs and counts: wait for it.
  const std::string reason = "timed out waiting for AUTH_RESPONSE (idle past keep-alive 2 s)";
  std::map<std::string, double> m;
  for (int i = 0; i < 100; ++i) {
    m = parse_metrics(cli({"metrics", "--data-dir", f.data}).out);
    if (m["capf_session_failures_total{reason=\"keep_alive\"}"] >= 1 && f.daemon->log().find(reason) != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(m["capf_session_failures_total{reason=\"keep_alive\"}"], 1);
  const auto log = f.daemon->log();
  EXPECT_NE(log.find(reason), std::string::npos) << log;
  EXPECT_EQ(m["capf_session_failures_total{reason=\"timeout\"}"], 0);
}

TEST(AdminOps, AuditRecordsWhoWhenWhatAndFilters) {
  Fleet f;
  const auto csv = f.write_csv("a.csv", std::string(kCsvHeader) +
                                            "SEP0000000D0001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  ASSERT_EQ(f.phone_set("SEP0000000D0001", {"--operation", "delete"}).exit_code, 0);
  ASSERT_EQ(cli({"config", "set", "keep-alive", "30", "--data-dir", f.data}).exit_code, 0);
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-HQ", "--operation", "install", "--hold", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  auto all = nlohmann::json::parse(cli({"audit", "list", "--json", "--data-dir", f.data}).out);
  std::map<std::string, nlohmann::json> by_action;
  for (const auto& a : all) by_action[a["action"]] = a;
  for (const char* action : {"phones.import", "phone.set", "config.set", "job.submit"}) {
    SCOPED_TRACE(action);
    ASSERT_TRUE(by_action.count(action));
    const auto& a = by_action[action];
    EXPECT_FALSE(a["actor"].get<std::string>().empty());
    EXPECT_NE(a["actor"], "admin") << "the caller's user name, from the admin socket";
    EXPECT_FALSE(a["time"].get<std::string>().empty());
  }
  EXPECT_EQ(by_action["config.set"]["detail"], "keep-alive: 15 -> 30");
  const std::string me = by_action["config.set"]["actor"];

  auto only = nlohmann::json::parse(cli({"audit", "list", "--action", "config.", "--json", "--data-dir", f.data}).out);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0]["subject"], "keep-alive");
  auto mine = nlohmann::json::parse(cli({"audit", "list", "--actor", me, "--limit", "2", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(mine.size(), 2u);
  auto future = nlohmann::json::parse(cli({"audit", "list", "--since", "2999-01-01", "--json", "--data-dir", f.data}).out);
  EXPECT_TRUE(future.empty());
  auto recent = nlohmann::json::parse(cli({"audit", "list", "--since", "1h", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(recent.size(), all.size());
  auto bad = cli({"audit", "list", "--since", "yesterday", "--data-dir", f.data});
  EXPECT_EQ(bad.exit_code, 2);
  // Durations are checked before any arithmetic: one reaching back past 1970 means everything,
  // one past int64 is refused, and neither wraps around to an empty list.
  for (const std::string huge : {"9223372036854775807s", "9223372036854775807d", "106751991167301d"}) {
    auto all_back = cli({"audit", "list", "--since", huge, "--json", "--data-dir", f.data});
    ASSERT_EQ(all_back.exit_code, 0) << huge << ": " << all_back.err;
    EXPECT_EQ(nlohmann::json::parse(all_back.out).size(), all.size()) << huge;
  }
  EXPECT_EQ(cli({"audit", "list", "--since", "99999999999999999999d", "--data-dir", f.data}).exit_code, 2);
  auto text = cli({"audit", "list", "--data-dir", f.data});
  EXPECT_NE(text.out.find("TIME"), std::string::npos);
  EXPECT_NE(text.out.find("config.set"), std::string::npos);
}

TEST(AdminOps, MetricsAfterAnEnrollment) {
  Fleet f;
  const auto csv = f.write_csv("m.csv", std::string(kCsvHeader) +
                                            "SEP0000000E0001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                            "SEP0000000E0002,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n"
                                            "SEP0000000E0003,DP-LAB,Install/Upgrade,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  const auto two = f.write_csv("two.csv", std::string(kCsvHeader) +
                                              "SEP0000000E0001,DP-HQ,Install/Upgrade,By Null String,,2048,RSA Only,\n"
                                              "SEP0000000E0002,DP-HQ,Install/Upgrade,By Null String,,,EC Only,256\n");
  auto summary = f.sim_csv(two);
  ASSERT_EQ(summary["enrollments"], 2) << summary.dump();
  auto sub = cli({"job", "submit", "--where", "device_pool = DP-LAB", "--operation", "install", "--hold", "--data-dir", f.data});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;

  auto r = cli({"metrics", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# TYPE capf_sessions_total counter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# TYPE capf_ca_latency_seconds histogram"), std::string::npos) << r.out;
  auto m = parse_metrics(r.out);
  EXPECT_EQ(m["capf_enrollments_total"], 2);
  EXPECT_EQ(m["capf_lscs_issued_total"], 2);
  EXPECT_GE(m["capf_sessions_total"], 2);
  EXPECT_EQ(m["capf_sessions_open"], 0);
  EXPECT_EQ(m["capf_session_failures_total{reason=\"malformed\"}"], 0);
  EXPECT_EQ(m["capf_job_queue_depth{job=\"J0001\"}"], 1) << r.out;
  EXPECT_EQ(m["capf_job_devices{job=\"J0001\",state=\"queued\"}"], 1) << r.out;
  EXPECT_EQ(m["capf_jobs{state=\"held\"}"], 1) << r.out;
  // Without a daemon there is nothing to scrape.
  f.daemon->stop();
  auto none = cli({"metrics", "--data-dir", f.data});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("running daemon"), std::string::npos) << none.err;
}

TEST(AdminOps, ServeReadsAConfigFileAndTheCommandLineWins) {
  TempDir d;
  const auto conf = d / "capf.conf";
  std::ofstream(conf) << "# test\nkeep-alive = 25\nvalidity-days = 90\nlog-file = " << (d / "capf.log") << "\n";
  auto check = cli({"serve", "--config", conf, "--check-config", "--validity-days", "60"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("keep-alive = 25"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("validity-days = 60"), std::string::npos) << check.out;
  std::ofstream(d / "bad.conf") << "keep-alive = 61\n";
  auto bad = cli({"serve", "--config", d / "bad.conf", "--check-config"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("keep-alive must be 5–60 minutes, got 61"), std::string::npos) << bad.err;
  std::ofstream(d / "unknown.conf") << "no-such-option = 1\n";
  EXPECT_EQ(cli({"serve", "--config", d / "unknown.conf", "--check-config"}).exit_code, 2);

  {
    Daemon daemon(d / "data", {"--config", conf, "--validity-days", "60"});
    EXPECT_EQ(cli({"config", "get", "keep-alive", "--data-dir", d / "data"}).out, "25\n");
    EXPECT_EQ(cli({"config", "get", "validity-days", "--data-dir", d / "data"}).out, "60\n");
    auto audit = nlohmann::json::parse(cli({"audit", "list", "--actor", "capf serve", "--json", "--data-dir", d / "data"}).out);
    EXPECT_EQ(audit.size(), 2u);
  }
  const auto file_log = read_text(d / "capf.log");
  EXPECT_NE(file_log.find("capf ready"), std::string::npos) << "the rotating log file gets the lines";
}

TEST(AdminOps, NumbersFromTheApiAreCheckedBeforeTheyAreNarrowed) {
  // The dashboard sends JSON numbers of any size: 2^32 + 5 must not become a 5-digit string length.
  Fleet f;
  ASSERT_EQ(f.import(f.write_csv("one.csv", std::string(kCsvHeader) +
                                                "SEP0000000E0009,DP-HQ,No Pending Operation,By Null String,,2048,RSA Only,\n"))
                .exit_code,
            0);
  const std::string token = shell("cat '" + f.data + "/admin.token'").out;
  for (const std::string length : {"4294967301", "-4294967291", "99999999999999999999"}) {
    const std::string body =
        R"({"operation":"install","where":"all","string_policy":"unique","string_length":)" + length + "}";
    auto r = capf::admin::call_daemon(f.data + "/admin.sock", token, {"POST", "/v1/jobs", body, "test"});
    ASSERT_TRUE(r.ok() && r->has_value()) << length;
    EXPECT_EQ((*r)->status, 400) << length << ": " << (*r)->body.dump();
    EXPECT_NE((*r)->body.dump().find("string-length must be 4"), std::string::npos) << (*r)->body.dump();
  }
}
