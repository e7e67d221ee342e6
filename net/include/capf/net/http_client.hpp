// Outbound HTTP(S) calls (phone triggers, online CAs). http_client.cpp is the only libcurl
// user in the project; no curl type appears here.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "capf/util/result.hpp"

namespace capf::net {

/// One outbound request. Only http and https URLs are accepted; redirects are not followed.
struct HttpRequest {
  std::string method = "POST";                    ///< GET, POST, PUT, DELETE, …
  std::string url;                                ///< may hold user:password@ (sent as Basic auth, redacted in errors)
  std::string body;                               ///< sent as is; empty = no body
  std::string content_type = "application/json";  ///< Content-Type of a non-empty body
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra request headers
  long timeout_ms = 10000;                                   ///< whole request, connect included
  long connect_timeout_ms = 5000;                            ///< TCP connect and TLS handshake
  std::string ca_pem;  ///< trust only these CAs for https (the system store is then not used); empty = system default
  bool verify_peer = true;                           ///< false skips certificate and host name checks (tests only)
  std::string username, password;                    ///< HTTP Basic when set; never logged
  std::string user_agent = "capf/0.1";               ///< User-Agent header
  std::size_t max_response_bytes = 8 * 1024 * 1024;  ///< a larger body is an Errc::protocol error
  /// Fixed name resolutions, "host:port:address" each (curl --resolve): connect to `address`
  /// while the URL, Host header, SNI and certificate check keep the real host name.
  std::vector<std::string> resolve;
};

/// What the server answered (any status: a 4xx or 5xx is a response, not an Error).
struct HttpResponse {
  long status = 0;                                           ///< HTTP status code
  std::string body;                                          ///< response body, at most max_response_bytes
  std::string content_type;                                  ///< Content-Type header, empty when absent
  std::vector<std::pair<std::string, std::string>> headers;  ///< response headers of the final response, in order
  /// The first header named `name` (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const;
};

/// Performs one request (blocking; safe to call from many threads at once). Transport failures
/// are Errors: Errc::timeout (timed out before the request was sent), Errc::unavailable (refused,
/// DNS, reset, TLS handshake), Errc::no_answer (the whole request was sent, then a timeout, a
/// dropped connection or an unreadable answer: the peer may have acted on it), Errc::crypto (the server's certificate is
/// not trusted or does not match the host name),
/// Errc::invalid_argument (bad URL or scheme), Errc::protocol (response too large), each with a
/// message that names the method and the URL with any user:password@ part redacted.
Result<HttpResponse> http_request(const HttpRequest& request);

/// The certificate an https server presents (leaf first, PEM each), read from a TLS handshake
/// that checks nothing and sends no request (no credentials leave). For naming the certificate
/// in an error after a verification failure. `resolve` as in HttpRequest.
Result<std::vector<std::string>> server_certificates(const std::string& https_url,
                                                     const std::vector<std::string>& resolve = {},
                                                     long timeout_ms = 5000);

/// The URL with credentials replaced by "***" (for logs): the user:password@ part and the
/// values of query parameters that look secret (password, token, secret, key, …).
std::string redact_url(const std::string& url);

}  // namespace capf::net
