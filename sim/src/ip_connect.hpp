// How a simulated phone reaches CAPF by its IP mode (the seed's IPv6 table): an IPv4-only
// phone uses CAPF's IPv4 addresses, an IPv6-only phone its IPv6 ones, a dual-stack phone tries
// IPv6 first, then IPv4.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "capf/net/message_io.hpp"
#include "capf/sim/simulator.hpp"

namespace capf::sim {

/// The phone could not open a TCP connection to CAPF; the message says why ("IPv4-only
/// phone: CAPF has no IPv4 address", or every address tried and its error).
struct NoConnection : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The addresses a phone in `mode` tries, in its order.
std::vector<net::tcp::endpoint> endpoints_for(IpMode mode, const std::vector<net::tcp::endpoint>& server);

/// Connects `socket` to the first address that accepts, from `source` when it is set (then
/// only to addresses of its family); returns "IPv6 [::1]:P" or "IPv4 A:P", followed by
/// "(after …)" naming the addresses that failed first.
/// Throws NoConnection.
net::awaitable<std::string> connect_by_ip_mode(net::tcp::socket& socket, const std::vector<net::tcp::endpoint>& server,
                                               IpMode mode, const std::optional<net::asio::ip::address>& source = {});

/// Appends the addresses of `host` (a literal address or a name, all its addresses).
Result<void> resolve_server(net::asio::io_context& io, const std::string& host, unsigned short port,
                            std::vector<net::tcp::endpoint>& out);

}  // namespace capf::sim
