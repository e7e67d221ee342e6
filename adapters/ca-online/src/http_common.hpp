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
/// A status the adapters do not expect: 401/403/404 need an administrator, 408/429/5xx are
/// retryable (with Retry-After when given), other 4xx need an administrator.
CaOutcome status_failure(const net::HttpResponse& r, const std::string& who, const std::string& what);
/// The first line-ish part of a body for an error text (at most 200 characters, one line).
std::string snippet(const std::string& body);
/// HTTP request timeouts from the parameters.
void apply_timeouts(net::HttpRequest& request, const OnlineCaParams& params);

}  // namespace capf::ca_online::detail
