// Circuit breakers for the daemon's shared dependencies — the Apply Config endpoint, the Online
// CA, the SMTP server of the certificate monitor. A run of failures of the shared class
// (refused, timed out, 5xx), consecutive and across different devices (or mails), opens the
// breaker: work that needs the dependency waits instead of spending any device's attempts, one
// probe at a time (with util/backoff.hpp's backoff) tells when it is back, and its first answer
// closes the breaker. The rule is in docs/arch/breakers.md.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "capf/util/time.hpp"

namespace capf {

/// A dependency shared by many devices.
enum class Dependency : std::uint8_t { apply_config, online_ca, smtp };

/// "Apply Config endpoint", "Online CA", "SMTP server".
std::string_view to_string(Dependency d);
/// "apply-config", "online-ca", "smtp": the key of its saved state and of JSON.
std::string_view key_of(Dependency d);

/// When a breaker opens and how it probes.
struct BreakerSettings {
  int threshold = 3;                   ///< shared-class failures in a row that open it
  int min_subjects = 2;                ///< … from at least this many different devices (or mails)
  std::int64_t probe_base_s = 5;       ///< first probe delay ceiling (full jitter below it)
  std::int64_t probe_ceiling_s = 300;  ///< longest delay between probes
  std::int64_t probe_timeout_s = 600;  ///< a probe with no outcome after this counts as failed
};

/// Where a breaker is; what the job views and logs show.
struct BreakerStatus {
  enum class State : std::uint8_t { closed, open, probing };
  Dependency dependency = Dependency::apply_config;
  std::string endpoint;             ///< what is called, credentials removed (may be empty)
  State state = State::closed;
  util::UnixTime since = 0;         ///< first failure of the run that opened it
  util::UnixTime next_probe = 0;    ///< open: the next probe goes at or after this
  util::UnixTime probe_started = 0; ///< probing: when the probe went
  int probes_failed = 0;            ///< probes failed since it opened (the backoff's attempt)
  std::string last_error;           ///< one line, e.g. "connection refused"

  bool closed() const { return state == State::closed; }
  /// "Apply Config endpoint unreachable since 2027-01-15T08:00:03Z (… connection refused),
  /// next probe at 2027-01-15T08:00:08Z"; "" when closed.
  std::string describe() const;
};

std::string_view to_string(BreakerStatus::State s);

/// One breaker. Pure: time and jitter come from the caller; not thread-safe (Breakers is).
class CircuitBreaker {
 public:
  CircuitBreaker(Dependency d, BreakerSettings s = {});

  /// What may start now.
  enum class Gate {
    pass,   ///< closed: go
    probe,  ///< open and a probe is due: this caller's work is the probe (the breaker is now probing)
    wait,   ///< open or probing: do not start work that needs the dependency
  };
  /// Asks to start one piece of work for `subject` (device name, mail) at `now`.
  Gate gate(const std::string& subject, util::UnixTime now);
  /// Like gate() without taking a probe: true while work must wait.
  bool blocked(util::UnixTime now) const;

  /// What a reported outcome changed.
  enum class Change { none, opened, probe_failed, closed };
  /// A shared-class failure for `subject`. `jitter` in [0, 1) for the probe backoff;
  /// `at_least_s` is the dependency's own delay (Retry-After), 0 when it gave none.
  Change failure(const std::string& subject, const std::string& error, util::UnixTime now, double jitter,
                 std::int64_t at_least_s = 0);
  /// The dependency answered (any answer that proves it is reachable and working).
  Change success(util::UnixTime now);

  /// True while shared-class failures are running in a row below the threshold: a failure now
  /// may be the start of an outage rather than the device's own.
  bool suspecting() const { return state_.closed() && run_ > 0; }

  const BreakerStatus& status() const { return state_; }
  void set_endpoint(std::string endpoint) { state_.endpoint = std::move(endpoint); }
  void set_settings(const BreakerSettings& s) { settings_ = s; }
  const BreakerSettings& settings() const { return settings_; }

  /// The state saved before a restart. Open stays open with its `since` (the outage is not
  /// forgotten); a probe that was under way when the daemon stopped never reported, so it
  /// counts as failed and the next probe is due at its saved time (at once when that passed).
  void restore(const BreakerStatus& saved);
  /// One line of JSON for the store; decode() reads it back (nullopt when unreadable).
  std::string encode() const;
  static std::optional<BreakerStatus> decode(std::string_view text);

 private:
  void open(util::UnixTime now, double jitter, std::int64_t at_least_s);

  BreakerSettings settings_;
  BreakerStatus state_;
  int run_ = 0;                      ///< shared-class failures in a row while closed
  std::set<std::string> subjects_;   ///< … from these subjects
  util::UnixTime run_since_ = 0;
  std::string probe_subject_;
};

/// The daemon's breakers, one per dependency, shared by the parts that call the dependencies
/// (job engine, Online CA, certificate monitor) and the views that show them. Thread-safe;
/// every call is short and does no I/O. Saving a changed state is the caller's (store/).
class Breakers {
 public:
  /// Settings and endpoint of one dependency. The state is kept while the endpoint stays the
  /// same; another endpoint starts closed (nothing is known of it).
  void configure(Dependency d, const BreakerSettings& s, const std::string& endpoint);
  CircuitBreaker::Gate gate(Dependency d, const std::string& subject, util::UnixTime now);
  bool blocked(Dependency d, util::UnixTime now) const;
  bool suspecting(Dependency d) const;
  CircuitBreaker::Change failure(Dependency d, const std::string& subject, const std::string& error,
                                 util::UnixTime now, double jitter, std::int64_t at_least_s = 0);
  CircuitBreaker::Change success(Dependency d, util::UnixTime now);
  BreakerStatus status(Dependency d) const;
  /// The state of every dependency used so far (closed ones too), in enum order.
  std::vector<BreakerStatus> all() const;
  std::string encode(Dependency d) const;
  void restore(Dependency d, const BreakerStatus& saved);

 private:
  CircuitBreaker& at(Dependency d);
  const CircuitBreaker* find(Dependency d) const;

  mutable std::mutex mutex_;
  std::map<Dependency, CircuitBreaker> breakers_;
};

}  // namespace capf
