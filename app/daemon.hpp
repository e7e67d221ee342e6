// The running `capf serve`: one object holding every part the daemon starts.
//
// The members are declared in start order: the data directory, the CAPF CA, the store, the
// service parameters, the dashboard's certificate, the enrollment service with CAPF-trust, the
// job engine, the I/O context and worker pool, the CAPF listener, the Online CA worker, the
// admin API, the certificate monitor, the admin socket, the dashboard, the scheduling loop. The
// constructor builds them top to bottom and starts them in the same order; so the destructor,
// which takes them down bottom to top, follows the shutdown order: no part is destroyed while
// one started after it may still call it. Keep that order when adding a member.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capf/admin/admin_service.hpp"
#include "capf/admin/http.hpp"
#include "capf/core/service_params.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/engine/loop.hpp"
#include "capf/monitor/monitor.hpp"
#include "capf/net/asio.hpp"
#include "capf/policy/evaluator.hpp"
#include "capf/server/ca_worker.hpp"
#include "capf/server/capf_server.hpp"
#include "capf/store/store.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/time.hpp"
#include "capf/web/web_server.hpp"
#include "modules.hpp"
#include "serve_options.hpp"

namespace capf::cli {

/// The wall clock moved by a fixed offset (the monitor's clock under --test-monitor-clock-offset).
class OffsetClock final : public util::Clock {
 public:
  explicit OffsetClock(util::UnixTime offset) : offset_(offset) {}
  util::UnixTime now() const override { return util::now() + offset_; }

 private:
  util::UnixTime offset_;
};

class Daemon {
 public:
  /// Starts the daemon in `data_dir` (made 0700): loads or creates the CAPF CA, opens the
  /// store, stores the service parameters given (audited), builds CAPF-trust (MIC roots,
  /// retired CAs), recovers the job engine, starts the CAPF listener, the Online CA worker, the
  /// certificate monitor, the admin API and the dashboard, and writes DATA/daemon.json.
  /// Throws Failure (UsageError for an unreadable --trigger-password-file, --trigger-ca,
  /// --web-cert or --web-key); what was started is stopped again.
  Daemon(ServeOptions options, std::string data_dir);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Applies changed service parameters at once: validity of the next LSCs, key-generation
  /// limit, attempts and keep-alive of the next reads and connections, the session limit, the
  /// sessions per address, the issuer and the Online CA. Enable IPv6 applies at the next start.
  void apply(const ServiceParams& params);
  /// Rebuilds CAPF-trust from the store (with the retired CAs) after it changed, and with it
  /// the Online CA, whose HTTPS chain comes from CAPF-trust too.
  void reload_trust();
  /// Runs the scheduling loop and the I/O threads until SIGINT or SIGTERM; then stops taking
  /// sessions, lets open ones finish for up to 10 s, stops every thread and removes
  /// DATA/daemon.json. Returns the exit code (0).
  int run();

 private:
  /// "Certificate Issuer to Endpoint" and the Online CA, built from `params` and CAPF-trust.
  void apply_issuer(const ServiceParams& params);
  /// The stored service parameters, or those of the start when they cannot be read.
  ServiceParams current_params() const;
  /// The keep-alive, keygen and session limits `params` give the CAPF sessions.
  server::ServerConfig session_settings(const ServiceParams& params, server::ServerConfig config) const;
  /// CAPF-trust at start: MIC roots added once, the store's entries, this CA, the retired CAs.
  crypto::TrustStore capf_trust_at_start();
  /// The listen addresses under "Enable IPv6"; the default when none was given.
  server::ServerConfig listener_config();
  std::optional<web::WebConfig> dashboard_config() const;
  engine::TriggerConfig trigger_config() const;
  ModuleContext module_context();
  void start_dashboard();
  void write_daemon_file() const;
  /// On SIGINT/SIGTERM: closes the listeners and stops the loop once sessions have ended.
  void shut_down(int signal);
  /// Each scheduling round, after the engine's: the renewal policies, and every 10 s the
  /// allocator's free pages back to the system (a night's sessions would otherwise leave the
  /// resident size at its highest).
  void each_round();

  ServeOptions options_;
  const std::string dir_;  ///< the data directory, made private before anything else
  util::SystemClock clock_;
  OffsetClock monitor_clock_;
  crypto::CertificateAuthority ca_;
  std::unique_ptr<store::Store> store_;
  const ServiceParams params_;  ///< at start: the stored ones with those given applied
  engine::EngineConfig engine_config_;
  std::optional<web::WebConfig> web_config_;  ///< checked before anything listens
  server::EnrollmentService enrollment_;
  engine::PoolTriggerRunner trigger_runner_;
  engine::Engine engine_;
  policy::Evaluator policies_;                               ///< renewal policies, run from the scheduling loop
  std::chrono::steady_clock::time_point heap_trimmed_at_{};  ///< by each_round, on the loop's thread
  const unsigned io_threads_;
  net::asio::io_context io_;
  /// SIGINT and SIGTERM, caught from before anything listens or DATA/daemon.json says the daemon
  /// is ready: a stop asked for at once is a clean stop, never the signal's default action.
  net::asio::signal_set signals_;
  net::asio::thread_pool workers_;
  server::CapfServer capf_server_;
  server::OnlineCaWorker ca_worker_;
  admin::AdminService admin_service_;
  monitor::CertificateMonitor cert_monitor_;
  std::vector<util::metrics::Collection> metrics_;
  const std::string token_;  ///< the admin API's bearer token, in DATA/admin.token (0600)
  admin::AdminServer admin_server_;
  std::unique_ptr<web::WebServer> web_server_;
  engine::SchedulingLoop engine_loop_;
};

}  // namespace capf::cli
