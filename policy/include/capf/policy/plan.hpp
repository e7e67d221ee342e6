// The one planning function: which devices a policy acts on, and on which night. The daemon's
// evaluator submits what it plans for the night that is open now; the forecast prints what it
// plans for every night ahead. Both call plan() on the same inputs, so they agree.
//
// Nights. A policy's nights are the open intervals of its schedule (its windows minus its
// blackouts), found from the policy's creation time onwards and numbered 0, 1, 2, … from
// there; an interval longer than 24 h (or no windows at all) is cut into 24 h nights.
//
// When a device is due (due_of):
//   - no LSC                                  → install, now (only with install_missing)
//   - its LSC record is revoked               → re-enroll, now (only with reenroll_revoked)
//   - its LSC issuer is a retired CAPF CA      → re-enroll, now (only with reenroll_retired_ca):
//     listed in the meta key "retired_ca_subjects" (a JSON array of subject DNs), or, while
//     the CAPF CA itself issues LSCs, any issuer other than the current CAPF CA's subject
//   - its LSC has expired                      → renew, now
//   - otherwise                                → renew at issued + fraction × lifetime, or
//                                                 N days before notAfter (renew_days_before)
//
// Which night (deterministic jitter). Each device has a number h (FNV-1a of policy and device
// name) and N = jitter_nights. A device due at D goes on the night k among the N nights that
// start before D whose number satisfies k ≡ h (mod N): renewals spread over the N nights before
// their due date and never land after it. A device due now, or whose night has passed, goes on
// the first night from now with k ≡ h (mod N): within N nights, spread evenly, and the same
// night whenever the plan is made. A device already acted on with the LSC it still has waits
// for the first such night after the one it was acted on. Devices in a job (Device.job_id set)
// are left out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/vocabulary.hpp"
#include "capf/engine/schedule.hpp"
#include "capf/inventory/query.hpp"
#include "capf/policy/policy.hpp"
#include "capf/store/store.hpp"

namespace capf::policy {

/// One night: an open interval of the policy's schedule and its number from the policy's anchor.
struct Night {
  std::int64_t index = 0;
  util::UnixTime start = 0;
  util::UnixTime end = 0;
};

/// A policy's nights, computed once from its anchor and extended as needed.
class NightCalendar {
 public:
  static Result<NightCalendar> make(const Policy& p);
  /// Makes sure the nights up to `until` and `extra` more after it are known (as far as the
  /// schedule opens within 400 days of the last known night).
  void extend(util::UnixTime until, std::size_t extra = 0);
  /// The night containing t, or the next one; nullopt when none is known.
  std::optional<Night> at_or_after(util::UnixTime t);
  /// The first night starting at or after t (extends as needed); nullopt when none opens.
  std::optional<Night> first_starting_at_or_after(util::UnixTime t);
  /// The night with this number; nullopt past the known end.
  std::optional<Night> night(std::int64_t index);
  /// Nights overlapping [from, until).
  std::vector<Night> between(util::UnixTime from, util::UnixTime until);
  /// The open interval is longer than one night: the schedule never closes.
  const engine::Schedule& schedule() const { return schedule_; }

 private:
  NightCalendar(engine::Schedule s, util::UnixTime anchor) : schedule_(std::move(s)), cursor_(anchor) {}
  bool grow();  ///< finds one more night; false when none opens within 400 days
  engine::Schedule schedule_;
  util::UnixTime cursor_;
  bool exhausted_ = false;
  std::vector<Night> nights_;
};

/// What the CAPF CA looks like to the retired-CA rule.
struct CaFacts {
  std::string current_subject;                ///< the CAPF CA's subject DN ("" = unknown)
  std::vector<std::string> retired_subjects;  ///< meta "retired_ca_subjects"
  IssuerKind issuer = IssuerKind::capf;       ///< Certificate Issuer to Endpoint (service parameters)
};
/// Reads meta "retired_ca_subjects" and the service parameters (params doc "service").
Result<CaFacts> load_ca_facts(const store::Store& store, std::string current_subject);

/// Why a device is due.
enum class Reason : std::uint8_t { install, renew, expired, retired_ca, revoked };
std::string_view to_string(Reason r);

/// When a device is due, and why.
struct Due {
  Reason reason = Reason::renew;
  util::UnixTime at = 0;  ///< renewal time; for "now" reasons the time it was found due
  bool now = false;       ///< due at once (install, expired, retired CA, revoked)
};

/// A device as the planner sees it.
struct DeviceFacts {
  Device device;
  std::optional<CertificateRecord> lsc;  ///< the record of device.lsc_serial, if capf has one
};

/// The devices a policy's query matches, with their current LSC records.
struct Snapshot {
  std::vector<DeviceFacts> devices;
  CaFacts ca;
};
Result<Snapshot> load_snapshot(const store::Store& store, const inventory::Query& query, util::UnixTime now,
                               CaFacts ca);

/// When a device is due under a policy; nullopt when the policy never acts on it.
std::optional<Due> due_of(const Policy& p, const DeviceFacts& d, const CaFacts& ca, util::UnixTime now);

/// One device on one night.
struct PlannedDevice {
  std::string device;
  Reason reason = Reason::renew;
  std::int64_t night = 0;
  util::UnixTime due_at = 0;
};

/// One night of the plan.
struct NightPlan {
  Night night;
  std::size_t devices = 0;
  std::map<Reason, std::size_t> by_reason;
  double capacity = -1;  ///< rate × open minutes; -1 = no rate (unlimited)
  bool over = false;     ///< devices > capacity
};

/// The plan over [now, until).
struct Plan {
  std::vector<NightPlan> nights;       ///< every night overlapping [now, until), in order
  std::vector<PlannedDevice> devices;  ///< the devices planned on those nights
  std::size_t in_job = 0;              ///< left out: already in a job
  std::size_t matched = 0;             ///< devices the query matches
  std::string note;                    ///< e.g. "no window opens within 400 days"
};

/// The planning function shared by the evaluator and the forecast.
Plan plan(const Policy& p, const PolicyState& state, NightCalendar& calendar, const Snapshot& snapshot,
          util::UnixTime now, util::UnixTime until);

/// FNV-1a of "policy\0device": the device's jitter number.
std::uint64_t jitter_hash(const std::string& policy, const std::string& device);

}  // namespace capf::policy
