// The spec of a job submission and the one place its rules live: the admin API's reader calls
// validate() for an early answer, and Engine::submit calls it again, so a bad spec is refused
// whichever caller built it (the admin API, a policy's nightly job, a test or a benchmark).
#pragma once

#include <string>

#include "capf/core/job.hpp"
#include "capf/util/result.hpp"

namespace capf::engine {

/// Ranges of a job spec's numbers (Job's fields; `capf job submit`'s options name them).
inline constexpr double kMaxJobRatePerMinute = 1e6;  ///< --rate, 0 = no cap
inline constexpr double kMaxJobBurst = 1e6;          ///< --burst, 0 = automatic, else at least 1
inline constexpr int kMaxJobInFlight = 1'000'000;    ///< --max-in-flight, 0 = no cap
inline constexpr int kMaxJobCanary = 1'000'000;      ///< --canary, 0 = none
inline constexpr int kMaxJobAttempts = 100;          ///< --max-attempts, at least 1
inline constexpr int kMinStringLength = 4;           ///< --string-length
inline constexpr int kMaxStringLength = 10;          ///< --string-length

/// What a submitter asks of a job before any device is looked at: the Job's settings and how
/// its Authentication Strings are made. SubmitRequest extends it with the devices and the way
/// to submit (dry run, skip invalid, force, actor), so the spec's fields keep their names on a
/// request and every submitter fills one type; the spec is exactly the part of a submission
/// that can be judged without the store.
struct JobSpec {
  Job job;                    ///< the settings; id, state (but held), counts are assigned on submission
  std::string shared_string;  ///< StringPolicy::shared; empty = generate one
  int string_length = 8;      ///< generated strings: 4–10 digits
  /// The submitter gave no canary / no failure share: the safe defaults fill them in
  /// (default_canary, kDefaultMaxFailPct). Job::canary and Job::max_fail_pct are used otherwise.
  bool default_canary = false;
  bool default_max_fail_pct = false;

  /// Every rule of a spec that needs no store and no device list: a Certificate Operation, the
  /// shared string's and the generated strings' digits, the RSA and EC key sizes, the ranges of
  /// rate, burst, max-in-flight, canary, max-fail-pct and max-attempts, and windows and
  /// blackouts that parse. The first broken rule is the error (Errc::invalid_argument), named by
  /// the `capf job submit` option it comes from.
  Result<void> validate() const;
};

}  // namespace capf::engine
