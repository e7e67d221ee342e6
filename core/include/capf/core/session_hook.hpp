// How the CAPF session logic tells the job engine what happened to a device, inside the same
// durable write that records the session step.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/job.hpp"

namespace capf {

/// A session step of a device that a job armed.
struct SessionEvent {
  enum class Kind {
    started,    ///< authenticated; the operation is running
    succeeded,  ///< the operation completed
    failed,     ///< ended without completing
    expired,    ///< Operation Completes By had passed when the phone came
    deferred,   ///< CA modes: the CSR is stored and waits for the CA; the phone comes back for it
  };
  Kind kind = Kind::started;
  std::string reason;
  std::string serial;      ///< LSC serial on an install's success
  bool retryable = true;   ///< false: trying again cannot help (locked, refused for good)
};

/// Implemented by the job engine. Called with the device as it is about to be written; may
/// change it (e.g. clear job_id) and returns the job-device record to write in the same batch.
class SessionHook {
 public:
  virtual ~SessionHook() = default;
  virtual std::optional<JobDevice> on_session_event(Device& device, const SessionEvent& event) = 0;
  /// An external CA answered for `devices` (their certificates wait for delivery). Called after
  /// the answer is durable, outside any write; the engine triggers those phones again.
  virtual void on_certificates_ready(const std::vector<std::string>& devices) = 0;
};

}  // namespace capf
