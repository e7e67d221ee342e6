// The online CA adapters capf speaks (Online CA Type): Microsoft AD CS web enrollment and cfssl.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capf/core/issuer.hpp"
#include "capf/core/service_params.hpp"
#include "capf/util/result.hpp"

namespace capf::ca_online {

/// The browser-like User-Agent sent to certsrv (its ASP pages sniff the browser).
inline constexpr const char* kAdcsUserAgent = "Mozilla/5.0 (compatible; capf/0.1; AD CS web enrollment)";

/// Microsoft AD CS web enrollment (online-ca.md §1): HTTPS with Basic authentication to
/// https://HOST:PORT/certsrv/, trusting only `trust_pem` (CAPF-trust's chain for the CA's HTTPS
/// certificate), whose name must equal HOST. Classification: docs/arch/online-ca.md.
class AdcsCa : public OnlineCa {
 public:
  /// Use make_online_ca, which checks the parameters first.
  AdcsCa(OnlineCaParams params, std::string trust_pem);
  std::string name() const override { return "adcs"; }
  /// POST certfnsh.asp (Mode=newreq, the CSR as PEM, CertAttrib=CertificateTemplate:<template>);
  /// issued → the certificate (certnew.cer) and its chain (certnew.p7b) under the ReqID.
  CaOutcome submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) override;
  /// GET certnew.cer?ReqID=<handle>&Enc=b64.
  CaOutcome poll(const std::string& handle) override;
  bool can_pend() const override { return true; }
  /// The login probe: GET /certsrv/ (issued with an empty certificate on success, else rejected).
  CaOutcome check_credentials();

 private:
  struct Reply;
  Reply call(const std::string& method, const std::string& path, const std::string& body) const;
  CaOutcome retrieve(const std::string& req_id, bool after_issue);
  std::vector<std::string> fetch_chain(const std::string& req_id, const std::string& leaf_pem) const;
  std::string describe_tls_failure(const std::string& detail) const;

  OnlineCaParams params_;
  std::string trust_pem_;
  std::string base_url_;  ///< https://HOST:PORT/certsrv/
  std::vector<std::string> resolve_;
};

/// cfssl (`cfssl serve`, online-ca.md §2(a)): POST /api/v1/cfssl/authsign with an HMAC-SHA256
/// token over the request, the profile = Online CA Template. Never pends.
class CfsslCa : public OnlineCa {
 public:
  CfsslCa(OnlineCaParams params, std::string trust_pem);
  std::string name() const override { return "cfssl"; }
  CaOutcome submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) override;
  /// cfssl holds no requests: always rejected (internal).
  CaOutcome poll(const std::string& handle) override;
  bool can_pend() const override { return false; }

 private:
  struct Reply;
  Reply post(const std::string& endpoint, const std::string& body) const;
  std::vector<std::string> ca_chain();

  OnlineCaParams params_;
  std::string trust_pem_;
  std::string base_url_;  ///< http(s)://HOST:PORT/api/v1/cfssl/
  std::vector<std::string> resolve_;
  std::vector<std::uint8_t> key_;
  struct Cache;
  std::shared_ptr<Cache> cache_;
};

/// Checks the Online CA Parameters and builds the adapter for params.type ("microsoft" or
/// "cfssl"). `trust_pem` is the CA chain to trust for HTTPS (CAPF-trust); AD CS needs it.
/// Errors (Errc::invalid_argument) name the parameter: no host, no template, no credentials,
/// a port outside 1–65535, an unknown type, no trusted chain.
Result<std::unique_ptr<OnlineCa>> make_online_ca(const OnlineCaParams& params, std::string trust_pem);

}  // namespace capf::ca_online
