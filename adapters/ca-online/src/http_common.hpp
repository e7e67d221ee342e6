// Private to the online CA adapters: what both make of HTTP transport failures and statuses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capf/core/issuer.hpp"
#include "capf/core/service_params.hpp"
#include "capf/net/http_client.hpp"

namespace capf::ca_online::detail {

/// "host:port:address" for curl when params.connect_address is set (IPv6 bracketed).
std::vector<std::string> resolve_entries(const OnlineCaParams& params);
/// The media type of a Content-Type header, lower case, without parameters.
std::string media_type(const std::string& content_type);
/// Transport failures: timeouts and refused/dropped connections are retryable; a bad URL is
/// the administrator's; a certificate failure too (callers describe it better first).
/// `repeatable`: the request may be sent again safely (a GET). A submission that left in full
/// and got no answer (Errc::no_answer) may be held by the CA, so it needs an administrator.
CaOutcome transport_failure(const Error& e, const std::string& who, bool repeatable = true);
/// Whether an answer to a request that left in full proves the CA did not act on it, so that
/// sending it again is safe: 408 (the server says it never read the request whole), 429 (refused
/// by rate limiting before any processing), and a 503 from HTTP.sys itself (`Server:
/// Microsoft-HTTPAPI/2.0`: IIS never handed the request to certsrv). Any other 5xx may come
/// after the CA recorded the request (an ASP error page, a proxy's 502/504).
bool proves_not_processed(const net::HttpResponse& r);
/// A status the adapters do not expect: 401/403/404 need an administrator; 408/429/5xx are
/// retryable (with Retry-After when given) when the request is `repeatable` (a GET) or the answer
/// proves_not_processed, else they need an administrator and the request is not sent again;
/// other 4xx need an administrator.
CaOutcome status_failure(const net::HttpResponse& r, const std::string& who, const std::string& what,
                         bool repeatable = true);
/// The answer's Retry-After in seconds, bounded (util::parse_retry_after), when it has one.
std::optional<long> retry_after(const net::HttpResponse& r);
/// The first line-ish part of a body for an error text (at most 200 characters, one line).
std::string snippet(const std::string& body);
/// HTTP request timeouts from the parameters.
void apply_timeouts(net::HttpRequest& request, const OnlineCaParams& params);

}  // namespace capf::ca_online::detail
