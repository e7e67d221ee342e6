// HOST:PORT as a user writes it in an option or in capf.conf: the one parser of listen and
// server addresses.
#pragma once

#include <string>
#include <string_view>

#include "capf/net/asio.hpp"
#include "capf/util/result.hpp"

namespace capf::net {

/// A parsed HOST:PORT.
struct HostPort {
  std::string host;  ///< an IP address or a name; an IPv6 address without its brackets
  unsigned short port = 0;
};

/// Whether port 0 is accepted: a listener's port 0 lets the system pick one; a peer's is never 0.
enum class PortZero { allowed, refused };

/// Parses "HOST:PORT" or "[IPV6]:PORT" (an IPv6 address written without brackets is split at its
/// last colon). The port is decimal digits whose value is checked against 0 (or 1) to 65535
/// before it is converted. Linear and bounded; never throws. The error names `option` (for
/// example "--listen") and quotes the text with its control characters escaped.
Result<HostPort> parse_host_port(std::string_view text, std::string_view option,
                                 PortZero zero = PortZero::allowed);

/// A listen address: parse_host_port whose host is an IP address ("localhost" is taken as
/// 127.0.0.1); a name is refused with an error naming `option`.
Result<tcp::endpoint> parse_listen_endpoint(std::string_view text, std::string_view option);

/// An address as it stands before ":PORT" in a URL or a log line: an IPv6 address in brackets.
std::string url_host(const asio::ip::address& address);

}  // namespace capf::net
