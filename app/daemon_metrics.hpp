// The daemon's metrics that are read at scrape time (`capf metrics`, GET /metrics).
#pragma once

#include <vector>

#include "capf/engine/engine.hpp"
#include "capf/server/capf_server.hpp"
#include "capf/util/metrics.hpp"

namespace capf::cli {

/// Registers the daemon's scrape-time metrics (sessions, failures by reason, job queues);
/// keep the result while `stats` and `engine` live.
std::vector<util::metrics::Collection> daemon_metrics(const server::ServerStats& stats, const engine::Engine& engine);

}  // namespace capf::cli
