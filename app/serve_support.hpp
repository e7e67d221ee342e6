// Pieces of `capf serve` kept out of cmd_serve.cpp: the service parameters given on the
// command line or in --config FILE, and the daemon's metrics read at scrape time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capf/core/service_params.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/server/capf_server.hpp"
#include "capf/store/store.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/time.hpp"
#include "capf/web/web_server.hpp"
#include "cli.hpp"

namespace capf::cli {

/// One option per service parameter (`--keep-alive MIN`, `--validity-days N`, …, by their
/// `capf config` names), no defaults: only what is given counts.
po::options_description param_options();
/// The service parameters given, checked against their ranges; throws UsageError naming the
/// first bad one ("keep-alive must be 5–60 minutes, got 61").
std::vector<std::pair<std::string, std::string>> given_params(const po::variables_map& vm);
/// The stored parameters with the given ones applied; a change is stored with an audit entry
/// "config.set" by "capf serve", so `capf config` shows what runs. Throws Failure.
ServiceParams startup_params(store::Store& store, const util::Clock& clock,
                             const std::vector<std::pair<std::string, std::string>>& given);

/// Registers the daemon's scrape-time metrics (sessions, failures by reason, job queues);
/// keep the result while `stats` and `engine` live.
std::vector<util::metrics::Collection> daemon_metrics(const server::ServerStats& stats, const engine::Engine& engine);

/// The web dashboard's settings from --web, --web-allow-remote, --web-name, --web-cert,
/// --web-key and the --web-max-connections caps (app/serve_web.cpp); nullopt without --web. A non-loopback address without
/// --web-allow-remote, or a certificate without its key, is a UsageError; without --web-cert
/// a certificate for the loopback names (and the names given) is issued by the CAPF CA.
std::optional<web::WebConfig> dashboard_config(const po::variables_map& vm, const crypto::CertificateAuthority& ca,
                                               const std::string& dir);
/// The checks of dashboard_config without a CA (also for --check-config): the address and
/// --web-allow-remote, --web-cert with --web-key, whose files are read when `read_files`;
/// cert_pem stays "" without them.
std::optional<web::WebConfig> dashboard_settings(const po::variables_map& vm, bool read_files);

/// Raises the open-file limit to its hard limit (each CAPF session is a socket); returns a
/// note for the log when `max_sessions` sessions plus the store's files would still not fit,
/// else "".
std::string raise_open_file_limit(std::size_t max_sessions);

}  // namespace capf::cli
