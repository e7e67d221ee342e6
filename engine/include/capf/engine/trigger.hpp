// The trigger step (SPEC §4 step 2, the seed's "Apply Config"): a configurable action that
// makes one phone open its CAPF session — a command run without a shell, or an HTTP call —
// with the device's fields as variables, and a classified result the engine retries on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "capf/core/device.hpp"
#include "capf/util/result.hpp"

namespace capf::engine {

/// How a trigger attempt ended, as the retry policy sees it.
enum class TriggerOutcome {
  ok,          ///< the phone was told to connect
  transient,   ///< try again with backoff (timeout, refused, 5xx, exit 75, killed after the timeout)
  throttled,   ///< the endpoint asked to slow down; retry_after_s holds its delay when given
  permanent,   ///< retrying will not help for this device (other 4xx, other exit codes)
  needs_admin  ///< the configuration is wrong (401/403, bad URL, command not found or not executable)
};

/// "ok", "transient", "throttled", "permanent", "needs-admin".
std::string_view to_string(TriggerOutcome o);

/// The result of one attempt.
struct TriggerResult {
  TriggerOutcome outcome = TriggerOutcome::ok;  ///< the class the retry policy acts on
  std::string detail;  ///< one line for status and logs: exit code and stderr head, or HTTP status (URL redacted)
  /// The server's delay in seconds (Retry-After on 429, and on 503 when present), not negative.
  std::optional<std::int64_t> retry_after_s;
};

/// How phones are triggered.
struct TriggerConfig {
  /// none: nothing to run (phones are reset by other means); command or http.
  enum class Kind { none, command, http } kind = Kind::none;
  /// e.g. "/usr/local/bin/apply-config {name} {ipv4}"; split on spaces BEFORE substitution, so a
  /// value with spaces stays one argument; run without a shell; a bare name is looked up in PATH.
  std::string command;
  /// e.g. "http://127.0.0.1:8080/trigger/{name}"; variables URL-encoded when substituted.
  std::string url;
  /// Optional JSON body template for http (variables JSON-escaped); empty means kDefaultBody.
  std::string body;
  /// Whole attempt: the command is killed (with its process group) or the request abandoned after this.
  int timeout_s = 30;
  /// HTTP Basic credentials for the trigger endpoint (a phone's /CGI/Execute needs them); the
  /// password is never logged or shown.
  std::string username;
  std::string password;
  /// PEM CAs trusted for an https trigger URL (empty: the system's).
  std::string ca_pem;
};

/// The endpoint every device's Apply Config calls, when there is one: the program of a command
/// (its first word, when that holds no variable), or scheme://host:port of a URL whose host and
/// port hold no variable (credentials never included). nullopt when each phone is its own
/// endpoint (e.g. "http://{ipv4}/CGI/Execute") or no trigger is configured: then no failure is
/// shared, and the Apply Config breaker never applies (docs/arch/breakers.md).
std::optional<std::string> shared_endpoint(const TriggerConfig& c);

/// True when a failed attempt says more about the endpoint than about the device: transient
/// (refused, timed out, TLS, 408, 5xx, exit 75, killed after the timeout) or throttled (429).
bool is_shared_failure(const TriggerResult& r);

/// The http body used when TriggerConfig::body is empty.
inline constexpr std::string_view kDefaultTriggerBody = R"({"device":"{name}","job":"{job}"})";

/// Checks the templates (unknown variable, empty command/url, bad scheme, timeout not positive);
/// the error (Errc::invalid_argument) names the field and the problem. Kind::none is valid.
Result<void> validate(const TriggerConfig& c);

/// How substituted values are escaped.
enum class Escape {
  none,  ///< as is (command arguments: no shell ever sees them)
  url,   ///< percent-encoding of everything but A-Z a-z 0-9 - . _ ~ : (so "http://[{ipv6}]/" works)
  json   ///< the inside of a JSON string
};

/// Expands a template: each {variable} among {name} {description} {device_type} {device_pool}
/// {security_profile} {ipv4} {ipv6} {job} {operation} is replaced by the device's value, escaped
/// per `escape`. Other braces (JSON, unknown names) are left as they are.
std::string expand(const std::string& tpl, const Device& d, const std::string& job, Escape escape);

/// Runs the trigger for one device (blocking; called on a worker thread, safe in parallel).
/// Command: exit 0 → ok; 75 (EX_TEMPFAIL) → transient; other non-zero or killed by a signal →
/// permanent; not executable / not found → needs_admin; killed after timeout_s → transient.
/// The detail holds at most the first 1 KiB of stderr.
/// HTTP (POST): 2xx → ok; 429 → throttled with Retry-After seconds when given; 408/5xx →
/// transient; 401/403 → needs_admin; 3xx (not followed) → needs_admin; other 4xx → permanent;
/// transport timeout / refused / TLS failure → transient; bad URL → needs_admin.
/// Kind::none → ok with detail "no trigger configured".
TriggerResult run_trigger(const TriggerConfig& c, const Device& d, const std::string& job);

/// The command part of run_trigger (Kind::command).
TriggerResult run_command_trigger(const TriggerConfig& c, const Device& d, const std::string& job);

/// The HTTP part of run_trigger (Kind::http).
TriggerResult run_http_trigger(const TriggerConfig& c, const Device& d, const std::string& job);

/// Classifies an HTTP answer by status, with its Retry-After header value ("" when absent);
/// `now_unix` resolves a Retry-After given as an HTTP date (util::parse_retry_after, bounded).
TriggerResult classify_http_status(long status, std::string_view retry_after, std::int64_t now_unix);

}  // namespace capf::engine
