// Trigger templates, HTTP triggers and the classification the retry policy acts on. The
// command runner is in trigger_command.cpp.
#include "capf/engine/trigger.hpp"
#include "capf/util/text.hpp"
#include "capf/util/time.hpp"

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "capf/net/http_client.hpp"

namespace capf::engine {

namespace {

constexpr std::array<std::string_view, 9> kVariables{
    "name", "description", "device_type", "device_pool", "security_profile", "ipv4", "ipv6", "job", "operation"};

std::string value_of(std::string_view variable, const Device& d, const std::string& job) {
  if (variable == "name") return d.name;
  if (variable == "description") return d.description;
  if (variable == "device_type") return d.device_type;
  if (variable == "device_pool") return d.device_pool;
  if (variable == "security_profile") return d.security_profile;
  if (variable == "ipv4") return d.ipv4;
  if (variable == "ipv6") return d.ipv6;
  if (variable == "job") return job;
  if (variable == "operation") return std::string(to_string(d.operation));
  return {};
}

bool is_variable_char(char c) {
  return std::islower(static_cast<unsigned char>(c)) || c == '_' || std::isdigit(static_cast<unsigned char>(c));
}

/// Calls `fn(name)` for each {name} in a template; JSON braces never match (they hold quotes or spaces).
template <class F>
void for_each_variable(const std::string& tpl, F fn) {
  for (std::size_t i = tpl.find('{'); i != std::string::npos; i = tpl.find('{', i + 1)) {
    std::size_t j = i + 1;
    while (j < tpl.size() && is_variable_char(tpl[j])) ++j;
    if (j > i + 1 && j < tpl.size() && tpl[j] == '}') fn(i, std::string_view(tpl).substr(i + 1, j - i - 1));
  }
}

bool known(std::string_view v) {
  for (auto k : kVariables)
    if (k == v) return true;
  return false;
}

std::string url_escape(const std::string& s) {
  // ':' is legal in paths and queries (RFC 3986 pchar) and keeps "http://[{ipv6}]/" usable.
  return util::percent_encode(s, ":");
}

std::string json_escape(const std::string& s) {
  const std::string quoted = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

Result<void> check_variables(const std::string& tpl, std::string_view field) {
  std::string unknown;
  for_each_variable(tpl, [&](std::size_t, std::string_view v) {
    if (unknown.empty() && !known(v)) unknown = v;
  });
  if (unknown.empty()) return ok();
  std::string list;
  for (auto k : kVariables) list += (list.empty() ? "{" : ", {") + std::string(k) + "}";
  return make_error(Errc::invalid_argument,
                    "trigger " + std::string(field) + ": unknown variable {" + unknown + "} (known: " + list + ")");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// False for "http:///x" or "http://:80/x": nothing names a host.
bool has_host(const std::string& url) {
  const auto start = url.find("://");
  if (start == std::string::npos) return false;
  const auto authority = url.substr(start + 3, url.find_first_of("/?#", start + 3) - (start + 3));
  const auto host = authority.substr(authority.rfind('@') == std::string::npos ? 0 : authority.rfind('@') + 1);
  return !host.empty() && host.front() != ':';
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(TriggerOutcome o) {
  switch (o) {
    case TriggerOutcome::ok:
      return "ok";
    case TriggerOutcome::transient:
      return "transient";
    case TriggerOutcome::throttled:
      return "throttled";
    case TriggerOutcome::permanent:
      return "permanent";
    case TriggerOutcome::needs_admin:
      return "needs-admin";
  }
  return "?";
}

std::string expand(const std::string& tpl, const Device& d, const std::string& job, Escape escape) {
  std::string out;
  std::size_t copied = 0;
  for_each_variable(tpl, [&](std::size_t at, std::string_view v) {
    if (!known(v)) return;
    out.append(tpl, copied, at - copied);
    const std::string value = value_of(v, d, job);
    out += escape == Escape::url ? url_escape(value) : escape == Escape::json ? json_escape(value) : value;
    copied = at + v.size() + 2;
  });
  out.append(tpl, copied, std::string::npos);
  return out;
}

Result<void> validate(const TriggerConfig& c) {
  if (c.kind == TriggerConfig::Kind::none) return ok();
  if (c.timeout_s <= 0) return make_error(Errc::invalid_argument, "trigger timeout must be at least 1 second");
  if (c.kind == TriggerConfig::Kind::command) {
    if (c.command.find_first_not_of(" \t") == std::string::npos)
      return make_error(Errc::invalid_argument, "trigger command is empty");
    return check_variables(c.command, "command");
  }
  if (c.url.empty()) return make_error(Errc::invalid_argument, "trigger url is empty");
  if (util::url_has_credentials(c.url))  // not echoed, even redacted: the refusal is the point
    return make_error(Errc::invalid_argument,
                      "trigger url must not hold credentials (user:password@); give them with --trigger-user and "
                      "--trigger-password-file");
  const std::string scheme = lower(c.url.substr(0, c.url.find("://")));
  if (c.url.find("://") == std::string::npos || (scheme != "http" && scheme != "https"))
    return make_error(Errc::invalid_argument,
                      "trigger url must start with http:// or https://, got \"" + net::redact_url(c.url) + "\"");
  if (!has_host(c.url))
    return make_error(Errc::invalid_argument, "trigger url has no host: \"" + net::redact_url(c.url) + "\"");
  if (auto r = check_variables(c.url, "url"); !r) return r;
  if (auto r = check_variables(c.body, "body"); !r) return r;
  return ok();
}

TriggerResult classify_http_status(long status, std::string_view retry_after, std::int64_t now_unix) {
  TriggerResult r;
  r.detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    r.outcome = TriggerOutcome::ok;
  } else if (status == 429) {
    r.outcome = TriggerOutcome::throttled;
    r.retry_after_s = util::parse_retry_after(retry_after, now_unix);
  } else if (status == 408 || (status >= 500 && status < 600)) {
    r.outcome = TriggerOutcome::transient;
    r.retry_after_s = util::parse_retry_after(retry_after, now_unix);  // 503 may say when to come back
  } else if (status == 401 || status == 403) {
    r.outcome = TriggerOutcome::needs_admin;
    r.detail += " (check the trigger endpoint's credentials)";
  } else if (status >= 300 && status < 400) {
    r.outcome = TriggerOutcome::needs_admin;
    r.detail += " (redirects are not followed; configure the final URL)";
  } else {
    r.outcome = TriggerOutcome::permanent;
  }
  return r;
}

TriggerResult run_http_trigger(const TriggerConfig& c, const Device& d, const std::string& job) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = expand(c.url, d, job, Escape::url);
  request.body = expand(c.body.empty() ? std::string(kDefaultTriggerBody) : c.body, d, job, Escape::json);
  request.timeout_ms = static_cast<long>(c.timeout_s) * 1000;
  request.connect_timeout_ms = std::min(request.timeout_ms, 5000L);
  request.max_response_bytes = 64 * 1024;  // only the status matters; a short body helps the detail
  request.username = c.username;
  request.password = c.password;
  request.ca_pem = c.ca_pem;
  const std::string where = net::redact_url(request.url);
  // A device without the field the host comes from ({ipv4} empty) cannot be reached by URL.
  if (!has_host(request.url))
    return {TriggerOutcome::needs_admin, "trigger url has no host for this device: " + where, std::nullopt};

  auto response = net::http_request(request);
  if (!response) {
    const auto& e = response.error();
    TriggerResult r;
    r.detail = e.message;
    r.outcome = e.code == Errc::invalid_argument ? TriggerOutcome::needs_admin : TriggerOutcome::transient;
    return r;
  }
  TriggerResult r = classify_http_status(response->status, response->header("Retry-After"), unix_now());
  r.detail += " from POST " + where;
  if (r.outcome != TriggerOutcome::ok && !response->body.empty()) {
    std::string head = response->body.substr(0, 200);
    for (auto& ch : head)
      if (ch == '\n' || ch == '\r') ch = ' ';
    r.detail += ": " + head;
  }
  return r;
}

std::optional<std::string> shared_endpoint(const TriggerConfig& c) {
  if (c.kind == TriggerConfig::Kind::command) {
    const auto start = c.command.find_first_not_of(" \t");
    if (start == std::string::npos) return std::nullopt;
    const std::string program = c.command.substr(start, c.command.find_first_of(" \t", start) - start);
    if (program.find('{') != std::string::npos) return std::nullopt;
    return program;
  }
  if (c.kind != TriggerConfig::Kind::http) return std::nullopt;
  const auto scheme_end = c.url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const auto authority_end = c.url.find_first_of("/?#", scheme_end + 3);
  std::string authority = c.url.substr(scheme_end + 3, authority_end - (scheme_end + 3));
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (authority.empty() || authority.find('{') != std::string::npos) return std::nullopt;
  return lower(c.url.substr(0, scheme_end)) + "://" + authority;
}

bool is_shared_failure(const TriggerResult& r) {
  return r.outcome == TriggerOutcome::transient || r.outcome == TriggerOutcome::throttled;
}

TriggerResult run_trigger(const TriggerConfig& c, const Device& d, const std::string& job) {
  switch (c.kind) {
    case TriggerConfig::Kind::none:
      return {TriggerOutcome::ok, "no trigger configured", std::nullopt};
    case TriggerConfig::Kind::command:
      return run_command_trigger(c, d, job);
    case TriggerConfig::Kind::http:
      return run_http_trigger(c, d, job);
  }
  return {TriggerOutcome::needs_admin, "unknown trigger kind", std::nullopt};
}

}  // namespace capf::engine
