#include "capf/engine/job_spec.hpp"

#include <fmt/format.h>

#include "runtime.hpp"

namespace capf::engine {

namespace {

Result<void> refuse(std::string why) {
  return make_error(Errc::invalid_argument, std::move(why));
}

/// "--rate must be between 0 and 1e+06" unless lo <= value <= hi (NaN is outside every range).
Result<void> in_range(const char* flag, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return ok();
  return refuse(fmt::format("{} must be between {:g} and {:g}", flag, lo, hi));
}

}  // namespace

Result<void> JobSpec::validate() const {
  if (job.operation == CertificateOperation::none)
    return refuse("a job needs a Certificate Operation: install, delete or troubleshoot");
  // A shared string is checked whatever the policy: one that is never used is a mistake too.
  if (!shared_string.empty() && !valid_auth_string(shared_string)) return refuse("--auth-string must be 4–10 digits");
  if (job.rsa_key_bits && !valid_rsa_bits(*job.rsa_key_bits))
    return refuse("--key-size must be 1024, 2048, 3072 or 4096");
  if (job.ec_key_bits && !curve_from_bits(*job.ec_key_bits)) return refuse("--ec-key-size must be 256, 384 or 521");
  if (auto r = in_range("--rate", job.rate_per_minute, 0, kMaxJobRatePerMinute); !r) return r;
  if (job.burst != 0)  // 0 = automatic (engine::tick_burst)
    if (auto r = in_range("--burst", job.burst, 1, kMaxJobBurst); !r) return r;
  if (auto r = in_range("--max-in-flight", job.max_in_flight, 0, kMaxJobInFlight); !r) return r;
  if (auto r = in_range("--canary", job.canary, 0, kMaxJobCanary); !r) return r;
  if (auto r = in_range("--max-fail-pct", job.max_fail_pct, 0, 100); !r) return r;
  if (auto r = in_range("--max-attempts", job.max_attempts, 1, kMaxJobAttempts); !r) return r;
  if (string_length < kMinStringLength || string_length > kMaxStringLength)
    return refuse("--string-length must be 4–10 digits");
  if (auto schedule = schedule_of(job); !schedule) return schedule.error();
  return ok();
}

}  // namespace capf::engine
