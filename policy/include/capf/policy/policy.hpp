// Renewal policies: a query, a device template, the windows and limits of the jobs they create,
// and the rules that say when a device's LSC is due (install, renew, re-enroll). Kept in the
// store's policies family as "policy/NAME" (the definition) and "state/NAME" (the last run).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/store/store.hpp"
#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace capf::policy {

/// One renewal policy.
struct Policy {
  std::string name;
  std::string where;          ///< the devices it keeps (jobs/query.hpp)
  std::string template_name;  ///< settings of its jobs (Authentication Mode, keys)
  std::vector<std::string> windows;    ///< "MIN HOUR DOM MON DOW DURATION TZ"; none = every day
  std::vector<std::string> blackouts;  ///< windows or "START/END"
  double rate_per_minute = 0;          ///< 0 = no cap of its own
  int max_in_flight = 0;               ///< 0 = no cap of its own
  double renew_at_fraction = 2.0 / 3.0;  ///< renew once this share of the lifetime has passed
  int renew_days_before = 0;             ///< > 0: renew this many days before expiry instead
  bool install_missing = false;          ///< install where the device has no LSC
  bool reenroll_retired_ca = false;      ///< re-enroll LSCs issued by a retired CAPF CA
  bool reenroll_revoked = false;         ///< re-enroll LSCs whose record is revoked
  int jitter_nights = 7;                 ///< spread each device over this many nights
  bool paused = false;
  util::UnixTime created_at = 0;         ///< also the anchor that numbers its nights
  std::string created_by;
};

/// A device the policy acted on: the night it was put into a job and the LSC it had then.
/// While its LSC is unchanged the policy does not act again before N nights later.
struct Acted {
  util::UnixTime night = 0;  ///< start of the night
  std::string serial;        ///< LSC serial at that time ("" = none)
  std::string job;           ///< the job, "" when the engine refused the device
};

/// What a policy remembers between runs (survives restarts).
struct PolicyState {
  util::UnixTime last_run = 0;
  util::UnixTime last_night = 0;       ///< start of the last night it created a job in
  std::size_t jobs_created = 0;
  std::size_t devices_submitted = 0;
  std::vector<std::string> recent_jobs;  ///< newest last, at most 20
  std::string note;                      ///< the last run in words
  std::map<std::string, Acted> acted;    ///< device → the last time it acted on it
};

/// Checks a policy (name, query, windows, blackouts, limits, renewal rule); the error names
/// the option.
Result<void> validate(const Policy& p);

std::string encode_policy(const Policy& p);
Result<Policy> decode_policy(std::string_view json);
std::string encode_state(const PolicyState& s);
Result<PolicyState> decode_state(std::string_view json);

/// Store keys.
std::string policy_key(const std::string& name);
std::string state_key(const std::string& name);

Result<std::vector<Policy>> load_policies(const store::Store& store);
Result<std::optional<Policy>> load_policy(const store::Store& store, const std::string& name);
/// The state, or an empty one when the policy never ran.
Result<PolicyState> load_state(const store::Store& store, const std::string& name);

}  // namespace capf::policy
