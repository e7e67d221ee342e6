#include "capf/net/host_port.hpp"

#include "capf/util/text.hpp"

namespace capf::net {

namespace {

std::string quoted(std::string_view text) { return "\"" + util::escape_control(text) + "\""; }

Error bad_form(std::string_view text, std::string_view option) {
  return make_error(Errc::invalid_argument,
                    std::string(option) + " must be HOST:PORT or [IPV6]:PORT, got " + quoted(text));
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, std::string_view option, PortZero zero) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad_form(text, option);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad_form(text, option);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty())
    return make_error(Errc::invalid_argument, std::string(option) + ": no host in " + quoted(text) +
                                                  " (HOST:PORT or [IPV6]:PORT)");
  const unsigned lowest = zero == PortZero::allowed ? 0 : 1;
  // At most five digits, so the value is read without overflow and compared before the narrowing.
  unsigned value = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (const char c : port) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!digits || value < lowest || value > 65535)
    return make_error(Errc::invalid_argument, std::string(option) + ": bad port in " + quoted(text) +
                                                  ": must be " + std::to_string(lowest) + "–65535");
  return HostPort{std::string(host), static_cast<unsigned short>(value)};
}

Result<tcp::endpoint> parse_listen_endpoint(std::string_view text, std::string_view option) {
  auto hp = parse_host_port(text, option);
  if (!hp) return hp.error();
  if (hp->host == "localhost") hp->host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp->host, ec);
  if (ec)
    return make_error(Errc::invalid_argument,
                      std::string(option) + ": " + quoted(hp->host) + " in " + quoted(text) + " is not an IP address");
  return tcp::endpoint(address, hp->port);
}

std::string url_host(const asio::ip::address& address) {
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

}  // namespace capf::net
