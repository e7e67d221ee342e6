// The per-device state machine of a job, as a pure function:
//   (JobDevice, Event, now, policy, jitter) → (JobDevice, Effects)
// The engine applies the effects and persists the result; nothing here does I/O or reads a
// clock. The table is in docs/arch/jobs.md and in tests/engine/device_fsm_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "capf/core/job.hpp"

namespace capf::engine {

/// Retry settings of a job.
struct RetryPolicy {
  int max_attempts = 3;                ///< triggers per device before it is failed
  std::int64_t backoff_base_s = 30;    ///< first retry delay ceiling (full jitter below it)
  std::int64_t backoff_ceiling_s = 3600;
  std::int64_t session_wait_s = 300;   ///< how long a triggered phone has to open its session
};

/// What happened to a device.
struct Event {
  enum class Kind {
    dispatch,           ///< the engine picked it within the limits: send Apply Config
    trigger_ok,         ///< Apply Config reached the phone
    trigger_failed,     ///< Apply Config failed (retryable or not; retry_after_s when throttled)
    session_started,    ///< the phone authenticated in a CAPF session
    session_succeeded,  ///< the operation completed (serial of the LSC for installs)
    session_failed,     ///< the session ended without completing (retryable or not)
    ca_pending,         ///< CA modes: the session stored the CSR; the external CA has it now
    ca_ready,           ///< CA modes: the certificate arrived; trigger the phone to collect it
    wait_expired,       ///< next_attempt_ms passed while triggered or in session
    deadline_passed,    ///< Operation Completes By passed
    cancel,             ///< the job was cancelled
    retry,              ///< an administrator retries a failed device
    recover,            ///< the daemon restarted
    charge,             ///< a failure given back as a possible outage proved to be the device's own
  };
  Kind kind = Kind::dispatch;
  bool retryable = true;
  /// trigger_failed: the failure is (or may be) the shared endpoint's, not the device's: the
  /// attempt is given back and the device waits in the queue (docs/arch/breakers.md).
  bool shared_outage = false;
  std::optional<std::int64_t> retry_after_s;
  std::string reason;
  std::string serial;
};

/// What the engine must do after a step.
struct Effects {
  bool run_trigger = false;    ///< send Apply Config (after the new state is durable)
  bool disarm_device = false;  ///< clear the device's operation: it ended without success
  bool rearm_device = false;   ///< arm the device's operation again (retry)
};

/// The result of a step.
struct Step {
  JobDevice next;
  Effects effects;
  bool changed = false;  ///< false when the event does not apply in the current state
};

/// One transition. `jitter` is a uniform value in [0, 1) for the backoff's full jitter.
Step step(const JobDevice& current, const Event& event, std::int64_t now_ms, const RetryPolicy& policy,
          double jitter);

}  // namespace capf::engine
