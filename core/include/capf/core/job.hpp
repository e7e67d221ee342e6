// Batch jobs and their devices: value types kept in the store and shown in reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/util/time.hpp"

namespace capf {

/// Where a job is in its life.
enum class JobState : std::uint8_t {
  held,         ///< submitted with --hold or held by an administrator; nothing dispatches
  active,       ///< dispatching whenever its schedule is open
  paused,       ///< no new dispatch; devices already in flight finish
  canary_hold,  ///< held automatically: the canary wave failed too often
  completed,    ///< every device reached a final state
  cancelled,    ///< cancelled; remaining devices are `cancelled`
  failure_hold, ///< held automatically: more than max_fail_pct of the finished devices failed
};

/// How a job sets authentication strings (By Authentication String mode).
enum class StringPolicy : std::uint8_t {
  keep,    ///< each device keeps the string it has (or gets from the CSV it was imported with)
  unique,  ///< a new random 4–10 digit string per device, handed to the administrator once
  shared,  ///< one string for every device
  csv,     ///< the Authentication String column of the job's CSV
};

/// Where one device of a job is (the per-device state machine of docs/arch/jobs.md).
enum class JobDeviceState : std::uint8_t {
  queued,      ///< waiting to be triggered (maybe not before next_attempt_at)
  triggered,   ///< Apply Config sent; waiting for the phone's CAPF session
  in_session,  ///< the phone is in a CAPF session now
  pending_ca,  ///< CA modes: the phone's CSR waits for the external CA; triggered again once answered
  succeeded,   ///< final: the operation completed
  failed,      ///< final: attempts exhausted or a permanent failure
  expired,     ///< final: Operation Completes By passed
  cancelled,   ///< final: the job was cancelled
};

/// True for succeeded, failed, expired, cancelled.
bool is_final(JobDeviceState s);

/// A job: what to do to which devices, when and how fast.
struct Job {
  std::string id;                 ///< "J0001"
  std::string description;
  std::string created_by = "admin";
  util::UnixTime created_at = 0;
  std::string selection;          ///< "csv:site.csv" or "where:<query>"

  CertificateOperation operation = CertificateOperation::install_upgrade;
  std::optional<AuthMode> auth_mode;  ///< unset: each device keeps its mode
  StringPolicy string_policy = StringPolicy::keep;
  std::optional<int> rsa_key_bits;
  std::optional<KeyOrder> key_order;
  std::optional<int> ec_key_bits;
  std::optional<util::UnixTime> completes_by;  ///< job-wide "Operation Completes By"

  util::UnixTime start_at = 0;          ///< run at (0 = now)
  std::vector<std::string> windows;     ///< "MIN HOUR DOM MON DOW DURATION TZ"
  std::vector<std::string> blackouts;   ///< windows or "START/END"
  double rate_per_minute = 0;           ///< 0 = no job rate cap
  /// Dispatches allowed at once after a pause; 0 = automatic (engine::tick_burst: two
  /// scheduling ticks' share of the rate). A burst below one tick's share is raised to it.
  double burst = 0;
  int max_in_flight = 0;                ///< 0 = no job concurrency cap
  int canary = 0;                       ///< first N devices form the canary wave (0 = none)
  /// Failure share (failed or expired among the finished devices) that holds the job: the
  /// canary wave's once it is final, then the whole job's (100 = never hold).
  double max_fail_pct = 100;
  int max_attempts = 3;

  JobState state = JobState::active;
  std::string state_reason;
  bool canary_passed = false;
  /// Finished and failed devices when an administrator last released a failure hold: the
  /// share is judged again only over the devices that finish afterwards.
  std::size_t hold_accepted_finished = 0, hold_accepted_failed = 0;
  std::size_t devices = 0;
  util::UnixTime finished_at = 0;
};

/// One device inside a job.
struct JobDevice {
  std::string job;
  std::string device;
  JobDeviceState state = JobDeviceState::queued;
  int attempts = 0;                  ///< triggers sent so far
  std::int64_t next_attempt_ms = 0;  ///< not before (queued) / give up waiting at (triggered, in session)
  std::optional<util::UnixTime> deadline;
  std::string reason;                ///< last failure or final reason, in words
  std::string serial;                ///< LSC delivered by this job
  int wave = 0;                      ///< 1 = canary wave, 0 = the rest
  std::int64_t dispatch_order = 0;   ///< position in dispatch order, 0 until dispatched
  util::UnixTime queued_at = 0, triggered_at = 0, finished_at = 0;
};

std::string_view to_string(JobState s);
std::string_view to_string(StringPolicy p);
std::string_view to_string(JobDeviceState s);
std::optional<JobState> parse_job_state(std::string_view s);
std::optional<StringPolicy> parse_string_policy(std::string_view s);
std::optional<JobDeviceState> parse_job_device_state(std::string_view s);

}  // namespace capf
