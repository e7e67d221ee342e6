// cfssl's HTTP API (online-ca.md §2(a)): authsign with an HMAC token, info for the CA certificate.
#include <mutex>

#include <nlohmann/json.hpp>

#include "capf/ca_online/cfssl_answer.hpp"
#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "http_common.hpp"

namespace capf::ca_online {

struct CfsslCa::Reply {
  Result<net::HttpResponse> result;
};

struct CfsslCa::Cache {
  std::mutex mutex;
  std::vector<std::string> chain;  ///< the CA certificate from /info, once fetched
};

namespace {

crypto::ByteView bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

CfsslCa::CfsslCa(OnlineCaParams params, std::string trust_pem)
    : params_(std::move(params)),
      trust_pem_(std::move(trust_pem)),
      base_url_(std::string(params_.https ? "https" : "http") + "://" + params_.host + ":" +
                std::to_string(params_.port) + "/api/v1/cfssl/"),
      resolve_(detail::resolve_entries(params_)),
      key_(util::from_hex(params_.auth_key_hex).value_or(std::vector<std::uint8_t>{})),
      cache_(std::make_shared<Cache>()) {}

CfsslCa::Reply CfsslCa::post(const std::string& endpoint, const std::string& body) const {
  net::HttpRequest request;
  request.method = "POST";
  request.url = base_url_ + endpoint;
  request.body = body;
  request.content_type = "application/json";
  request.ca_pem = trust_pem_;
  request.resolve = resolve_;
  request.max_response_bytes = 1024 * 1024;
  detail::apply_timeouts(request, params_);
  return Reply{net::http_request(request)};
}

std::vector<std::string> CfsslCa::ca_chain() {
  std::lock_guard lock(cache_->mutex);
  if (!cache_->chain.empty()) return cache_->chain;
  const std::string body = nlohmann::json{{"profile", params_.template_name}}.dump();
  auto reply = post("info", body);
  if (!reply.result || reply.result->status != 200) return {};
  auto answer = read_cfssl_answer(reply.result->body);
  if (!answer || !answer->success) return {};
  auto cert = crypto::Certificate::from_pem(answer->certificate);
  if (!cert) return {};
  cache_->chain = {cert->to_pem()};
  return cache_->chain;
}

CaOutcome CfsslCa::submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) {
  const std::string who = "the online CA (cfssl) " + params_.host + ":" + std::to_string(params_.port);
  const std::string request_json =
      nlohmann::json{{"certificate_request", crypto::pem_encode("CERTIFICATE REQUEST", csr_der)},
                     {"profile", params_.template_name}}
          .dump();
  const std::string token = crypto::base64_encode(crypto::hmac_sha256(key_, bytes_of(request_json)));
  const std::string body =
      nlohmann::json{{"token", token}, {"request", crypto::base64_encode(bytes_of(request_json))}}.dump();

  auto outcome = [&]() -> CaOutcome {
    auto reply = post("authsign", body);
    if (!reply.result) return detail::transport_failure(reply.result.error(), who, false);
    const auto& r = *reply.result;
    auto answer = read_cfssl_answer(r.body);
    // cfssl's own error answer says it signed nothing (it holds no requests), whatever the status;
    // without one, a 5xx may come from a proxy after cfssl signed, so the request is not sent again.
    const bool cfssl_error = answer && !answer->success && !answer->errors.empty();
    if (!cfssl_error && (r.status >= 500 || r.status == 408 || r.status == 429 || (!answer && r.status != 200)))
      return detail::status_failure(r, who, "POST authsign", false);
    if (!answer) return CaOutcome::rejected(CaErrorClass::internal, who + " answered authsign with something that is not JSON");
    if (answer->success) {
      auto cert = crypto::Certificate::from_pem(answer->certificate);
      if (!cert)
        return CaOutcome::rejected(CaErrorClass::internal, who + " reported success without a readable certificate");
      return CaOutcome::issued(cert->to_pem(), ca_chain());
    }
    const std::string errors = answer->errors.empty() ? "HTTP " + std::to_string(r.status) : answer->errors;
    const std::string lower = util::to_lower(errors);
    if (lower.find("token") != std::string::npos || lower.find("authentication") != std::string::npos ||
        r.status == 401 || r.status == 403)
      return CaOutcome::rejected(CaErrorClass::needs_admin,
                                 who + " refused the request's authentication (check the profile \"" +
                                     params_.template_name + "\" and its auth key): " + errors);
    // cfssl's error categories: 1xxx certificate, 2xxx private key, 9xxx CSR — this request's fault.
    const int category = answer->code / 1000;
    if (category == 1 || category == 2 || category == 9)
      return CaOutcome::rejected(CaErrorClass::permanent, "cfssl refused the request: " + errors);
    if (r.status >= 500 || r.status == 408 || r.status == 429) {
      auto o = CaOutcome::rejected(CaErrorClass::retryable, who + " failed to sign (HTTP " + std::to_string(r.status) +
                                                                "; it signed nothing and holds no request): " + errors);
      o.retry_after_s = detail::retry_after(r);
      return o;
    }
    return CaOutcome::rejected(CaErrorClass::needs_admin, who + " refused the request: " + errors);
  }();
  auto log = util::logger("ca-online");
  if (outcome.kind == CaOutcome::Kind::issued)
    log->info("cfssl submit {}: issued chain={}", device, outcome.chain_pem.size());
  else
    log->warn("cfssl submit {}: {}: {}", device, to_string(outcome.error_class), outcome.message);
  return outcome;
}

CaOutcome CfsslCa::poll(const std::string& handle) {
  return CaOutcome::rejected(CaErrorClass::internal,
                             "cfssl never holds a request, so there is nothing to poll (handle \"" + handle + "\")");
}

}  // namespace capf::ca_online
