// `capf serve`'s options: their descriptions, and the pure step from parsed options to the
// checked ServeOptions the daemon starts from (no file is read, nothing is created).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/server/config.hpp"
#include "capf/util/log.hpp"
#include "capf/util/result.hpp"
#include "capf/web/web_server.hpp"
#include "cli.hpp"

namespace capf::cli {

/// The web dashboard's settings from --web and its companions; the certificate files are
/// read, or a certificate is issued by the CAPF CA, when the daemon starts.
struct DashboardOptions {
  web::WebConfig config;  ///< listen, host_names and the connection caps; no certificate yet
  std::string cert_file;  ///< --web-cert ("" = issue one at start)
  std::string key_file;   ///< --web-key (given exactly when cert_file is)
};

/// Test-only flags taken out of the command line before it is parsed (not in --help); 0 when
/// absent.
struct TestFlags {
  int keep_alive_s = 0;            ///< --test-keep-alive-seconds: a keep-alive close without waiting minutes
  int monitor_clock_offset_s = 0;  ///< --test-monitor-clock-offset: the certificate monitor runs this far ahead
};

/// Everything `capf serve` was told, checked. Files named here are read at start.
struct ServeOptions {
  std::string log_level = "info";  ///< --log-level when given, else info
  util::LogOptions log;            ///< --log-console, --log-file, --log-max-size, --log-files
  /// Service parameters given on the command line or in --config FILE, by their `capf config`
  /// names, each checked against its range.
  std::vector<std::pair<std::string, std::string>> given_params;
  /// The CAPF listener and its sessions; `listen` is empty when no --listen was given (the
  /// default then follows Enable IPv6).
  server::ServerConfig server;
  crypto::CaOptions ca;                       ///< the key of a new CAPF CA (--ca-key-type)
  std::vector<std::string> mic_root_files;    ///< --mic-root PEM files
  engine::TriggerConfig trigger;              ///< Apply Config, without the password and CA files' contents
  std::string trigger_password_file;          ///< "" = none
  std::string trigger_ca_file;                ///< "" = none
  unsigned trigger_threads = 8;
  engine::EngineConfig engine;                ///< without the breakers and the issuer (set at start)
  std::optional<DashboardOptions> dashboard;  ///< nullopt without --web
  int monitor_first_check_s = 60;
  bool check_config = false;  ///< --check-config: print the parameters given and exit
  TestFlags test;
};

/// The serve options proper (also accepted as `key = value` lines in --config FILE).
po::options_description serve_options_description();
/// One option per service parameter (`--keep-alive MIN`, `--validity-days N`, …, by their
/// `capf config` names), no defaults: only what is given counts.
po::options_description param_options();
/// What --config FILE may set: the serve options, the service parameters, data-dir, log-level.
po::options_description config_file_options();

/// Takes the test-only flags (`FLAG SECONDS`) out of `args`; an error names a flag whose value
/// is not a number of seconds of at least 1.
Result<TestFlags> take_test_flags(Args& args);

/// Checks the parsed options and builds ServeOptions; the error (Errc::invalid_argument) names
/// the first bad option and why ("--step-timeout must be at least 1 second", "keep-alive must
/// be 5–60 minutes, got 61", "--web 10.1.2.3:8443 is not a loopback address; …").
Result<ServeOptions> parse_serve_options(const po::variables_map& vm, TestFlags test = {});

}  // namespace capf::cli
