// `capf serve`: wires store, CA, CAPF server and admin API together and runs them.
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <fstream>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "capf/admin/http.hpp"
#include "capf/core/service_params.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/server/ca_worker.hpp"
#include "capf/server/capf_server.hpp"
#include "capf/store/store.hpp"
#include "capf/util/files.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "cli.hpp"
#include "modules.hpp"
#include "capf/monitor/monitor.hpp"
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
    ("validity-days", po::value<int>()->default_value(1825), "Duration of Certificate Validity, 1–1825 days")
    ("ca-key-type", po::value<std::string>()->default_value("rsa2048"), "key of a new CAPF CA: rsa2048, p256, p384")
    ("tls-legacy", po::bool_switch(), "also allow TLS 1.0/1.1 and legacy ciphers (old phone models)")
    ("keygen-timeout", po::value<int>()->default_value(600), "Maximum Allowable Time For Key Generation, seconds")
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
    ("global-burst", po::value<double>()->default_value(1), "burst of the global rate")
    ("global-max-in-flight", po::value<int>()->default_value(0), "devices in flight across all jobs (0 = no cap)")
    ("session-wait", po::value<int>()->default_value(300), "seconds a triggered phone has to open its CAPF session")
    ("backoff-base", po::value<int>()->default_value(30), "first retry delay ceiling, seconds (full jitter below it)")
    ("backoff-ceiling", po::value<int>()->default_value(3600), "longest retry delay, seconds")
    ("tick-ms", po::value<int>()->default_value(100), "job engine scheduling period, milliseconds")
    ("monitor-first-check", po::value<int>()->default_value(60), "seconds after start of the certificate monitor's first check");
  return d;
}

}  // namespace

int cmd_serve(const Args& args) {
  auto desc = common_options();
  desc.add(serve_options());
  desc.add_options()("config", po::value<std::string>(), "configuration file");
  po::positional_options_description none;
  auto vm = parse(args, desc, none, "capf serve [--data-dir DIR] [--listen ADDR:PORT] [--config FILE]");
  if (vm.count("config")) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw UsageError("cannot read --config " + path);
    try {
      po::store(po::parse_config_file(in, serve_options()), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      throw UsageError(path + ": " + e.what());
    }
  }
  util::set_log_level(vm.count("log-level") && !vm["log-level"].defaulted() ? vm["log-level"].as<std::string>() : "info");
  auto log = util::logger("capf");

  server::ServerConfig config;
  if (vm.count("listen")) config.listen = vm["listen"].as<std::vector<std::string>>();
  config.validity_days = vm["validity-days"].as<int>();
  if (config.validity_days < kMinValidityDays || config.validity_days > kMaxValidityDays)
    throw UsageError("--validity-days (Duration of Certificate Validity) must be 1–1825 days, got " +
                     std::to_string(config.validity_days));
  config.tls_legacy = vm["tls-legacy"].as<bool>() ? crypto::TlsLegacy::yes : crypto::TlsLegacy::no;
  config.keygen_timeout = std::chrono::seconds(vm["keygen-timeout"].as<int>());
  config.step_timeout = std::chrono::seconds(vm["step-timeout"].as<int>());
  config.handshake_timeout = std::chrono::seconds(vm["handshake-timeout"].as<int>());
  for (const char* t : {"keygen-timeout", "step-timeout", "handshake-timeout"})
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

  const std::string dir = data_dir(vm);
  if (auto r = util::make_dirs(dir, 0700); !r) throw Failure(r.error().message);
  auto ca = crypto::CertificateAuthority::load_or_create(ca_dir(dir), ca_options(vm["ca-key-type"].as<std::string>()));
  if (!ca) throw Failure("CAPF CA: " + ca.error().message);
  auto store = store::Store::open(store_dir(dir));
  if (!store) throw Failure(store.error().message);

  crypto::TrustStore trust;
  trust.add(ca->certificate());
  trust_retired_cas(trust, ca_dir(dir));
  if (vm.count("mic-root")) {
    for (const auto& path : vm["mic-root"].as<std::vector<std::string>>()) {
      auto pem = util::read_file(path);
      if (!pem) throw Failure("--mic-root: " + pem.error().message);
      auto certs = crypto::Certificate::all_from_pem(*pem);
      if (!certs || certs->empty()) throw Failure("--mic-root " + path + ": no certificate in the file");
      for (const auto& c : *certs) {
        trust.add(c);
        log->info("CAPF-trust: MIC root {}", c.subject());
      }
    }
  }

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
  engine_config.global_max_in_flight = vm["global-max-in-flight"].as<int>();
  engine_config.retry.session_wait_s = vm["session-wait"].as<int>();
  engine_config.retry.backoff_base_s = vm["backoff-base"].as<int>();
  engine_config.retry.backoff_ceiling_s = vm["backoff-ceiling"].as<int>();
  for (const char* t : {"session-wait", "backoff-base", "backoff-ceiling", "tick-ms", "trigger-timeout"})
    if (vm[t].as<int>() < 1) throw UsageError(std::string("--") + t + " must be at least 1");

  // Service parameters kept in the store (`capf config`); defaults when never set.
  ServiceParams params;
  if (auto doc = (*store)->get_doc(store::Family::params, "service"); !doc) {
    throw Failure("reading the service parameters: " + doc.error().message);
  } else if (doc->has_value()) {
    auto decoded = decode_params(**doc);
    if (!decoded) throw Failure("the stored service parameters do not decode: " + decoded.error().message);
    params = std::move(*decoded);
  }
  engine_config.issuer = params.issuer;

  util::SystemClock clock;
  server::EnrollmentService enrollment(**store, *ca, std::move(trust), config.validity_days, clock);
  std::shared_ptr<OnlineCa> online_ca;
  enrollment.set_issuer(params.issuer, online_ca, params.online_ca);
  log->info("Certificate Issuer to Endpoint: {}", to_string(params.issuer));
  engine::PoolTriggerRunner trigger_runner(trigger, vm["trigger-threads"].as<unsigned>());
  engine::Engine job_engine(**store, clock, trigger_runner, engine_config);
  if (auto r = job_engine.recover(); !r) throw Failure("job engine recovery: " + r.error().message);
  enrollment.set_hook(&job_engine);
  const unsigned io_threads = config.io_threads ? config.io_threads : std::max(2u, std::thread::hardware_concurrency());
  net::asio::io_context io(static_cast<int>(io_threads));
  net::asio::thread_pool workers(config.worker_threads);
  config.listen = listen_addresses(config.listen, **store);
  server::CapfServer capf_server(io, workers, enrollment, config, ca->certificate().to_pem(), ca->key().to_pem());
  capf_server.start();
  server::OnlineCaWorker ca_worker(enrollment, clock);
  ca_worker.start();

  const auto& cert = ca->certificate();
  admin::AdminService admin_service(**store,
                                    admin::CaInfo{cert.to_pem(), cert.subject(), cert.serial_hex(),
                                                  to_string(cert.key_spec()), cert.sha256_fingerprint(),
                                                  cert.not_before(), cert.not_after()},
                                    clock, &job_engine);
  monitor::CertificateMonitor cert_monitor(**store, ca_dir(dir), clock);
  cert_monitor.start(std::max(0, vm["monitor-first-check"].as<int>()));
  install_admin_modules(admin_service, ModuleContext{**store, clock, &job_engine, dir, &cert_monitor});
  const std::string token = util::to_hex(crypto::random_bytes(32));
  if (auto r = util::write_file_atomic(admin_token_file(dir), token, 0600); !r) throw Failure(r.error().message);
  admin::AdminServer admin_server(io, workers, admin_service, admin_socket(dir), token);
  admin_server.start();

  nlohmann::json info{{"pid", ::getpid()}, {"admin_socket", admin_socket(dir)}, {"capf", nlohmann::json::array()}};
  for (const auto& ep : capf_server.endpoints()) {
    const auto a = ep.address();
    info["capf"].push_back({{"address", a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()}, {"port", ep.port()}});
  }
  if (auto r = util::write_file_atomic(daemon_file(dir), info.dump(2), 0644); !r) throw Failure(r.error().message);
  log->info("capf ready: CA {} ; data {} ; admin socket {}", cert.subject(), dir, admin_socket(dir));

  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    log->info("signal {}: no new sessions; waiting up to 10 s for {} open ones", sig, capf_server.stats().sessions_open.load());
    capf_server.stop();
    admin_server.stop();
    // Let running sessions finish their durable writes before the loop stops.
    net::asio::co_spawn(io, [&]() -> net::awaitable<void> {
      net::asio::steady_timer t(io);
      for (int i = 0; i < 100 && capf_server.stats().sessions_open.load() > 0; ++i) {
        t.expires_after(std::chrono::milliseconds(100));
        co_await t.async_wait(net::asio::use_awaitable);
      }
      io.stop();
    }, net::asio::detached);
  });
  // The engine's scheduling loop: one round every tick, until the daemon stops.
  std::mutex loop_mutex;
  std::condition_variable loop_cv;
  bool loop_stop = false;
  const auto tick = std::chrono::milliseconds(vm["tick-ms"].as<int>());
  std::thread engine_loop([&] {
    // Fixed deadlines, not "sleep after each round": a slow round must not stretch the period,
    // or the rate limiter would lose the lateness of every token.
    std::unique_lock lock(loop_mutex);
    auto next = std::chrono::steady_clock::now();
    while (!loop_stop) {
      lock.unlock();
      job_engine.tick();
      lock.lock();
      next += tick;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;  // after a long stall, do not try to catch up in a burst
      loop_cv.wait_until(lock, next, [&] { return loop_stop; });
    }
  });
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(loop_mutex);
    loop_stop = true;
  }
  loop_cv.notify_all();
  engine_loop.join();
  cert_monitor.stop();
  ca_worker.stop();
  trigger_runner.join();
  workers.join();
  ::unlink(daemon_file(dir).c_str());
  log->info("stopped");
  return 0;
}

}  // namespace capf::cli
