#include "capf/core/job.hpp"

#include <array>
#include <utility>

namespace capf {

namespace {
constexpr std::array<std::pair<std::string_view, JobState>, 7> kJobStates{{
    {"held", JobState::held},
    {"active", JobState::active},
    {"paused", JobState::paused},
    {"canary-hold", JobState::canary_hold},
    {"completed", JobState::completed},
    {"cancelled", JobState::cancelled},
    {"failure-hold", JobState::failure_hold},
}};
constexpr std::array<std::pair<std::string_view, StringPolicy>, 4> kPolicies{{
    {"keep", StringPolicy::keep},
    {"unique", StringPolicy::unique},
    {"shared", StringPolicy::shared},
    {"csv", StringPolicy::csv},
}};
constexpr std::array<std::pair<std::string_view, JobDeviceState>, 8> kDeviceStates{{
    {"queued", JobDeviceState::queued},
    {"triggered", JobDeviceState::triggered},
    {"in-session", JobDeviceState::in_session},
    {"pending-ca", JobDeviceState::pending_ca},
    {"succeeded", JobDeviceState::succeeded},
    {"failed", JobDeviceState::failed},
    {"expired", JobDeviceState::expired},
    {"cancelled", JobDeviceState::cancelled},
}};

template <class E, size_t N>
std::string_view name_of(E v, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, value] : table)
    if (value == v) return name;
  return "?";
}
template <class E, size_t N>
std::optional<E> value_of(std::string_view s, const std::array<std::pair<std::string_view, E>, N>& table) {
  for (const auto& [name, value] : table)
    if (name == s) return value;
  return std::nullopt;
}
}  // namespace

bool is_final(JobDeviceState s) {
  return s == JobDeviceState::succeeded || s == JobDeviceState::failed || s == JobDeviceState::expired ||
         s == JobDeviceState::cancelled;
}

std::string_view to_string(JobState s) { return name_of(s, kJobStates); }
std::string_view to_string(StringPolicy p) { return name_of(p, kPolicies); }
std::string_view to_string(JobDeviceState s) { return name_of(s, kDeviceStates); }
std::optional<JobState> parse_job_state(std::string_view s) { return value_of(s, kJobStates); }
std::optional<StringPolicy> parse_string_policy(std::string_view s) { return value_of(s, kPolicies); }
std::optional<JobDeviceState> parse_job_device_state(std::string_view s) { return value_of(s, kDeviceStates); }

}  // namespace capf
