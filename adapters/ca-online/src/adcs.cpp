// Microsoft AD CS web enrollment (online-ca.md §1): certfnsh.asp, certnew.cer, certnew.p7b.
#include <algorithm>

#include "capf/ca_online/adcs_pages.hpp"
#include "capf/ca_online/online_ca.hpp"
#include "capf/crypto/codec.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "http_common.hpp"

namespace capf::ca_online {

struct AdcsCa::Reply {
  Result<net::HttpResponse> result;
};

namespace {

using adcs::CertsrvPage;

constexpr std::size_t kMaxPage = 1024 * 1024;

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Certificate names as TLS host name checks see them (RFC 6125 left-most wildcard label only).
bool name_matches(const std::string& pattern, const std::string& host) {
  const std::string p = util::to_lower(pattern), h = util::to_lower(host);
  if (p == h) return true;
  if (p.size() > 2 && p.compare(0, 2, "*.") == 0) {
    const auto dot = h.find('.');
    return dot != std::string::npos && dot > 0 && h.substr(dot) == p.substr(1);
  }
  return false;
}

Result<crypto::Certificate> parse_cert_body(const std::string& body) {
  if (!body.empty() && static_cast<unsigned char>(body[0]) == 0x30) {
    const crypto::ByteView der(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    return crypto::Certificate::from_der(der);
  }
  return crypto::Certificate::from_pem(body);
}

// The chain from the leaf's issuer upwards; certificates that do not link are appended as given.
std::vector<std::string> order_chain(const crypto::Certificate& leaf, std::vector<crypto::Certificate> rest) {
  std::vector<std::string> out;
  std::string issuer = leaf.issuer();
  std::string subject = leaf.subject();
  while (issuer != subject) {
    auto it = std::find_if(rest.begin(), rest.end(), [&](const crypto::Certificate& c) { return c.subject() == issuer; });
    if (it == rest.end()) break;
    out.push_back(it->to_pem());
    subject = it->subject();
    issuer = it->issuer();
    rest.erase(it);
  }
  for (const auto& c : rest) out.push_back(c.to_pem());
  return out;
}

void log_outcome(const std::string& what, const std::string& subject, const CaOutcome& o) {
  auto log = util::logger("ca-online");
  switch (o.kind) {
    case CaOutcome::Kind::issued:
      log->info("adcs {} {}: issued req_id={} chain={}", what, subject, o.handle, o.chain_pem.size());
      break;
    case CaOutcome::Kind::pending:
      log->info("adcs {} {}: pending req_id={}", what, subject, o.handle);
      break;
    case CaOutcome::Kind::rejected:
      log->warn("adcs {} {}: {} req_id={}: {}", what, subject, to_string(o.error_class), o.handle, o.message);
      break;
  }
}

}  // namespace

AdcsCa::AdcsCa(OnlineCaParams params, std::string trust_pem)
    : params_(std::move(params)),
      trust_pem_(std::move(trust_pem)),
      base_url_("https://" + params_.host + ":" + std::to_string(params_.port) + "/certsrv/"),
      resolve_(detail::resolve_entries(params_)) {}

AdcsCa::Reply AdcsCa::call(const std::string& method, const std::string& path, const std::string& body) const {
  net::HttpRequest request;
  request.method = method;
  request.url = base_url_ + path;
  request.body = body;
  request.content_type = "application/x-www-form-urlencoded";
  request.username = params_.username;
  request.password = params_.password;
  request.ca_pem = trust_pem_;  // never the system store: only the chain uploaded to CAPF-trust
  request.user_agent = kAdcsUserAgent;
  request.resolve = resolve_;
  request.max_response_bytes = kMaxPage;
  detail::apply_timeouts(request, params_);
  return Reply{net::http_request(request)};
}

std::string AdcsCa::describe_tls_failure(const std::string& detail) const {
  const std::string who = "the online CA " + params_.host + ":" + std::to_string(params_.port);
  auto presented = net::server_certificates(base_url_, resolve_, std::max(1, params_.timeout_s) * 1000L);
  if (!presented) return who + ": TLS verification failed (" + detail + ")";
  auto leaf = crypto::Certificate::from_pem(presented->front());
  if (!leaf) return who + ": TLS verification failed (" + detail + ")";
  auto names = leaf->dns_names();
  std::string shown = leaf->subject();
  for (const auto& n : names) shown += ", DNS:" + n;
  bool matches = false;
  if (names.empty()) {
    matches = name_matches(leaf->subject_cn(), params_.host);
  } else {
    for (const auto& n : names) matches = matches || name_matches(n, params_.host);
  }
  if (!matches)
    return who + ": its HTTPS certificate is issued to " + shown + ", not to " + params_.host +
           "; the Online CA Hostname must equal the name in the CA's HTTPS certificate";
  return who + ": its HTTPS certificate " + shown + " (issuer " + leaf->issuer() +
         ") is not trusted by the chain uploaded to CAPF-trust (" + detail + ")";
}

namespace {

// 401: the credentials or the authentication scheme are wrong. Never retried automatically.
CaOutcome unauthorized(const net::HttpResponse& r, const std::string& host, const std::string& user) {
  std::string schemes;
  bool basic = false;
  for (const auto& [k, v] : r.headers) {
    if (!util::iequals(k, "WWW-Authenticate")) continue;
    const std::string scheme = v.substr(0, v.find(' '));
    basic = basic || util::iequals(scheme, "Basic");
    schemes += (schemes.empty() ? "" : ", ") + scheme;
  }
  std::string text = "the online CA " + host + " refused the credentials of user " + user + " (HTTP 401; it offers: " +
                     (schemes.empty() ? "nothing" : schemes) + ")";
  if (!basic) text += "; capf authenticates with Basic, which is not enabled on /certsrv";
  return CaOutcome::rejected(CaErrorClass::needs_admin, text);
}

CaOutcome unreadable(const std::string& host, const std::string& what, const std::string& reason) {
  return CaOutcome::rejected(CaErrorClass::needs_admin, "the online CA " + host + " answered " + what +
                                                            " with a page capf cannot read (" + reason +
                                                            "); the Online CA must answer in English");
}

}  // namespace

CaOutcome AdcsCa::check_credentials() {
  auto reply = call("GET", "", "");
  const std::string who = "the online CA " + params_.host;
  if (!reply.result) {
    const auto& e = reply.result.error();
    if (e.code == Errc::crypto) return CaOutcome::rejected(CaErrorClass::needs_admin, describe_tls_failure(e.message));
    return detail::transport_failure(e, who);
  }
  const auto& r = *reply.result;
  if (r.status >= 200 && r.status < 300) return CaOutcome::issued("", {});
  if (r.status == 401) return unauthorized(r, params_.host, params_.username);
  return detail::status_failure(r, who, "GET /certsrv/");
}

CaOutcome AdcsCa::submit(const std::vector<std::uint8_t>& csr_der, const std::string& device) {
  const std::string who = "the online CA " + params_.host;
  const std::string pem = crypto::pem_encode("CERTIFICATE REQUEST", csr_der);
  const std::string attributes = "CertificateTemplate:" + params_.template_name + "\r\n";
  const std::string form = "Mode=newreq&CertRequest=" + util::percent_encode(pem) +
                           "&CertAttrib=" + util::percent_encode(attributes) +
                           "&FriendlyType=" + util::percent_encode("Saved-Request Certificate") +
                           "&TargetStoreFlags=0&SaveCert=yes";
  auto outcome = [&]() -> CaOutcome {
    auto reply = call("POST", "certfnsh.asp", form);
    if (!reply.result) {
      const auto& e = reply.result.error();
      if (e.code == Errc::crypto) return CaOutcome::rejected(CaErrorClass::needs_admin, describe_tls_failure(e.message));
      return detail::transport_failure(e, who, false);
    }
    const auto& r = *reply.result;
    if (r.status == 401) return unauthorized(r, params_.host, params_.username);
    if (r.status < 200 || r.status >= 300) return detail::status_failure(r, who, "POST certfnsh.asp", false);
    const std::string type = detail::media_type(r.content_type);
    if (type == "application/pkix-cert") {  // some front ends answer with the certificate itself
      auto cert = parse_cert_body(r.body);
      if (!cert) return CaOutcome::rejected(CaErrorClass::internal, who + " sent a certificate capf cannot read: " +
                                                                        cert.error().message);
      return CaOutcome::issued(cert->to_pem(), {});
    }
    if (type != "text/html")
      return CaOutcome::rejected(CaErrorClass::needs_admin,
                                 who + " answered POST certfnsh.asp with Content-Type \"" + r.content_type +
                                     "\", not a certsrv page; is " + params_.host + ":" + std::to_string(params_.port) +
                                     " the AD CS Web Enrollment server?");
    const CertsrvPage page = adcs::read_submit_page(r.body);
    const std::string req = page.req_id.empty() ? "" : " (ReqID " + page.req_id + ")";
    CaOutcome o;
    switch (page.kind) {
      case CertsrvPage::Kind::issued:
        return retrieve(page.req_id, true);
      case CertsrvPage::Kind::pending:
        o = CaOutcome::pending(page.req_id);
        o.retry_after_s = params_.poll_interval_s;
        return o;
      case CertsrvPage::Kind::denied:
        o = CaOutcome::rejected(CaErrorClass::permanent, page.message + req);
        break;
      case CertsrvPage::Kind::ca_unavailable:
        o = CaOutcome::rejected(CaErrorClass::retryable, who + " cannot reach its CA service: " + page.message + req);
        break;
      case CertsrvPage::Kind::unreadable:
        o = unreadable(params_.host, "POST certfnsh.asp", page.message);
        break;
      default:
        o = CaOutcome::rejected(CaErrorClass::internal, who + ": unexpected certfnsh.asp page: " + page.message + req);
        break;
    }
    o.handle = page.req_id;
    return o;
  }();
  log_outcome("submit", device, outcome);
  return outcome;
}

CaOutcome AdcsCa::poll(const std::string& handle) {
  CaOutcome o = all_digits(handle)
                    ? retrieve(handle, false)
                    : CaOutcome::rejected(CaErrorClass::internal, "\"" + handle + "\" is not an AD CS request id");
  log_outcome("poll", handle, o);
  return o;
}

CaOutcome AdcsCa::retrieve(const std::string& req_id, bool after_issue) {
  const std::string who = "the online CA " + params_.host;
  const std::string what = "GET certnew.cer?ReqID=" + req_id;
  // Once the CA issued under a ReqID, a failed download must not look like a failed submission:
  // it is reported as pending under that ReqID so the next poll fetches the certificate.
  auto keep = [&](CaOutcome o) {
    if (after_issue && o.kind == CaOutcome::Kind::rejected && o.error_class == CaErrorClass::retryable) {
      util::logger("ca-online")->warn("adcs: ReqID {} was issued but not downloaded yet: {}", req_id, o.message);
      CaOutcome p = CaOutcome::pending(req_id);
      p.retry_after_s = std::max(1, params_.retry_base_s);
      return p;
    }
    o.handle = req_id;
    return o;
  };
  auto reply = call("GET", "certnew.cer?ReqID=" + req_id + "&Enc=b64", "");
  if (!reply.result) {
    const auto& e = reply.result.error();
    if (e.code == Errc::crypto) return keep(CaOutcome::rejected(CaErrorClass::needs_admin, describe_tls_failure(e.message)));
    return keep(detail::transport_failure(e, who));
  }
  const auto& r = *reply.result;
  if (r.status == 401) return keep(unauthorized(r, params_.host, params_.username));
  if (r.status < 200 || r.status >= 300) return keep(detail::status_failure(r, who, what));
  const std::string type = detail::media_type(r.content_type);
  if (type == "application/pkix-cert") {
    auto cert = parse_cert_body(r.body);
    if (!cert)
      return keep(CaOutcome::rejected(CaErrorClass::internal,
                                      who + " sent a certificate capf cannot read for ReqID " + req_id + ": " +
                                          cert.error().message));
    std::string pem = cert->to_pem();
    auto chain = fetch_chain(req_id, pem);
    return CaOutcome::issued(std::move(pem), std::move(chain), req_id);
  }
  if (type != "text/html")
    return keep(CaOutcome::rejected(CaErrorClass::needs_admin, who + " answered " + what + " with Content-Type \"" +
                                                                   r.content_type + "\" instead of application/pkix-cert"));
  const CertsrvPage page = adcs::read_retrieve_page(r.body);
  CaOutcome o;
  switch (page.kind) {
    case CertsrvPage::Kind::pending:
      o = CaOutcome::pending(req_id);
      o.retry_after_s = params_.poll_interval_s;
      return o;
    case CertsrvPage::Kind::denied:
      return keep(CaOutcome::rejected(CaErrorClass::permanent, page.message + " (ReqID " + req_id + ")"));
    case CertsrvPage::Kind::ca_unavailable:
      return keep(CaOutcome::rejected(CaErrorClass::retryable, who + " cannot reach its CA service: " + page.message));
    case CertsrvPage::Kind::not_found:
      return keep(CaOutcome::rejected(CaErrorClass::needs_admin, who + " has no request " + req_id +
                                                                     " that user " + params_.username +
                                                                     " may read: " + page.message));
    case CertsrvPage::Kind::unreadable:
      return keep(unreadable(params_.host, what, page.message));
    default:
      return keep(CaOutcome::rejected(CaErrorClass::internal, who + " answered " + what + " with: " + page.message));
  }
}

std::vector<std::string> AdcsCa::fetch_chain(const std::string& req_id, const std::string& leaf_pem) const {
  auto log = util::logger("ca-online");
  auto reply = call("GET", "certnew.p7b?ReqID=" + req_id + "&Enc=b64", "");
  if (!reply.result || reply.result->status != 200) reply = call("GET", "certnew.p7b?ReqID=" + req_id + "&Enc=b64", "");
  if (!reply.result || reply.result->status != 200) {
    log->warn("adcs: no chain for ReqID {}: {}", req_id,
              reply.result ? "HTTP " + std::to_string(reply.result->status) : reply.result.error().message);
    return {};
  }
  const auto& body = reply.result->body;
  auto certs = crypto::Certificate::all_from_pkcs7(
      crypto::ByteView(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  auto leaf = crypto::Certificate::from_pem(leaf_pem);
  if (!certs || !leaf) {
    log->warn("adcs: the chain for ReqID {} is unreadable ({}): {}", req_id, reply.result->content_type,
              certs ? "" : certs.error().message);
    return {};
  }
  const std::string leaf_print = leaf->sha256_fingerprint();
  std::vector<crypto::Certificate> rest;
  for (auto& c : *certs)
    if (c.sha256_fingerprint() != leaf_print) rest.push_back(std::move(c));
  return order_chain(*leaf, std::move(rest));
}

}  // namespace capf::ca_online
