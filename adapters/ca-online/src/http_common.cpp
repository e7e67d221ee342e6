#include "http_common.hpp"

#include <algorithm>

#include "capf/util/text.hpp"
#include "capf/util/time.hpp"

namespace capf::ca_online::detail {

std::vector<std::string> resolve_entries(const OnlineCaParams& params) {
  if (params.connect_address.empty()) return {};
  std::string address = params.connect_address;
  if (address.find(':') != std::string::npos && address.front() != '[') address = "[" + address + "]";
  return {params.host + ":" + std::to_string(params.port) + ":" + address};
}

std::string media_type(const std::string& content_type) {
  const auto semi = content_type.find(';');
  return util::to_lower(util::trim(std::string_view(content_type).substr(0, semi)));
}

CaOutcome transport_failure(const Error& e, const std::string& who, bool repeatable) {
  switch (e.code) {
    case Errc::no_answer:
      if (repeatable) return CaOutcome::rejected(CaErrorClass::retryable, who + " did not answer: " + e.message);
      return CaOutcome::rejected(CaErrorClass::needs_admin,
                                 who + " received the request but did not answer (" + e.message +
                                     "); the CA may hold it, so capf does not send it again: check the CA, then "
                                     "retry the device");
    case Errc::timeout:
    case Errc::unavailable:
      return CaOutcome::rejected(CaErrorClass::retryable, who + " could not be reached: " + e.message);
    case Errc::invalid_argument:
    case Errc::crypto:
      return CaOutcome::rejected(CaErrorClass::needs_admin, who + ": " + e.message);
    default:
      return CaOutcome::rejected(CaErrorClass::internal, who + ": " + e.message);
  }
}

std::string snippet(const std::string& body) {
  // An HTML error page (IIS 500, HTTP.sys 503) is best named by its title.
  const std::string lower = util::to_lower(body.substr(0, 4096));
  if (auto t = lower.find("<title>"); t != std::string::npos) {
    const auto end = lower.find("</title>", t);
    if (end != std::string::npos && end - t - 7 <= 200) return std::string(util::trim(body.substr(t + 7, end - t - 7)));
  }
  std::string out = body.substr(0, 200);
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; }, ' ');
  return std::string(util::trim(out));
}

std::optional<long> retry_after(const net::HttpResponse& r) {
  if (auto s = util::parse_retry_after(r.header("Retry-After"), util::now())) return static_cast<long>(*s);
  return std::nullopt;
}

bool proves_not_processed(const net::HttpResponse& r) {
  if (r.status == 408 || r.status == 429) return true;
  return r.status == 503 && util::to_lower(util::trim(r.header("Server"))).rfind("microsoft-httpapi/", 0) == 0;
}

CaOutcome status_failure(const net::HttpResponse& r, const std::string& who, const std::string& what, bool repeatable) {
  const std::string status = "HTTP " + std::to_string(r.status);
  const std::string head = snippet(r.body);
  const std::string text = who + " answered " + what + " with " + status + (head.empty() ? "" : ": " + head);
  if (r.status == 408 || r.status == 429 || r.status >= 500) {
    if (!repeatable && !proves_not_processed(r))
      return CaOutcome::rejected(CaErrorClass::needs_admin,
                                 text + "; the CA may have processed the request before failing, so capf does not "
                                        "send it again: check the CA, then retry the device");
    auto out = CaOutcome::rejected(CaErrorClass::retryable, text);
    out.retry_after_s = retry_after(r);
    return out;
  }
  return CaOutcome::rejected(CaErrorClass::needs_admin, text);
}

void apply_timeouts(net::HttpRequest& request, const OnlineCaParams& params) {
  request.timeout_ms = std::max(1, params.timeout_s) * 1000L;
  request.connect_timeout_ms = std::min(request.timeout_ms, 5000L);
}

}  // namespace capf::ca_online::detail
