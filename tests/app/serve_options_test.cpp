// parse_serve_options as a table: good command lines give the settings they name; each bad
// option gives a clear error naming it. Nothing here reads a file or starts anything.
#include "serve_options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace capf::cli {
namespace {

using ::testing::HasSubstr;

po::variables_map command_line(const Args& args) {
  po::options_description desc;
  desc.add_options()("data-dir", po::value<std::string>())(
      "log-level", po::value<std::string>()->default_value("warn"))("check-config", "");
  desc.add(serve_options_description());
  desc.add(param_options());
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

Result<ServeOptions> parse(const Args& args) {
  return parse_serve_options(command_line(args));
}

TEST(ServeOptions, DefaultsLeaveListenToEnableIpv6AndTakeTheDocumentedValues) {
  auto o = parse({});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_TRUE(o->server.listen.empty());
  EXPECT_EQ(o->server.step_timeout, std::chrono::seconds(30));
  EXPECT_EQ(o->server.handshake_timeout, std::chrono::seconds(30));
  EXPECT_EQ(o->server.max_sessions, 20000u);
  EXPECT_EQ(o->server.worker_threads, 16u);
  EXPECT_EQ(o->server.tls_legacy, crypto::TlsLegacy::no);
  EXPECT_EQ(o->ca.key.algorithm, KeyAlgorithm::rsa);
  EXPECT_EQ(o->ca.key.rsa_bits, 2048);
  EXPECT_EQ(o->log_level, "info");  // the daemon logs at info unless told otherwise
  EXPECT_EQ(o->log.console, "stderr");
  EXPECT_EQ(o->log.max_size, 10u * 1024 * 1024);
  EXPECT_TRUE(o->given_params.empty());
  EXPECT_EQ(o->trigger.kind, engine::TriggerConfig::Kind::none);
  EXPECT_EQ(o->trigger_threads, 8u);
  EXPECT_EQ(o->engine.tick_ms, 100);
  EXPECT_EQ(o->engine.retry.session_wait_s, 300);
  EXPECT_EQ(o->engine.breaker.threshold, 3);
  EXPECT_EQ(o->engine.breaker.min_subjects, 2);
  EXPECT_EQ(o->engine.breaker.probe_timeout_s, 60);
  EXPECT_FALSE(o->dashboard);
  EXPECT_EQ(o->monitor_first_check_s, 60);
  EXPECT_FALSE(o->check_config);
}

TEST(ServeOptions, EveryGroupOfOptionsReachesItsSetting) {
  auto o = parse({"--listen",
                  "127.0.0.1:0",
                  "--listen",
                  "[::1]:3804",
                  "--ca-key-type",
                  "p384",
                  "--tls-legacy",
                  "--step-timeout",
                  "7",
                  "--workers",
                  "0",
                  "--keep-alive",
                  "10",
                  "--validity-days",
                  "30",
                  "--trigger-url",
                  "https://apply.example/{name}",
                  "--trigger-body",
                  "{\"n\":\"{name}\"}",
                  "--trigger-user",
                  "ops",
                  "--trigger-password-file",
                  "/nonexistent/pw",
                  "--trigger-timeout",
                  "50",
                  "--breaker-threshold",
                  "1",
                  "--tick-ms",
                  "5",
                  "--web",
                  "127.0.0.1:0",
                  "--web-name",
                  "capf.example",
                  "--web-cert",
                  "/nonexistent/c.pem",
                  "--web-key",
                  "/nonexistent/k.pem",
                  "--monitor-first-check",
                  "-5",
                  "--log-level",
                  "debug",
                  "--log-file",
                  "/nonexistent/capf.log",
                  "--mic-root",
                  "/nonexistent/mic.pem",
                  "--check-config"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->server.listen, (std::vector<std::string>{"127.0.0.1:0", "[::1]:3804"}));
  EXPECT_EQ(o->ca.key.algorithm, KeyAlgorithm::ec);
  EXPECT_EQ(o->ca.key.curve, EcCurve::p384);
  EXPECT_EQ(o->server.tls_legacy, crypto::TlsLegacy::yes);
  EXPECT_EQ(o->server.step_timeout, std::chrono::seconds(7));
  EXPECT_EQ(o->server.worker_threads, 1u);  // at least one worker signs
  EXPECT_EQ(o->given_params,
            (std::vector<std::pair<std::string, std::string>>{{"validity-days", "30"}, {"keep-alive", "10"}}));
  EXPECT_EQ(o->trigger.kind, engine::TriggerConfig::Kind::http);
  EXPECT_EQ(o->trigger.url, "https://apply.example/{name}");
  EXPECT_EQ(o->trigger.body, "{\"n\":\"{name}\"}");
  EXPECT_EQ(o->trigger.username, "ops");
  EXPECT_EQ(o->trigger.password, "");  // the file is read when the daemon starts, not here
  EXPECT_EQ(o->trigger_password_file, "/nonexistent/pw");
  EXPECT_EQ(o->engine.breaker.threshold, 1);
  EXPECT_EQ(o->engine.breaker.min_subjects, 1);
  EXPECT_EQ(o->engine.breaker.probe_timeout_s, 100);
  EXPECT_EQ(o->engine.tick_ms, 5);
  ASSERT_TRUE(o->dashboard);
  EXPECT_EQ(o->dashboard->config.listen, "127.0.0.1:0");
  EXPECT_EQ(o->dashboard->config.host_names, std::vector<std::string>{"capf.example"});
  EXPECT_EQ(o->dashboard->cert_file, "/nonexistent/c.pem");
  EXPECT_EQ(o->dashboard->key_file, "/nonexistent/k.pem");
  EXPECT_EQ(o->dashboard->config.cert_pem, "");
  EXPECT_EQ(o->monitor_first_check_s, 0);
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->log.file, "/nonexistent/capf.log");
  EXPECT_EQ(o->mic_root_files, std::vector<std::string>{"/nonexistent/mic.pem"});
  EXPECT_TRUE(o->check_config);
}

TEST(ServeOptions, ARemoteDashboardNeedsItsSwitch) {
  auto o = parse({"--web", "10.1.2.3:8443", "--web-allow-remote"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->dashboard->config.listen, "10.1.2.3:8443");
}

struct BadCase {
  Args args;
  std::string error;  ///< the whole message
};

TEST(ServeOptions, EachBadOptionGetsAClearErrorNamingIt) {
  const std::vector<BadCase> cases = {
      {{"--step-timeout", "0"}, "--step-timeout must be at least 1 second"},
      {{"--handshake-timeout", "-1"}, "--handshake-timeout must be at least 1 second"},
      {{"--listen", "127.0.0.1:99999"}, "--listen: bad port in \"127.0.0.1:99999\": must be 0–65535"},
      {{"--listen", "nowhere"}, "--listen must be HOST:PORT or [IPV6]:PORT, got \"nowhere\""},
      {{"--ca-key-type", "dsa"}, "--ca-key-type must be rsa2048, p256 or p384, got \"dsa\""},
      {{"--keep-alive", "99"}, "keep-alive must be 5–60 minutes, got 99"},
      {{"--web", "10.1.2.3:8443"},
       "--web 10.1.2.3:8443 is not a loopback address; add --web-allow-remote to serve the dashboard beyond this host"},
      {{"--web", "localhost"}, "--web must be HOST:PORT or [IPV6]:PORT, got \"localhost\""},
      {{"--web", "127.0.0.1:0", "--web-cert", "c.pem"}, "--web-cert and --web-key go together"},
      {{"--trigger-command", "apply {name}", "--trigger-url", "http://h/"},
       "give --trigger-command or --trigger-url, not both"},
      {{"--trigger-command", " "}, "trigger command is empty"},
      {{"--trigger-url", "ftp://h/{name}"}, "trigger url must start with http:// or https://, got \"ftp://h/{name}\""},
      {{"--trigger-command", "apply {name}", "--trigger-timeout", "0"}, "trigger timeout must be at least 1 second"},
      {{"--trigger-timeout", "0"}, "--trigger-timeout must be at least 1"},
      {{"--session-wait", "0"}, "--session-wait must be at least 1"},
      {{"--backoff-base", "0"}, "--backoff-base must be at least 1"},
      {{"--backoff-ceiling", "0"}, "--backoff-ceiling must be at least 1"},
      {{"--tick-ms", "0"}, "--tick-ms must be at least 1"},
      {{"--breaker-threshold", "0"}, "--breaker-threshold must be at least 1"},
      {{"--breaker-probe-base", "0"}, "--breaker-probe-base must be at least 1"},
      {{"--breaker-probe-ceiling", "0"}, "--breaker-probe-ceiling must be at least 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args.front());
    auto o = parse(c.args);
    ASSERT_FALSE(o) << "accepted";
    EXPECT_EQ(o.error().code, Errc::invalid_argument);
    EXPECT_EQ(o.error().message, c.error);
  }
}

TEST(ServeOptions, AUrlWithCredentialsIsRefusedWithoutEchoingThem) {
  auto o = parse({"--trigger-url", "http://ops:s3cret@h/{name}"});
  ASSERT_FALSE(o);
  EXPECT_THAT(o.error().message, HasSubstr("must not hold credentials"));
  EXPECT_THAT(o.error().message, ::testing::Not(HasSubstr("s3cret")));
}

TEST(ServeOptions, TestFlagsAreTakenOutOfTheArguments) {
  Args args{"--listen", "127.0.0.1:0", "--test-keep-alive-seconds", "3", "--test-monitor-clock-offset", "86400"};
  auto t = take_test_flags(args);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->keep_alive_s, 3);
  EXPECT_EQ(t->monitor_clock_offset_s, 86400);
  EXPECT_EQ(args, (Args{"--listen", "127.0.0.1:0"}));

  Args none{"--listen", "127.0.0.1:0"};
  auto absent = take_test_flags(none);
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->keep_alive_s, 0);
  EXPECT_EQ(absent->monitor_clock_offset_s, 0);

  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--test-keep-alive-seconds", "0"}, {"--test-monitor-clock-offset", "soon"}}) {
    Args bad{flag, value};
    auto r = take_test_flags(bad);
    ASSERT_FALSE(r) << flag;
    EXPECT_EQ(r.error().message, flag + " must be a number of seconds, at least 1");
  }
}

}  // namespace
}  // namespace capf::cli
