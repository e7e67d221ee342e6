// The web dashboard's settings from `capf serve`'s options (kept out of cmd_serve.cpp).
#include "capf/crypto/web.hpp"
#include "capf/net/asio.hpp"
#include "capf/util/files.hpp"
#include "serve_support.hpp"

namespace capf::cli {

std::optional<web::WebConfig> dashboard_settings(const po::variables_map& vm, bool read_files) {
  if (!vm.count("web")) return std::nullopt;
  web::WebConfig wc;
  wc.listen = vm["web"].as<std::string>();
  net::tcp::endpoint ep;
  try {
    ep = web::parse_listen(wc.listen);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--web: ") + e.what());
  }
  if (!ep.address().is_loopback() && !vm["web-allow-remote"].as<bool>())
    throw UsageError("--web " + wc.listen + " is not a loopback address; add --web-allow-remote to serve the dashboard beyond this host");
  if (vm.count("web-name")) wc.host_names = vm["web-name"].as<std::vector<std::string>>();
  wc.max_connections = vm["web-max-connections"].as<std::size_t>();
  wc.max_connections_per_address = vm["web-max-connections-per-address"].as<std::size_t>();
  if (vm.count("web-cert") != vm.count("web-key")) throw UsageError("--web-cert and --web-key go together");
  if (vm.count("web-cert") && read_files) {
    auto cert = util::read_file(vm["web-cert"].as<std::string>());
    if (!cert) throw UsageError("--web-cert: " + cert.error().message);
    auto key = util::read_file(vm["web-key"].as<std::string>());
    if (!key) throw UsageError("--web-key: " + key.error().message);
    wc.cert_pem = *cert;
    wc.key_pem = *key;
  }
  return wc;
}

std::optional<web::WebConfig> dashboard_config(const po::variables_map& vm, const crypto::CertificateAuthority& ca,
                                               const std::string& dir) {
  auto settings = dashboard_settings(vm, true);
  if (!settings) return std::nullopt;
  web::WebConfig wc = std::move(*settings);
  if (wc.cert_pem.empty()) {
    const auto ep = web::parse_listen(wc.listen);
    std::vector<std::string> dns{"localhost"}, ips{"127.0.0.1", "::1"};
    const auto a = ep.address();
    if (!a.is_unspecified() && !a.is_loopback()) ips.push_back(a.to_string());
    for (const auto& n : wc.host_names) {
      boost::system::error_code ec;
      auto ip = net::asio::ip::make_address(n.size() > 2 && n.front() == '[' ? n.substr(1, n.size() - 2) : n, ec);
      (ec ? dns : ips).push_back(ec ? n : ip.to_string());
    }
    auto id = crypto::issue_tls_server_identity(ca, dns, ips, 90, util::now());
    if (!id) throw Failure("web dashboard certificate: " + id.error().message);
    wc.cert_pem = id->cert_pem;
    wc.key_pem = id->key_pem;
  }
  wc.users_path = web::users_file(dir);
  return wc;
}

}  // namespace capf::cli
