// Private to policy/: the one list of a policy's JSON fields, shared by its stored record
// (policy.cpp) and its admin API form (policy_routes.cpp), which differ only where said below.
#pragma once

#include <nlohmann/json.hpp>

#include "capf/policy/policy.hpp"

namespace capf::policy::detail {

/// The fields both forms write under the same names: name, where, template, windows,
/// blackouts, rate_per_minute, max_in_flight, install_missing, the re-enroll flags,
/// jitter_nights, created_by. Each form adds the renewal rule, paused and created_at its way.
nlohmann::json common_fields(const Policy& p);

/// Reads the optional fields both forms read under the same names (windows, blackouts,
/// max_in_flight, the renewal rule, install_missing, the re-enroll flags, jitter_nights),
/// with a policy's defaults where one is missing. Throws nlohmann::json::exception on a
/// field of the wrong type.
void read_common_fields(const nlohmann::json& j, Policy& p);

}  // namespace capf::policy::detail
