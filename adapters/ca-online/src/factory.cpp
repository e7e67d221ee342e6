// Checking the Online CA Parameters before any request leaves.
#include <algorithm>

#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/text.hpp"

namespace capf::ca_online {

namespace {

Error bad(const std::string& text) { return make_error(Errc::invalid_argument, text); }

bool host_name_ok(const std::string& h) {
  return std::all_of(h.begin(), h.end(), [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

}  // namespace

Result<std::unique_ptr<OnlineCa>> make_online_ca(const OnlineCaParams& p, std::string trust_pem) {
  const std::string type = util::to_lower(p.type);
  const bool adcs = type == "microsoft" || type == "adcs";
  const bool cfssl = type == "cfssl";
  if (!adcs && !cfssl) return bad("unknown Online CA Type \"" + p.type + "\" (use microsoft or cfssl)");
  if (p.host.empty()) return bad("the Online CA Hostname is not set");
  if (p.host.find('@') != std::string::npos)  // not echoed: it may hold a password
    return bad("the Online CA Hostname must not hold credentials (user:password@); set the Online CA Username "
               "and Password instead");
  if (!host_name_ok(p.host))
    return bad("the Online CA Hostname \"" + p.host + "\" is not a host name (give the name only, no scheme or path)");
  if (p.port < 1 || p.port > 65535) return bad("the Online CA Port must be 1–65535, got " + std::to_string(p.port));
  if (p.template_name.empty())
    return bad(adcs ? "the Online CA Template is not set (the AD CS template's short name)"
                    : "the Online CA Template is not set (the cfssl signing profile)");
  if (p.timeout_s < 1) return bad("the online CA request timeout must be at least 1 s, got " + std::to_string(p.timeout_s));
  if (p.poll_interval_s < 1)
    return bad("the online CA poll interval must be at least 1 s, got " + std::to_string(p.poll_interval_s));
  if (p.retry_base_s < 1 || p.retry_ceiling_s < p.retry_base_s)
    return bad("the online CA retry backoff needs 1 ≤ base ≤ ceiling, got base " + std::to_string(p.retry_base_s) +
               " s and ceiling " + std::to_string(p.retry_ceiling_s) + " s");
  const bool needs_trust = adcs || p.https;
  if (needs_trust) {
    if (trust_pem.empty())
      return bad("no CA chain to trust for https://" + p.host +
                 ": upload the chain of the online CA's HTTPS certificate to CAPF-trust");
    if (auto certs = crypto::Certificate::all_from_pem(trust_pem); !certs)
      return bad("the CA chain to trust for https://" + p.host + " is unreadable: " + certs.error().message);
  }
  if (adcs) {
    if (p.username.empty()) return bad("the Online CA Username is not set");
    if (p.password.empty()) return bad("the Online CA Password is not set");
    return std::unique_ptr<OnlineCa>(std::make_unique<AdcsCa>(p, std::move(trust_pem)));
  }
  if (p.auth_key_hex.empty()) return bad("the cfssl auth key (hex) is not set");
  if (auto key = util::from_hex(p.auth_key_hex); !key || key->empty())
    return bad("the cfssl auth key is not hex (cfssl's \"standard\" auth keys are hex)");
  return std::unique_ptr<OnlineCa>(std::make_unique<CfsslCa>(p, std::move(trust_pem)));
}

}  // namespace capf::ca_online
