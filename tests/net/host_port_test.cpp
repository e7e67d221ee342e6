// The one HOST:PORT parser (net/host_port.hpp): every listen and server option goes through it.
#include "capf/net/host_port.hpp"

#include <gtest/gtest.h>

#include <string>

namespace capf::net {
namespace {

struct Case {
  std::string text;
  PortZero zero;
  bool ok;
  std::string host;           // when ok
  unsigned short port;        // when ok
  std::string error_has;      // when not ok: words the error must contain
};

TEST(HostPort, TableOfForms) {
  const Case cases[] = {
      {"127.0.0.1:3804", PortZero::allowed, true, "127.0.0.1", 3804, ""},
      {"localhost:0", PortZero::allowed, true, "localhost", 0, ""},
      {"capf.example:65535", PortZero::refused, true, "capf.example", 65535, ""},
      {"[::1]:8443", PortZero::allowed, true, "::1", 8443, ""},
      {"[::]:0", PortZero::allowed, true, "::", 0, ""},
      {"[fe80::1%eth0]:1", PortZero::refused, true, "fe80::1%eth0", 1, ""},
      {"::1:9", PortZero::allowed, true, "::1", 9, ""},  // unbracketed: split at the last colon
      {"0.0.0.0:00080", PortZero::allowed, true, "0.0.0.0", 80, ""},
      // Hostile and mistaken forms.
      {"", PortZero::allowed, false, "", 0, "--opt must be HOST:PORT or [IPV6]:PORT, got \"\""},
      {"8443", PortZero::allowed, false, "", 0, "must be HOST:PORT"},
      {":8443", PortZero::allowed, false, "", 0, "--opt: no host in \":8443\""},
      {"[]:8443", PortZero::allowed, false, "", 0, "no host"},
      {"[::1]8443", PortZero::allowed, false, "", 0, "must be HOST:PORT"},
      {"[::1:8443", PortZero::allowed, false, "", 0, "must be HOST:PORT"},
      {"[::1]", PortZero::allowed, false, "", 0, "must be HOST:PORT"},
      {"[::1]:", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:", PortZero::allowed, false, "", 0, "--opt: bad port in \"127.0.0.1:\": must be 0–65535"},
      {"127.0.0.1:65536", PortZero::allowed, false, "", 0, "bad port in \"127.0.0.1:65536\""},
      {"127.0.0.1:99999", PortZero::allowed, false, "", 0, "bad port in \"127.0.0.1:99999\""},
      {"127.0.0.1:4294967297", PortZero::allowed, false, "", 0, "bad port"},  // wraps a 32-bit int to 1
      {"127.0.0.1:18446744073709551617", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:-1", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:+80", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1: 80", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:80 ", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:0x50", PortZero::allowed, false, "", 0, "bad port"},
      {"127.0.0.1:0", PortZero::refused, false, "", 0, "--opt: bad port in \"127.0.0.1:0\": must be 1–65535"},
      {"127.0.0.1:000000", PortZero::allowed, false, "", 0, "bad port"},  // more than five digits
      {std::string("127.0.0.1:8\0", 12), PortZero::allowed, false, "", 0, "bad port in \"127.0.0.1:8\\x00\""},
      {"evil\nforged line:1:x", PortZero::allowed, false, "", 0, "\"evil\\nforged line:1:x\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto r = parse_host_port(c.text, "--opt", c.zero);
    ASSERT_EQ(r.ok(), c.ok) << (r ? r->host : r.error().message);
    if (c.ok) {
      EXPECT_EQ(r->host, c.host);
      EXPECT_EQ(r->port, c.port);
    } else {
      EXPECT_EQ(r.error().code, Errc::invalid_argument);
      EXPECT_NE(r.error().message.find(c.error_has), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "a control character reached the message";
    }
  }
}

TEST(HostPort, ListenEndpointsAreAddresses) {
  const auto v4 = parse_listen_endpoint("127.0.0.1:8443", "--web");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->port(), 8443);
  const auto local = parse_listen_endpoint("localhost:0", "--web");
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_EQ(local->address().to_string(), "127.0.0.1");
  const auto v6 = parse_listen_endpoint("[::1]:9", "--web");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_TRUE(v6->address().is_loopback());

  const auto name = parse_listen_endpoint("example.com:8443", "--web");
  ASSERT_FALSE(name);
  EXPECT_NE(name.error().message.find("--web: \"example.com\""), std::string::npos) << name.error().message;
  EXPECT_NE(name.error().message.find("is not an IP address"), std::string::npos) << name.error().message;
  const auto port = parse_listen_endpoint("127.0.0.1:70000", "--listen");
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("--listen: bad port"), std::string::npos) << port.error().message;
  EXPECT_FALSE(parse_listen_endpoint("8443", "--web"));
}

TEST(HostPort, UrlHostBracketsIpv6) {
  EXPECT_EQ(url_host(asio::ip::make_address("::1")), "[::1]");
  EXPECT_EQ(url_host(asio::ip::make_address("127.0.0.1")), "127.0.0.1");
}

}  // namespace
}  // namespace capf::net
