#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "capf/crypto/tls.hpp"
#include "capf/net/host_port.hpp"
#include "ip_connect.hpp"
#include "phone.hpp"

namespace capf::sim {

namespace asio = net::asio;

namespace {

/// One of `concurrency` workers: takes the next phone until none are left.
net::awaitable<void> worker(const FleetContext& ctx, const std::vector<PhoneProfile>& phones,
                            std::vector<std::optional<PhoneFlash>>& flashes, std::atomic<std::size_t>& next,
                            std::vector<Outcome>& outcomes) {
  for (;;) {
    const std::size_t i = next++;
    if (i >= phones.size()) co_return;
    if (!flashes[i]) continue;  // the phone could not boot; its outcome says why
    outcomes[i] = co_await run_and_save(ctx, phones[i], *flashes[i]);
  }
}

}  // namespace

net::awaitable<Outcome> run_and_save(const FleetContext& ctx, const PhoneProfile& phone, PhoneFlash& flash) {
  const PhoneFlash before = flash;
  Outcome out = co_await run_phone(ctx, phone, flash);
  if (flash.lsc_pem != before.lsc_pem || flash.pending_key_pem != before.pending_key_pem) {
    const auto& state_dir = ctx.options.state_dir;
    auto saved = co_await net::run_blocking(ctx.key_pool.get_executor(),
                                            [&] { return save_flash(state_dir, phone.name, flash); });
    if (!saved) out.detail += " (state not saved: " + saved.error().message + ")";
  }
  co_return out;
}

std::vector<std::optional<PhoneFlash>> boot(const SimOptions& options, const std::vector<PhoneProfile>& phones,
                                            std::vector<Outcome>& outcomes) {
  std::vector<std::optional<PhoneFlash>> flashes(phones.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, options.key_threads); ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < phones.size(); i = next++) {
        auto flash = load_flash(options.state_dir, phones[i].name, options.mic_key);
        if (flash) {
          flashes[i] = std::move(*flash);
        } else {
          outcomes[i].device = phones[i].name;
          outcomes[i].result = "error";
          outcomes[i].detail = "phone state: " + flash.error().message;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return flashes;
}

Result<FleetSetup> prepare_fleet(const SimOptions& options, asio::io_context& io) {
  auto ca_certs = crypto::Certificate::all_from_pem(options.ca_pem);
  if (!ca_certs || ca_certs->empty()) return make_error(Errc::invalid_argument, "--ca holds no certificate");
  FleetSetup setup;
  for (const auto& c : *ca_certs) setup.trust.add(c);
  if (!options.lsc_ca_pem.empty()) {
    auto extra = crypto::Certificate::all_from_pem(options.lsc_ca_pem);
    if (!extra) return make_error(Errc::invalid_argument, "--lsc-ca: " + extra.error().message);
    for (const auto& c : *extra) setup.trust.add(c);
  }
  if (auto r = init_manufacturer_ca(options.state_dir); !r) return r.error();

  setup.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (auto r = crypto::configure_client_tls(setup.tls->native_handle(), options.ca_pem, crypto::TlsLegacy::no); !r)
    return r.error();
  if (auto r = resolve_server(io, options.server_host, options.server_port, setup.server); !r) return r.error();
  for (const auto& more : options.more_servers) {
    auto hp = net::parse_host_port(more, "--server", net::PortZero::refused);
    if (!hp) return hp.error();
    if (auto r = resolve_server(io, hp->host, hp->port, setup.server); !r) return r.error();
  }
  if (!options.source_address.empty()) {
    boost::system::error_code ec;
    setup.source = asio::ip::make_address(options.source_address, ec);
    if (ec) return make_error(Errc::invalid_argument, "--source-address \"" + options.source_address + "\" is not an IP address");
  }
  return setup;
}

std::string result_key(const Outcome& o) {
  std::string key = o.result;
  if (o.result == "refused" || o.result == "unknown-device" || o.result == "no-action")
    key += " (reason " + std::to_string(o.reason) + ")";
  return key;
}

Summary summarize(std::vector<Outcome> outcomes, double elapsed_seconds) {
  Summary s;
  s.elapsed_seconds = elapsed_seconds;
  for (const auto& o : outcomes) {
    ++s.by_result[result_key(o)];
    if (o.result == "installed") ++s.enrollments;
  }
  s.outcomes = std::move(outcomes);
  return s;
}

Result<Summary> run_fleet(const SimOptions& options, const std::vector<PhoneProfile>& phones) {
  asio::io_context io;
  auto setup = prepare_fleet(options, io);
  if (!setup) return setup.error();
  asio::thread_pool key_pool(options.key_threads ? options.key_threads : 1);
  FleetContext ctx{options, *setup->tls, key_pool, setup->trust, setup->server, setup->source};
  std::vector<Outcome> outcomes(phones.size());
  auto flashes = boot(options, phones, outcomes);
  std::atomic<std::size_t> next{0};
  const auto started = std::chrono::steady_clock::now();
  const std::size_t workers = std::max<std::size_t>(1, std::min(options.concurrency, phones.size()));
  for (std::size_t w = 0; w < workers; ++w)
    asio::co_spawn(asio::make_strand(io), worker(ctx, phones, flashes, next, outcomes), asio::detached);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) threads.emplace_back([&io] { io.run(); });
  for (auto& t : threads) t.join();
  key_pool.join();
  return summarize(std::move(outcomes),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace capf::sim
