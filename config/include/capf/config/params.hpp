// The service parameters as an administrator sees them: one table with each parameter's CLI
// name, the seed's display name, range, default, unit and whether it is a secret; parsing and
// validation of `capf config set NAME VALUE`; and load/save in the store (family `params`,
// key "service", encode_params JSON; absent = defaults).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/service_params.hpp"
#include "capf/store/store.hpp"
#include "capf/util/result.hpp"

namespace capf::config {

/// How a parameter's value is written.
enum class ValueKind { integer, boolean, choice, text };

/// One service parameter.
struct ParamInfo {
  std::string_view name;     ///< CLI name: "keep-alive"
  std::string_view display;  ///< the seed's name: "KeepAlive Timer"
  ValueKind kind = ValueKind::text;
  long min = 0;  ///< integer: inclusive bounds
  long max = 0;
  std::vector<std::string_view> choices;  ///< choice: accepted values (case-insensitive), canonical first spelling
  std::string_view unit;                  ///< "minutes", "days", "bits", "seconds", or ""
  bool secret = false;                    ///< never printed back, logged or audited: "(set)" / "(not set)"
  std::string_view applies;               ///< when a change takes effect: "at once", "at restart", …
  std::string_view description;
  std::string_view group;  ///< the part of capf.conf it is listed under: "Online CA"
};

/// Every parameter, in display order.
const std::vector<ParamInfo>& parameters();
/// The parameter called `name` (CLI name, case-insensitive; '_' accepted for '-'), or nullptr.
const ParamInfo* find_parameter(std::string_view name);

/// The value as text for display. Secrets show "(set)" or "(not set)", never the value.
std::string shown_value(const ServiceParams& p, const ParamInfo& info);
/// The value as text, secrets included: only for writing it back (never for display).
std::string raw_value(const ServiceParams& p, const ParamInfo& info);
/// The default, for display ("" for an empty text; secrets "(not set)").
std::string shown_default(const ParamInfo& info);
/// The allowed values, for display: "5–60", "1024|2048|3072|4096", "true|false", or "".
std::string shown_range(const ParamInfo& info);

/// Parses and range-checks `value` for parameter `name` and sets it in `p`. Errors are one
/// line naming the parameter, the allowed range and the value given, e.g.
/// "keep-alive must be 5–60 minutes, got 61" (a secret's value is never repeated).
Result<void> set_parameter(ServiceParams& p, std::string_view name, std::string_view value);
/// Puts parameter `name` back to its default.
Result<void> reset_parameter(ServiceParams& p, std::string_view name);
/// Checks every parameter's range and the cross-parameter rules (retry base ≤ ceiling).
Result<void> validate(const ServiceParams& p);

/// What an administrator must know about the parameters as set, one sentence each (plain HTTP
/// to the Online CA, SMTP credentials allowed without TLS); `config list` shows them and the
/// daemon logs them when it applies the parameters.
std::vector<std::string> warnings(const ServiceParams& p);

/// Store key of the parameters document.
inline constexpr std::string_view kParamsKey = "service";

/// The stored parameters, or the defaults when none were ever saved.
Result<ServiceParams> load(const store::Store& store);
/// The document to write (for a Transition that also carries other records).
store::Doc params_doc(const ServiceParams& p);
/// Validates and writes `p` with `audit` in one synced transition.
Result<void> save(store::Store& store, const ServiceParams& p, std::vector<AuditEntry> audit);

/// The audit detail of a change of `name` from `before` to `after`: "keep-alive: 15 -> 20",
/// or "online-ca-password changed" for a secret.
std::string change_detail(const ParamInfo& info, const ServiceParams& before, const ServiceParams& after);

}  // namespace capf::config
