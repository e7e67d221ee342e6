// The job engine: turns a submitted job into armed devices, dispatches Apply Config within
// the job's schedule and limits, follows each device through the state machine of
// device_fsm.hpp and recovers after a crash. All state changes go to the store first.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "capf/core/breaker.hpp"
#include "capf/core/session_hook.hpp"
#include "capf/engine/device_fsm.hpp"
#include "capf/engine/job_spec.hpp"
#include "capf/engine/rate.hpp"
#include "capf/engine/schedule.hpp"
#include "capf/engine/trigger.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::engine {

/// Daemon-wide settings of the engine.
struct EngineConfig {
  double global_rate_per_minute = 0;  ///< 0 = no global rate cap
  double global_burst = 0;            ///< 0 = automatic; raised like a job's (tick_burst)
  /// The scheduling loop's period (SchedulingLoop, `--tick-ms`): the token buckets are checked
  /// once a tick, so each bucket's burst must cover a tick's share of its rate.
  std::int64_t tick_ms = 100;
  int global_max_in_flight = 0;  ///< 0 = no global concurrency cap
  RetryPolicy retry;             ///< max_attempts is overridden per job
  IssuerKind issuer = IssuerKind::capf;
  BreakerSettings breaker;  ///< of the Apply Config endpoint's breaker
  /// The daemon's breakers, shared with the Online CA and the certificate monitor; the engine
  /// makes its own when none is given.
  std::shared_ptr<Breakers> breakers;
};

/// Sends Apply Config asynchronously; `done` may be called from any thread.
class TriggerRunner {
 public:
  virtual ~TriggerRunner() = default;
  virtual void trigger(const std::string& job, const Device& device, std::function<void(TriggerResult)> done) = 0;
  /// The endpoint every device's trigger calls (engine::shared_endpoint), or nullopt when each
  /// phone is its own endpoint: only a shared endpoint has a breaker.
  virtual std::optional<std::string> shared_endpoint() const { return std::nullopt; }
};

/// A job submission: a spec (validated by Engine::submit whoever built it) and the devices it
/// applies to, with how to submit it.
struct SubmitRequest : JobSpec {
  std::vector<std::string> devices;                ///< selected devices, in dispatch order
  std::map<std::string, std::string> csv_strings;  ///< device → string, for StringPolicy::csv
  bool dry_run = false;                            ///< check and report, write nothing
  bool skip_invalid = false;                       ///< submit the devices that can work
  bool force = false;                              ///< submit although the windows miss the deadline
  std::string actor = "admin";
};

/// The failure share that holds a job whose submitter gave none.
inline constexpr double kDefaultMaxFailPct = 20;
/// The canary wave of a job whose submitter gave none: 1 % of its devices, at least 5 and at
/// most 50, never more than the job has.
int default_canary(std::size_t devices);

/// The answer to a submission.
struct SubmitResult {
  std::string job_id;  ///< empty on a dry run or refusal
  std::size_t accepted = 0;
  std::vector<std::pair<std::string, std::string>> refused;  ///< device, reason
  std::string capacity;                                      ///< the window/deadline check, in words with numbers
  bool capacity_fits = true;
  int canary = 0;             ///< the canary wave the job gets
  double max_fail_pct = 100;  ///< the failure share that holds it
  double burst = 1;           ///< the burst the job's bucket would use
  std::string burst_note;     ///< why it differs from the one submitted (shown by --dry-run)
  /// The canary and the hold in words, each saying whether it is a default and how to change
  /// or turn it off (shown by --dry-run and on submission).
  std::string safety;
  bool submitted = false;
  /// Generated authentication strings (device, string): returned once, never logged or kept
  /// anywhere but the devices' records.
  std::vector<std::pair<std::string, std::string>> generated_strings;
};

/// A job with its live figures.
struct JobView {
  Job job;
  std::map<JobDeviceState, std::size_t> counts;
  std::size_t in_flight = 0;
  /// Dispatches over the last minute, once the job has dispatched for a minute (since its
  /// first dispatch in this daemon); before that nullopt, as a minute's count would still climb.
  std::optional<double> rate_per_minute;
  double burst = 1;                        ///< the burst the job's bucket uses (engine::tick_burst)
  std::string burst_note;                  ///< why it differs from the one submitted; empty when it does not
  std::size_t dispatched_last_minute = 0;  ///< dispatches in the last 60 s
  int rate_window_s = 0;                   ///< seconds of dispatching the figures cover, 0–60
  std::optional<util::UnixTime> eta;       ///< when the last device should be dispatched
  std::string schedule_note;               ///< "window open until …", "next window opens …"
  /// Set while the job has devices to dispatch and a shared dependency they need is down:
  /// the breaker that holds them (its describe() says since when and the next probe).
  std::optional<BreakerStatus> waiting;
};

class Engine final : public SessionHook {
 public:
  Engine(store::Store& store, const util::Clock& clock, TriggerRunner& runner, EngineConfig config);
  ~Engine() override;

  /// Loads every unfinished job from the store and applies the restart rules.
  Result<void> recover();
  /// Checks (JobSpec::validate, then each device) and, unless a dry run, creates a job.
  Result<SubmitResult> submit(const SubmitRequest& request);
  /// hold, release, pause, resume, cancel, retry.
  Result<JobView> control(const std::string& job_id, const std::string& action, const std::string& actor);
  /// One scheduling round at the clock's now: deadlines, waits, canary, dispatch, completion.
  void tick();
  /// Called by the runner when Apply Config finished.
  void on_trigger_done(const std::string& job, const std::string& device, const TriggerResult& result);
  /// SessionHook.
  std::optional<JobDevice> on_session_event(Device& device, const SessionEvent& event) override;
  /// An external CA answered for these devices (offline import, online CA): each one waiting
  /// in `pending-ca` goes back to the queue to be triggered again, within its job's limits, so
  /// its phone collects the certificate on its next session.
  void certificates_ready(const std::vector<std::string>& devices);
  /// "Certificate Issuer to Endpoint" changed (submission checks follow it).
  void set_issuer(IssuerKind issuer);
  /// SessionHook: the same, from the CAPF service (online CA answers).
  void on_certificates_ready(const std::vector<std::string>& devices) override;

  std::vector<JobView> list() const;
  Result<JobView> view(const std::string& job_id) const;
  /// The devices of a job in dispatch order.
  Result<std::vector<JobDevice>> devices(const std::string& job_id) const;
  /// Dispatches in flight across all jobs.
  std::size_t in_flight() const;
  /// The daemon's breakers (EngineConfig::breakers or the engine's own).
  const std::shared_ptr<Breakers>& breakers() const { return breakers_; }

  struct Runtime;

 private:
  struct TickClaims;
  void tick_job(Runtime& rt, std::int64_t now_ms, store::Transition& t,
                std::vector<std::pair<std::string, Device>>& fire, TickClaims& claims);
  /// Steps the job's devices whose Operation Completes By passed or whose wait for a session ran out.
  void expire_due(Runtime& rt, std::int64_t now_ms, store::Transition& t, TickClaims& claims);
  /// Dispatches the job's queued devices its limits, the global ones and the breaker allow now
  /// (only the canary wave when `canary_only`); each triggered device goes to `fire`.
  void dispatch_ready(Runtime& rt, std::int64_t now_ms, bool canary_only, store::Transition& t,
                      std::vector<std::pair<std::string, Device>>& fire, TickClaims& claims);
  Result<JobView> control_locked(const std::string& job_id, const std::string& action, const std::string& actor,
                                 store::Transition& t);
  bool apply_step(Runtime& rt, std::size_t i, const Event& e, std::int64_t now_ms, store::Transition& t);
  void apply_device_effects(const JobDevice& jd, const Effects& fx, const Job& job, store::Transition& t);
  JobView make_view(const Runtime& rt, std::int64_t now_ms) const;
  Result<void> persist(store::Transition& t);
  /// Apply Config breaker, fed by trigger outcomes (engine_breaker.cpp). A shared-class failure
  /// returns true when the device's attempt is given back (the endpoint is, or may be, down).
  bool note_apply_failure(const std::string& job, const std::string& device, const TriggerResult& r,
                          std::int64_t now_ms, store::Transition& t);
  void note_apply_answer(const std::string& device, std::int64_t now_ms, store::Transition& t, TickClaims& others);
  /// Whether the next dispatch of `device` may go (a probe when the breaker says so).
  CircuitBreaker::Gate dispatch_gate(const std::string& device, std::int64_t now_ms, store::Transition& t);
  void save_breaker(Dependency d, util::UnixTime now, CircuitBreaker::Change change, store::Transition& t);
  /// Restores the Apply Config breaker's newest saved state; older saved states it finds are
  /// removed through `t`.
  Result<void> restore_breakers(store::Transition& t);
  std::optional<BreakerStatus> waiting_for(const Runtime& rt) const;
  RetryPolicy policy_for(const Job& job) const;
  Result<std::vector<std::pair<std::string, std::string>>> check_devices(const SubmitRequest& r,
                                                                         std::vector<std::string>& accepted);
  /// The next job's number, from the store's counter once, then counted in memory (under mutex_).
  Result<std::int64_t> next_job_number();

  store::Store& store_;
  const util::Clock& clock_;
  TriggerRunner& runner_;
  EngineConfig config_;
  /// Guards the in-memory runtimes only: it is never held across a store write or while
  /// waiting for a device's claim (claims come first, then this mutex; tick only tries them).
  mutable std::mutex mutex_;
  /// One writer per job record at a time (tick and control), so writes land in decision order.
  store::ClaimTable job_claims_;
  std::optional<std::int64_t> job_counter_;  ///< last job number handed out, once read from the store
  std::map<std::string, std::unique_ptr<Runtime>> jobs_;
  std::unordered_map<std::string, std::string> active_job_of_;  ///< device → unfinished job
  RateLimiter global_rate_;
  std::mt19937_64 rng_;
  std::size_t global_in_flight_ = 0;
  std::shared_ptr<Breakers> breakers_;
  std::optional<std::string> apply_endpoint_;  ///< runner_.shared_endpoint()
  /// Version of the Apply Config breaker's last saved state (save_breaker); under mutex_.
  std::uint64_t breaker_version_ = 0;
  /// (job, device) whose shared-class failures were given back while the breaker only
  /// suspected an outage; charged if the endpoint then answers for another device.
  std::vector<std::pair<std::string, std::string>> suspects_;
};

/// Runs triggers on a thread pool with a TriggerConfig.
class PoolTriggerRunner final : public TriggerRunner {
 public:
  PoolTriggerRunner(TriggerConfig config, unsigned threads);
  ~PoolTriggerRunner() override;
  void trigger(const std::string& job, const Device& device, std::function<void(TriggerResult)> done) override;
  std::optional<std::string> shared_endpoint() const override;
  /// Waits for running triggers to finish.
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace capf::engine
