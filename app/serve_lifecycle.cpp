#include "serve_lifecycle.hpp"

#include "capf/crypto/lifecycle.hpp"
#include "capf/monitor/monitor.hpp"
#include "capf/server/config.hpp"
#include "capf/util/log.hpp"
#include "cli.hpp"

namespace capf::cli {

void trust_retired_cas(crypto::TrustStore& trust, const std::string& ca_dir) {
  auto log = util::logger("capf");
  auto retired = crypto::retired_cas(ca_dir);
  if (!retired) throw Failure("retired CAPF CAs: " + retired.error().message);
  for (const auto& r : *retired) {
    trust.add(r.certificate);
    log->info("CAPF-trust: retired CAPF CA {} (serial {})", r.certificate.subject(), r.certificate.serial_hex());
  }
}

std::vector<std::string> listen_addresses(std::vector<std::string> listen, const store::Store& store) {
  const auto params = monitor::load_params(store);
  if (params.enable_ipv6) return listen;
  auto log = util::logger("capf");
  std::vector<std::string> out;
  for (const auto& text : listen) {
    auto [host, port] = server::parse_host_port(text);
    if (host == "::") {
      out.push_back("0.0.0.0:" + std::to_string(port));
      log->info("Enable IPv6 is False: listening on 0.0.0.0:{} instead of {} (IPv4 only)", port, text);
    } else if (host.find(':') != std::string::npos) {
      log->warn("Enable IPv6 is False: not listening on {}", text);
    } else {
      out.push_back(text);
    }
  }
  if (out.empty()) throw Failure("Enable IPv6 is False and every --listen address is IPv6; give an IPv4 address");
  return out;
}

}  // namespace capf::cli
