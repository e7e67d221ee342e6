#include "ip_connect.hpp"

#include <cctype>

namespace capf::sim {

namespace asio = net::asio;

std::string_view to_string(IpMode m) {
  switch (m) {
    case IpMode::dual: return "dual";
    case IpMode::ipv4: return "ipv4";
    case IpMode::ipv6: return "ipv6";
  }
  return "dual";
}

std::optional<IpMode> parse_ip_mode(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "dual" || t == "dual-stack" || t == "both" || t == "two-stack") return IpMode::dual;
  if (t == "ipv4" || t == "v4" || t == "ipv4-only") return IpMode::ipv4;
  if (t == "ipv6" || t == "v6" || t == "ipv6-only") return IpMode::ipv6;
  return std::nullopt;
}

IpMode ip_mode_from_addresses(const std::string& ipv4, const std::string& ipv6) {
  if (!ipv4.empty() && ipv6.empty()) return IpMode::ipv4;
  if (ipv4.empty() && !ipv6.empty()) return IpMode::ipv6;
  return IpMode::dual;
}

namespace {

std::string describe(const net::tcp::endpoint& ep) {
  const auto a = ep.address();
  return a.is_v6() ? "IPv6 [" + a.to_string() + "]:" + std::to_string(ep.port())
                   : "IPv4 " + a.to_string() + ":" + std::to_string(ep.port());
}

bool is_v6(const net::tcp::endpoint& ep) { return ep.address().is_v6() && !ep.address().to_v6().is_v4_mapped(); }

}  // namespace

std::vector<net::tcp::endpoint> endpoints_for(IpMode mode, const std::vector<net::tcp::endpoint>& server) {
  std::vector<net::tcp::endpoint> out;
  if (mode != IpMode::ipv4)
    for (const auto& ep : server)
      if (is_v6(ep)) out.push_back(ep);
  if (mode != IpMode::ipv6)
    for (const auto& ep : server)
      if (!is_v6(ep)) out.push_back(ep);
  return out;
}

net::awaitable<std::string> connect_by_ip_mode(net::tcp::socket& socket, const std::vector<net::tcp::endpoint>& server,
                                               IpMode mode, const std::optional<asio::ip::address>& source) {
  const std::string who = mode == IpMode::ipv4 ? "IPv4-only phone" : mode == IpMode::ipv6 ? "IPv6-only phone" : "dual-stack phone";
  const auto targets = endpoints_for(mode, server);
  if (targets.empty()) {
    std::string have;
    for (const auto& ep : server) have += (have.empty() ? "" : ", ") + describe(ep);
    throw NoConnection(who + ": CAPF has no " + (mode == IpMode::ipv4 ? "IPv4" : "IPv6") + " address (CAPF has " +
                       (have.empty() ? "none" : have) + ")");
  }
  std::string tried;
  for (const auto& ep : targets) {
    boost::system::error_code ec;
    if (socket.is_open()) socket.close(ec);
    if (source) {
      if (source->is_v6() != ep.address().is_v6()) continue;
      socket.open(ep.protocol(), ec);
      if (!ec) socket.bind({*source, 0}, ec);
      if (ec) {
        tried += (tried.empty() ? "" : "; ") + describe(ep) + ": cannot connect from " + source->to_string() + ": " + ec.message();
        continue;
      }
    }
    co_await socket.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_return describe(ep) + (tried.empty() ? "" : " (after " + tried + ")");
    tried += (tried.empty() ? "" : "; ") + describe(ep) + ": " + ec.message();
  }
  throw NoConnection(who + " cannot connect to CAPF: " + tried);
}

Result<void> resolve_server(asio::io_context& io, const std::string& host, unsigned short port,
                            std::vector<net::tcp::endpoint>& out) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    out.emplace_back(address, port);
    return ok();
  }
  net::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return make_error(Errc::unavailable, "cannot resolve " + host + ": " + ec.message());
  for (const auto& r : results) out.push_back(r.endpoint());
  return ok();
}

}  // namespace capf::sim
