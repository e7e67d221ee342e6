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
  std::optional<net::asio::ip::address> source;  ///< SimOptions::source_address, parsed
};

/// Runs one session; updates `flash` when the phone stores or deletes an LSC.
net::awaitable<Outcome> run_phone(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash);

/// What every run owns before its phones start: the CAPF CA trust, the TLS client context and
/// the daemon's resolved endpoints (fleet.cpp).
struct FleetSetup {
  crypto::TrustStore trust;
  std::unique_ptr<net::asio::ssl::context> tls;
  std::vector<net::tcp::endpoint> server;
  std::optional<net::asio::ip::address> source;
};

/// Checks the options, creates the manufacturer CA when missing, resolves the server.
Result<FleetSetup> prepare_fleet(const SimOptions& options, net::asio::io_context& io);

/// Boots every phone (loads its flash; a new phone gets its MIC from the manufacturer CA) on
/// the key threads; a phone that cannot boot has no flash and its outcome says why.
std::vector<std::optional<PhoneFlash>> boot(const SimOptions& options, const std::vector<PhoneProfile>& phones,
                                            std::vector<Outcome>& outcomes);

/// run_phone, then saves the flash when the LSC changed (the save runs on the key threads).
net::awaitable<Outcome> run_and_save(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash);

/// The Summary key of an outcome: "installed", "refused (reason 7)", …
std::string result_key(const Outcome& o);

/// Totals of the outcomes of a run that took `elapsed_seconds`.
Summary summarize(std::vector<Outcome> outcomes, double elapsed_seconds);

}  // namespace capf::sim
