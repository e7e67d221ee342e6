#include "serve_options.hpp"

#include "capf/config/params.hpp"
#include "capf/net/host_port.hpp"
#include "capf/util/text.hpp"

namespace capf::cli {

namespace {

Error bad(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

template <class T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

std::string given(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

Result<crypto::CaOptions> ca_options(const std::string& type) {
  crypto::CaOptions o;
  if (type == "rsa2048")
    o.key = {KeyAlgorithm::rsa, 2048, EcCurve::p256};
  else if (type == "p256")
    o.key = {KeyAlgorithm::ec, 0, EcCurve::p256};
  else if (type == "p384")
    o.key = {KeyAlgorithm::ec, 0, EcCurve::p384};
  else
    return bad("--ca-key-type must be rsa2048, p256 or p384, got \"" + type + "\"");
  return o;
}

Result<std::vector<std::pair<std::string, std::string>>> given_params(const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::string>> out;
  ServiceParams scratch;
  for (const auto& p : config::parameters()) {
    const std::string name(p.name);
    if (!vm.count(name)) continue;
    const auto value = vm[name].as<std::string>();
    if (auto r = config::set_parameter(scratch, name, value); !r) return bad(r.error().message);
    out.emplace_back(name, value);
  }
  return out;
}

util::LogOptions log_options(const po::variables_map& vm) {
  util::LogOptions lo;
  lo.console = get<std::string>(vm, "log-console");
  lo.file = given(vm, "log-file");
  lo.max_size = get<std::size_t>(vm, "log-max-size") * 1024 * 1024;
  lo.max_files = get<std::size_t>(vm, "log-files");
  return lo;
}

Result<server::ServerConfig> server_config(const po::variables_map& vm) {
  server::ServerConfig config;
  config.listen.clear();
  if (vm.count("listen")) config.listen = get<std::vector<std::string>>(vm, "listen");
  config.tls_legacy = get<bool>(vm, "tls-legacy") ? crypto::TlsLegacy::yes : crypto::TlsLegacy::no;
  for (const char* t : {"step-timeout", "handshake-timeout"})
    if (get<int>(vm, t) < 1) return bad(std::string("--") + t + " must be at least 1 second");
  config.step_timeout = std::chrono::seconds(get<int>(vm, "step-timeout"));
  config.handshake_timeout = std::chrono::seconds(get<int>(vm, "handshake-timeout"));
  config.max_sessions = get<std::size_t>(vm, "max-sessions");
  config.io_threads = get<unsigned>(vm, "io-threads");
  config.worker_threads = std::max(1u, get<unsigned>(vm, "workers"));
  for (const auto& l : config.listen)
    if (auto ep = net::parse_listen_endpoint(l, "--listen"); !ep) return bad(ep.error().message);
  return config;
}

Result<DashboardOptions> dashboard_options(const po::variables_map& vm) {
  DashboardOptions d;
  d.config.listen = get<std::string>(vm, "web");
  const auto ep = net::parse_listen_endpoint(d.config.listen, "--web");
  if (!ep) return bad(ep.error().message);
  if (!ep->address().is_loopback() && !get<bool>(vm, "web-allow-remote"))
    return bad("--web " + d.config.listen +
               " is not a loopback address; add --web-allow-remote to serve the dashboard beyond this host");
  if (vm.count("web-name")) d.config.host_names = get<std::vector<std::string>>(vm, "web-name");
  d.config.max_connections = get<std::size_t>(vm, "web-max-connections");
  d.config.max_connections_per_address = get<std::size_t>(vm, "web-max-connections-per-address");
  if (vm.count("web-cert") != vm.count("web-key")) return bad("--web-cert and --web-key go together");
  d.cert_file = given(vm, "web-cert");
  d.key_file = given(vm, "web-key");
  return d;
}

Result<engine::TriggerConfig> trigger_config(const po::variables_map& vm) {
  engine::TriggerConfig trigger;
  if (vm.count("trigger-command") && vm.count("trigger-url"))
    return bad("give --trigger-command or --trigger-url, not both");
  if (vm.count("trigger-command")) {
    trigger.kind = engine::TriggerConfig::Kind::command;
    trigger.command = get<std::string>(vm, "trigger-command");
  } else if (vm.count("trigger-url")) {
    trigger.kind = engine::TriggerConfig::Kind::http;
    trigger.url = get<std::string>(vm, "trigger-url");
    trigger.body = given(vm, "trigger-body");
  }
  trigger.timeout_s = get<int>(vm, "trigger-timeout");
  trigger.username = given(vm, "trigger-user");
  if (auto v = engine::validate(trigger); !v) return bad(v.error().message);
  return trigger;
}

Result<engine::EngineConfig> engine_config(const po::variables_map& vm) {
  for (const char* t : {"session-wait", "backoff-base", "backoff-ceiling", "tick-ms", "trigger-timeout",
                        "breaker-threshold", "breaker-probe-base", "breaker-probe-ceiling"})
    if (get<int>(vm, t) < 1) return bad(std::string("--") + t + " must be at least 1");
  engine::EngineConfig c;
  c.global_rate_per_minute = get<double>(vm, "global-rate");
  c.global_burst = get<double>(vm, "global-burst");
  c.tick_ms = get<int>(vm, "tick-ms");
  c.global_max_in_flight = get<int>(vm, "global-max-in-flight");
  c.retry.session_wait_s = get<int>(vm, "session-wait");
  c.retry.backoff_base_s = get<int>(vm, "backoff-base");
  c.retry.backoff_ceiling_s = get<int>(vm, "backoff-ceiling");
  c.breaker.threshold = get<int>(vm, "breaker-threshold");
  c.breaker.min_subjects = std::min(2, c.breaker.threshold);
  c.breaker.probe_base_s = get<int>(vm, "breaker-probe-base");
  c.breaker.probe_ceiling_s = get<int>(vm, "breaker-probe-ceiling");
  // A probe is one Apply Config, or one CA request: it reports within the trigger's timeout.
  c.breaker.probe_timeout_s = std::max(60, 2 * get<int>(vm, "trigger-timeout"));
  return c;
}

Result<int> take_test_seconds(Args& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != flag) continue;
    const auto n = util::parse_int(args[i + 1]);
    if (!n || *n < 1 || *n > 100LL * 365 * 86400) return bad(flag + " must be a number of seconds, at least 1");
    args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    return static_cast<int>(*n);
  }
  return 0;
}

}  // namespace

po::options_description serve_options_description() {
  po::options_description d("serve options (also accepted as key = value lines in --config FILE)");
  // One option a line, as `capf serve --help` lists them.
  // clang-format off
  d.add_options()
    ("listen", po::value<std::vector<std::string>>()->composing(), "CAPF address, repeatable (default [::]:3804, dual stack)")
    ("mic-root", po::value<std::vector<std::string>>()->composing(), "PEM of a manufacturer (MIC) root to put in CAPF-trust, repeatable")
    ("ca-key-type", po::value<std::string>()->default_value("rsa2048"), "key of a new CAPF CA: rsa2048, p256, p384")
    ("tls-legacy", po::bool_switch(), "also allow TLS 1.0/1.1 and legacy ciphers (old phone models)")
    ("step-timeout", po::value<int>()->default_value(30), "timeout of every other protocol step, seconds")
    ("handshake-timeout", po::value<int>()->default_value(30), "TLS handshake timeout, seconds")
    ("max-sessions", po::value<std::size_t>()->default_value(20000), "CAPF sessions open at once; more are closed")
    ("io-threads", po::value<unsigned>()->default_value(0), "I/O threads (0 = half the cores, at least one)")
    ("workers", po::value<unsigned>()->default_value(16), "threads for signing and durable writes (they wait on fsync together)")
    ("trigger-command", po::value<std::string>(), "Apply Config as a command, e.g. \"/usr/local/bin/apply-config {name} {ipv4}\"")
    ("trigger-url", po::value<std::string>(), "Apply Config as an HTTP POST, e.g. http://127.0.0.1:8080/trigger/{name}")
    ("trigger-body", po::value<std::string>(), "JSON body template of the HTTP trigger")
    ("trigger-timeout", po::value<int>()->default_value(30), "seconds one Apply Config may take")
    ("trigger-user", po::value<std::string>(), "HTTP Basic user of the trigger URL")
    ("trigger-password-file", po::value<std::string>(), "file holding the trigger user's password (never logged)")
    ("trigger-ca", po::value<std::string>(), "PEM CAs trusted for an https trigger URL")
    ("trigger-threads", po::value<unsigned>()->default_value(8), "Apply Config actions run at once")
    ("global-rate", po::value<double>()->default_value(0), "dispatches per minute across all jobs (0 = no cap)")
    ("global-burst", po::value<double>()->default_value(0), "burst of the global rate (0 = two ticks' share of --global-rate; a burst below one tick's share is raised to it)")
    ("global-max-in-flight", po::value<int>()->default_value(0), "devices in flight across all jobs (0 = no cap)")
    ("session-wait", po::value<int>()->default_value(300), "seconds a triggered phone has to open its CAPF session")
    ("backoff-base", po::value<int>()->default_value(30), "first retry delay ceiling, seconds (full jitter below it)")
    ("backoff-ceiling", po::value<int>()->default_value(3600), "longest retry delay, seconds")
    ("tick-ms", po::value<int>()->default_value(100), "job engine scheduling period, milliseconds")
    ("breaker-threshold", po::value<int>()->default_value(3), "failures in a row, across different devices, that mark a shared dependency (Apply Config endpoint, Online CA, SMTP server) down")
    ("breaker-probe-base", po::value<int>()->default_value(5), "first delay ceiling before probing a dependency that is down, seconds (full jitter below it)")
    ("breaker-probe-ceiling", po::value<int>()->default_value(300), "longest delay between probes of a dependency that is down, seconds")
    ("log-console", po::value<std::string>()->default_value("stderr"), "log lines to stderr, stdout or off (journald takes either)")
    ("log-file", po::value<std::string>(), "also log to this file, rotated by size")
    ("log-max-size", po::value<std::size_t>()->default_value(10), "MiB per log file before it rotates")
    ("log-files", po::value<std::size_t>()->default_value(5), "rotated log files kept")
    ("web", po::value<std::string>(), "serve the web dashboard over HTTPS on ADDR:PORT (off by default; loopback only unless --web-allow-remote)")
    ("web-allow-remote", po::bool_switch(), "let --web listen on an address other than loopback")
    ("web-cert", po::value<std::string>(), "PEM certificate (+ chain) of the dashboard (default: one issued by the CAPF CA at start)")
    ("web-key", po::value<std::string>(), "PEM private key of --web-cert")
    ("web-name", po::value<std::vector<std::string>>()->composing(), "a further host name or address the dashboard answers for, repeatable")
    ("web-max-connections", po::value<std::size_t>()->default_value(256), "dashboard connections open at once; more are closed (0 = no cap)")
    ("web-max-connections-per-address", po::value<std::size_t>()->default_value(32), "of those, from one client address (0 = no cap)")
    ("monitor-first-check", po::value<int>()->default_value(60), "seconds after start of the certificate monitor's first check");
  // clang-format on
  return d;
}

po::options_description param_options() {
  po::options_description d("service parameters (stored; `capf config` shows and changes them)");
  for (const auto& p : config::parameters()) {
    const std::string help = std::string(p.display) + (p.unit.empty() ? "" : ", " + std::string(p.unit)) +
                             (config::shown_range(p).empty() ? "" : " " + config::shown_range(p)) + " (default " +
                             config::shown_default(p) + ")";
    d.add_options()(std::string(p.name).c_str(), po::value<std::string>(), help.c_str());
  }
  return d;
}

po::options_description config_file_options() {
  po::options_description d;
  d.add_options()("data-dir", po::value<std::string>(), "")("log-level", po::value<std::string>(), "");
  d.add(serve_options_description());
  d.add(param_options());
  return d;
}

Result<TestFlags> take_test_flags(Args& args) {
  TestFlags t;
  auto keep_alive = take_test_seconds(args, "--test-keep-alive-seconds");
  if (!keep_alive) return keep_alive.error();
  auto offset = take_test_seconds(args, "--test-monitor-clock-offset");
  if (!offset) return offset.error();
  t.keep_alive_s = *keep_alive;
  t.monitor_clock_offset_s = *offset;
  return t;
}

Result<ServeOptions> parse_serve_options(const po::variables_map& vm, TestFlags test) {
  ServeOptions o;
  o.test = test;
  o.check_config = vm.count("check-config") > 0;
  if (vm.count("log-level") && !vm["log-level"].defaulted()) o.log_level = get<std::string>(vm, "log-level");
  o.log = log_options(vm);
  auto params = given_params(vm);  // range errors here, before anything is created
  if (!params) return params.error();
  o.given_params = std::move(*params);
  auto server = server_config(vm);
  if (!server) return server.error();
  o.server = std::move(*server);
  auto ca = ca_options(get<std::string>(vm, "ca-key-type"));
  if (!ca) return ca.error();
  o.ca = std::move(*ca);
  if (vm.count("web")) {
    auto dashboard = dashboard_options(vm);
    if (!dashboard) return dashboard.error();
    o.dashboard = std::move(*dashboard);
  }
  if (vm.count("mic-root")) o.mic_root_files = get<std::vector<std::string>>(vm, "mic-root");
  auto trigger = trigger_config(vm);
  if (!trigger) return trigger.error();
  o.trigger = std::move(*trigger);
  o.trigger_password_file = given(vm, "trigger-password-file");
  o.trigger_ca_file = given(vm, "trigger-ca");
  o.trigger_threads = get<unsigned>(vm, "trigger-threads");
  auto engine = engine_config(vm);
  if (!engine) return engine.error();
  o.engine = std::move(*engine);
  o.monitor_first_check_s = std::max(0, get<int>(vm, "monitor-first-check"));
  return o;
}

}  // namespace capf::cli
