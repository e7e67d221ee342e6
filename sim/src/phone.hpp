// One simulated phone's CAPF session (the client side of capf-protocol.md §5).
#pragma once

#include "capf/net/message_io.hpp"
#include "capf/sim/simulator.hpp"

namespace capf::sim {

/// Shared by every phone of a run.
struct FleetContext {
  const SimOptions& options;
  net::asio::ssl::context& tls;
  net::asio::thread_pool& key_pool;
  const crypto::TrustStore& capf_trust;
  std::vector<net::tcp::endpoint> server;
};

/// Runs one session; updates `flash` when the phone stores or deletes an LSC.
net::awaitable<Outcome> run_phone(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash);

}  // namespace capf::sim
