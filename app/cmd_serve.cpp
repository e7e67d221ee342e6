// `capf serve`: wires store, CA, CAPF server and admin API together and runs them.
#include <csignal>
#include <memory>
#include <optional>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "capf/admin/http.hpp"
#include "capf/ca_online/online_ca.hpp"
#include "capf/config/params.hpp"
#include "capf/core/service_params.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/engine/loop.hpp"
#include "capf/policy/evaluator.hpp"
#include "capf/server/ca_worker.hpp"
#include "capf/net/spawn.hpp"
#include "capf/server/capf_server.hpp"
#include "capf/util/contain.hpp"
#include "capf/store/store.hpp"
#include "capf/trust/trust.hpp"
#include "capf/util/files.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "capf/crypto/web.hpp"
#include "capf/web/web_server.hpp"
#include "cli.hpp"
#include "modules.hpp"
#include "capf/monitor/monitor.hpp"
#include "serve_support.hpp"
#include "serve_lifecycle.hpp"

namespace capf::cli {

namespace {

crypto::CaOptions ca_options(const std::string& type) {
  crypto::CaOptions o;
  if (type == "rsa2048") o.key = {KeyAlgorithm::rsa, 2048, EcCurve::p256};
  else if (type == "p256") o.key = {KeyAlgorithm::ec, 0, EcCurve::p256};
  else if (type == "p384") o.key = {KeyAlgorithm::ec, 0, EcCurve::p384};
  else throw UsageError("--ca-key-type must be rsa2048, p256 or p384, got \"" + type + "\"");
  return o;
}

po::options_description serve_options() {
  po::options_description d("serve options (also accepted as key = value lines in --config FILE)");
  d.add_options()
    ("listen", po::value<std::vector<std::string>>()->composing(), "CAPF address, repeatable (default [::]:3804, dual stack)")
    ("mic-root", po::value<std::vector<std::string>>()->composing(), "PEM of a manufacturer (MIC) root to put in CAPF-trust, repeatable")
    ("ca-key-type", po::value<std::string>()->default_value("rsa2048"), "key of a new CAPF CA: rsa2048, p256, p384")
    ("tls-legacy", po::bool_switch(), "also allow TLS 1.0/1.1 and legacy ciphers (old phone models)")
    ("step-timeout", po::value<int>()->default_value(30), "timeout of every other protocol step, seconds")
    ("handshake-timeout", po::value<int>()->default_value(30), "TLS handshake timeout, seconds")
    ("max-sessions", po::value<std::size_t>()->default_value(20000), "CAPF sessions open at once; more are closed")
    ("io-threads", po::value<unsigned>()->default_value(0), "I/O threads (0 = one per core)")
    ("workers", po::value<unsigned>()->default_value(4), "threads for signing and durable writes")
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
  return d;
}

/// What --config FILE may set: the serve options, the service parameters, data-dir, log-level.
po::options_description file_options() {
  po::options_description d;
  d.add_options()("data-dir", po::value<std::string>(), "")("log-level", po::value<std::string>(), "");
  d.add(serve_options());
  d.add(param_options());
  return d;
}

/// Takes a test-only `FLAG SECONDS` out of the arguments (not in --help), 0 when absent:
/// `--test-keep-alive-seconds N` shows a keep-alive close without waiting 5 minutes;
/// `--test-monitor-clock-offset N` runs the certificate monitor N seconds in the future, so a
/// test sees LSCs expire without waiting a day.
int take_test_seconds(Args& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != flag) continue;
    const auto n = util::parse_int(args[i + 1]);
    if (!n || *n < 1 || *n > 100LL * 365 * 86400) throw UsageError(flag + " must be a number of seconds, at least 1");
    args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    return static_cast<int>(*n);
  }
  return 0;
}

/// The wall clock moved by a fixed offset (the monitor's clock under --test-monitor-clock-offset).
class OffsetClock final : public util::Clock {
 public:
  explicit OffsetClock(util::UnixTime offset) : offset_(offset) {}
  util::UnixTime now() const override { return util::now() + offset_; }

 private:
  util::UnixTime offset_;
};

}  // namespace

int cmd_serve(const Args& cli_args) {
  Args args = cli_args;
  const int test_keep_alive_s = take_test_seconds(args, "--test-keep-alive-seconds");
  const OffsetClock monitor_clock(take_test_seconds(args, "--test-monitor-clock-offset"));
  auto desc = common_options();
  desc.add(serve_options());
  desc.add(param_options());
  desc.add_options()("config", po::value<std::string>(), "configuration file (key = value lines; the command line wins)")(
      "check-config", "check the options and the configuration file, print the service parameters given, and exit");
  po::positional_options_description none;
  auto vm = parse(args, desc, none, "capf serve [--data-dir DIR] [--listen ADDR:PORT] [--config FILE]");
  if (vm.count("config")) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw UsageError("cannot read --config " + path);
    try {
      po::store(po::parse_config_file(in, file_options()), vm);  // the command line, stored first, wins
      po::notify(vm);
    } catch (const po::error& e) {
      throw UsageError(path + ": " + e.what());
    }
  }
  util::set_log_level(vm.count("log-level") && !vm["log-level"].defaulted() ? vm["log-level"].as<std::string>() : "info");
  {
    util::LogOptions lo;
    lo.console = vm["log-console"].as<std::string>();
    if (vm.count("log-file")) lo.file = vm["log-file"].as<std::string>();
    lo.max_size = vm["log-max-size"].as<std::size_t>() * 1024 * 1024;
    lo.max_files = vm["log-files"].as<std::size_t>();
    if (auto r = util::configure_log(lo); !r) throw UsageError(r.error().message);
  }
  auto log = util::logger("capf");
  const auto given = given_params(vm);  // range errors here, before anything is created

  server::ServerConfig config;
  if (vm.count("listen")) config.listen = vm["listen"].as<std::vector<std::string>>();
  config.tls_legacy = vm["tls-legacy"].as<bool>() ? crypto::TlsLegacy::yes : crypto::TlsLegacy::no;
  config.step_timeout = std::chrono::seconds(vm["step-timeout"].as<int>());
  config.handshake_timeout = std::chrono::seconds(vm["handshake-timeout"].as<int>());
  for (const char* t : {"step-timeout", "handshake-timeout"})
    if (vm[t].as<int>() < 1) throw UsageError(std::string("--") + t + " must be at least 1 second");
  config.max_sessions = vm["max-sessions"].as<std::size_t>();
  config.io_threads = vm["io-threads"].as<unsigned>();
  config.worker_threads = std::max(1u, vm["workers"].as<unsigned>());
  for (const auto& l : config.listen) {
    try {
      server::parse_host_port(l);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--listen: ") + e.what());
    }
  }

  const auto ca_key = ca_options(vm["ca-key-type"].as<std::string>());
  (void)dashboard_settings(vm, false);
  if (vm.count("check-config")) {
    std::cout << "configuration OK";
    for (const auto& [name, value] : given)
      std::cout << "\n  " << name << " = " << (capf::config::find_parameter(name)->secret ? "(set)" : value);
    std::cout << "\n";
    return 0;
  }

  if (auto note = raise_open_file_limit(config.max_sessions); !note.empty()) log->info("{}", note);
  const std::string dir = data_dir(vm);
  // Keys, tokens and the store live here: only the daemon's user may enter, also when the
  // directory was made by hand or an older version (0755).
  if (auto r = util::make_private_dir(dir); !r) throw Failure("data directory: " + r.error().message);
  auto ca = crypto::CertificateAuthority::load_or_create(ca_dir(dir), ca_key);
  if (!ca) throw Failure("CAPF CA: " + ca.error().message);
  auto store = store::Store::open(store_dir(dir));
  if (!store) throw Failure(store.error().message);
  util::SystemClock clock;

  // Service parameters: stored ones, with those given on the command line or in --config.
  const ServiceParams params = startup_params(**store, clock, given);
  if (!vm.count("listen")) config.listen = {params.enable_ipv6 ? "[::]:3804" : "0.0.0.0:3804"};
  auto session_settings = [&](const ServiceParams& p, server::ServerConfig& c) {
    c.validity_days = p.validity_days;
    c.keygen_timeout = std::chrono::seconds(p.keygen_timeout_min * 60);
    c.keep_alive = std::chrono::seconds(test_keep_alive_s > 0 ? test_keep_alive_s : p.keep_alive_min * 60);
    c.max_sessions_per_address = static_cast<std::size_t>(p.max_sessions_per_address);
    // A session must outlive the longest key generation it allows.
    c.session_limit = std::max(std::chrono::seconds(900), std::chrono::seconds(p.keygen_timeout_min * 60 + 300));
  };
  session_settings(params, config);

  // MIC roots become CAPF-trust entries the first time they are seen (an administrator may
  // delete and re-add them); the daemon verifies against CAPF-trust plus its own CA.
  std::vector<crypto::Certificate> mic_roots;
  if (vm.count("mic-root")) {
    for (const auto& path : vm["mic-root"].as<std::vector<std::string>>()) {
      auto pem = util::read_file(path);
      if (!pem) throw Failure("--mic-root: " + pem.error().message);
      auto certs = crypto::Certificate::all_from_pem(*pem);
      if (!certs || certs->empty()) throw Failure("--mic-root " + path + ": no certificate in the file");
      mic_roots.insert(mic_roots.end(), certs->begin(), certs->end());
    }
  }
  if (auto added = trust::add_mic_roots(**store, mic_roots, util::now()); !added)
    throw Failure("CAPF-trust: " + added.error().message);
  auto capf_trust = trust::capf_trust(**store, &ca->certificate());
  if (!capf_trust) throw Failure("CAPF-trust: " + capf_trust.error().message);
  trust_retired_cas(*capf_trust, ca_dir(dir));  // phones with LSCs of a regenerated CA still authenticate
  log->info("CAPF-trust: {} certificates (CAPF CA included)", capf_trust->size());

  engine::TriggerConfig trigger;
  if (vm.count("trigger-command") && vm.count("trigger-url")) throw UsageError("give --trigger-command or --trigger-url, not both");
  if (vm.count("trigger-command")) {
    trigger.kind = engine::TriggerConfig::Kind::command;
    trigger.command = vm["trigger-command"].as<std::string>();
  } else if (vm.count("trigger-url")) {
    trigger.kind = engine::TriggerConfig::Kind::http;
    trigger.url = vm["trigger-url"].as<std::string>();
    if (vm.count("trigger-body")) trigger.body = vm["trigger-body"].as<std::string>();
  }
  trigger.timeout_s = vm["trigger-timeout"].as<int>();
  if (vm.count("trigger-user")) trigger.username = vm["trigger-user"].as<std::string>();
  if (vm.count("trigger-password-file")) {
    auto pw = util::read_file(vm["trigger-password-file"].as<std::string>());
    if (!pw) throw UsageError("--trigger-password-file: " + pw.error().message);
    trigger.password = std::string(util::trim(*pw));
  }
  if (vm.count("trigger-ca")) {
    auto pem = util::read_file(vm["trigger-ca"].as<std::string>());
    if (!pem) throw UsageError("--trigger-ca: " + pem.error().message);
    trigger.ca_pem = *pem;
  }
  if (auto v = engine::validate(trigger); !v) throw UsageError(v.error().message);
  engine::EngineConfig engine_config;
  engine_config.global_rate_per_minute = vm["global-rate"].as<double>();
  engine_config.global_burst = vm["global-burst"].as<double>();
  engine_config.tick_ms = std::max(1, vm["tick-ms"].as<int>());
  engine_config.global_max_in_flight = vm["global-max-in-flight"].as<int>();
  engine_config.retry.session_wait_s = vm["session-wait"].as<int>();
  engine_config.retry.backoff_base_s = vm["backoff-base"].as<int>();
  engine_config.retry.backoff_ceiling_s = vm["backoff-ceiling"].as<int>();
  for (const char* t : {"session-wait", "backoff-base", "backoff-ceiling", "tick-ms", "trigger-timeout", "breaker-threshold",
                        "breaker-probe-base", "breaker-probe-ceiling"})
    if (vm[t].as<int>() < 1) throw UsageError(std::string("--") + t + " must be at least 1");
  engine_config.breaker.threshold = vm["breaker-threshold"].as<int>();
  engine_config.breaker.min_subjects = std::min(2, engine_config.breaker.threshold);
  engine_config.breaker.probe_base_s = vm["breaker-probe-base"].as<int>();
  engine_config.breaker.probe_ceiling_s = vm["breaker-probe-ceiling"].as<int>();
  // A probe is one Apply Config, or one CA request: it reports within the trigger's timeout.
  engine_config.breaker.probe_timeout_s = std::max(60, 2 * vm["trigger-timeout"].as<int>());
  engine_config.breakers = std::make_shared<Breakers>();

  // The dashboard's settings are checked before anything starts listening.
  std::optional<web::WebConfig> web_config = dashboard_config(vm, *ca, dir);

  engine_config.issuer = params.issuer;

  server::EnrollmentService enrollment(**store, *ca, std::move(*capf_trust), config.validity_days, clock);
  enrollment.set_keygen_attempts(params.keygen_attempts);
  enrollment.online().set_breakers(engine_config.breakers, engine_config.breaker);
  engine::PoolTriggerRunner trigger_runner(trigger, vm["trigger-threads"].as<unsigned>());
  engine::Engine job_engine(**store, clock, trigger_runner, engine_config);
  // "Certificate Issuer to Endpoint" and the Online CA, built from its parameters and from
  // CAPF-trust (which holds the CA's HTTPS chain); rebuilt whenever either changes.
  auto current_params = [&] {
    auto p = config::load(**store);
    return p ? *p : params;
  };
  auto apply_issuer = [&](const ServiceParams& p) {
    for (const auto& w : config::warnings(p)) log->warn("service parameters: {}", w);
    std::shared_ptr<OnlineCa> online;
    if (p.issuer == IssuerKind::online_ca || !p.online_ca.host.empty()) {
      std::string chain;
      if (auto certs = trust::certificates(**store, trust::Kind::capf_trust))
        for (const auto& c : *certs) chain += c.to_pem();
      auto made = ca_online::make_online_ca(p.online_ca, chain);
      if (made) online = std::move(*made);
      else if (p.issuer == IssuerKind::online_ca) log->warn("Online CA not usable: {}", made.error().message);
    }
    enrollment.set_issuer(p.issuer, std::move(online), p.online_ca);
    job_engine.set_issuer(p.issuer);
    log->info("Certificate Issuer to Endpoint: {}", to_string(p.issuer));
  };
  apply_issuer(params);
  if (auto r = job_engine.recover(); !r) throw Failure("job engine recovery: " + r.error().message);
  enrollment.set_hook(&job_engine);
  policy::Evaluator policies(**store, job_engine, ca->certificate().subject());  // renewal policies, run from the loop
  const unsigned io_threads = config.io_threads ? config.io_threads : std::max(2u, std::thread::hardware_concurrency());
  net::asio::io_context io(static_cast<int>(io_threads));
  net::asio::thread_pool workers(config.worker_threads);
  config.listen = listen_addresses(config.listen, **store);
  server::CapfServer capf_server(io, workers, enrollment, config, ca->certificate().to_pem(), ca->key().to_pem());
  capf_server.start();
  server::OnlineCaWorker ca_worker(enrollment.online(), clock);
  ca_worker.start();

  const auto& cert = ca->certificate();
  admin::AdminService admin_service(**store,
                                    admin::CaInfo{cert.to_pem(), cert.subject(), cert.serial_hex(),
                                                  to_string(cert.key_spec()), cert.sha256_fingerprint(),
                                                  cert.not_before(), cert.not_after()},
                                    clock, &job_engine);
  monitor::CertificateMonitor cert_monitor(**store, ca_dir(dir), monitor_clock);
  cert_monitor.set_breakers(engine_config.breakers, engine_config.breaker);
  cert_monitor.start(std::max(0, vm["monitor-first-check"].as<int>()));
  auto metrics = daemon_metrics(capf_server.stats(), job_engine);
  ModuleContext modules{.store = **store, .clock = clock, .engine = &job_engine, .data_dir = dir, .ca_subject = cert.subject()};
  modules.monitor = &cert_monitor;
  modules.trust_changed = [&] {
    auto rebuilt = trust::capf_trust(**store, &ca->certificate());
    if (!rebuilt) return log->error("CAPF-trust not reloaded: {}", rebuilt.error().message);
    trust_retired_cas(*rebuilt, ca_dir(dir));
    log->info("CAPF-trust reloaded: {} certificates", rebuilt->size());
    enrollment.set_trust(std::make_shared<const crypto::TrustStore>(std::move(*rebuilt)));
    apply_issuer(current_params());  // the Online CA's HTTPS chain comes from CAPF-trust too
  };
  modules.params_changed = [&](const ServiceParams& p) {
    // Applied at once: validity of the next LSCs, key-generation limit and keep-alive of the
    // next reads and connections, the issuer and the Online CA. Enable IPv6 applies at the next start.
    server::ServerConfig next;
    session_settings(p, next);
    enrollment.set_validity_days(next.validity_days);
    enrollment.set_keygen_attempts(p.keygen_attempts);
    capf_server.set_keygen_timeout(next.keygen_timeout);
    capf_server.set_keep_alive(next.keep_alive);
    capf_server.set_session_limit(next.session_limit);
    capf_server.set_max_sessions_per_address(next.max_sessions_per_address);
    apply_issuer(p);
    log->info("service parameters applied: validity {} days, keygen timeout {} min, keygen attempts {}, keep-alive {} s",
              p.validity_days, p.keygen_timeout_min, p.keygen_attempts, next.keep_alive.get().count());
  };
  install_admin_modules(admin_service, modules);
  const std::string token = util::to_hex(crypto::random_bytes(32));
  if (auto r = util::write_file_atomic(admin_token_file(dir), token, 0600); !r) throw Failure(r.error().message);
  admin::AdminServer admin_server(io, workers, admin_service, admin_socket(dir), token);
  admin_server.start();
  std::unique_ptr<web::WebServer> web_server;
  if (web_config) {
    web_config->admin_token = token;
    web_server = std::make_unique<web::WebServer>(io, workers, admin_service, std::move(*web_config));
    web_server->start();
    log->info("web dashboard: {} (log in with {} or a user from `capf web passwd`)", web_server->url(), admin_token_file(dir));
  }

  nlohmann::json info{{"pid", ::getpid()}, {"admin_socket", admin_socket(dir)}, {"capf", nlohmann::json::array()}};
  for (const auto& ep : capf_server.endpoints()) {
    const auto a = ep.address();
    info["capf"].push_back({{"address", a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()}, {"port", ep.port()}});
  }
  if (web_server) info["web"] = web_server->url();
  if (auto r = util::write_file_atomic(daemon_file(dir), info.dump(2), 0644); !r) throw Failure(r.error().message);
  log->info("capf ready: CA {} ; data {} ; admin socket {}", cert.subject(), dir, admin_socket(dir));

  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    log->info("signal {}: no new sessions; waiting up to 10 s for {} open ones", sig, capf_server.stats().sessions_open.load());
    capf_server.stop();
    admin_server.stop();
    if (web_server) web_server->stop();
    // Let running sessions finish their durable writes before the loop stops.
    net::spawn(io.get_executor(), [&]() -> net::awaitable<void> {
      net::asio::steady_timer t(io);
      for (int i = 0; i < 100 && capf_server.stats().sessions_open.load() > 0; ++i) {
        t.expires_after(std::chrono::milliseconds(100));
        co_await t.async_wait(net::asio::use_awaitable);
      }
      io.stop();
    }, "io", "the shutdown wait");
  });
  // The engine's scheduling loop; the renewal policies run in the same rounds.
  engine::SchedulingLoop engine_loop(job_engine, std::chrono::milliseconds(vm["tick-ms"].as<int>()),
                                     [&] { policies.tick(clock.now()); });
  engine_loop.start();
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads; ++i) threads.emplace_back([&io] { net::run_io(io); });
  net::run_io(io);
  for (auto& t : threads) t.join();
  engine_loop.stop();
  cert_monitor.stop();
  ca_worker.stop();
  trigger_runner.join();
  workers.join();
  ::unlink(daemon_file(dir).c_str());
  log->info("stopped");
  return 0;
}

}  // namespace capf::cli
