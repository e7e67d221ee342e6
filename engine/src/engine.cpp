#include "capf/engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "capf/core/csr.hpp"
#include "capf/store/csr_ledger.hpp"
#include "capf/util/log.hpp"
#include "runtime.hpp"

namespace capf::engine {

namespace {
const util::ModuleLogger log{"engine"};
using S = JobDeviceState;
using K = Event::Kind;

/// The automatic hold over the whole job: true when it holds the job now. Judged over the
/// devices finished since an administrator last released it, once enough of them finished.
bool hold_on_failures(Job& job, const std::vector<JobDevice>& devices, util::UnixTime now, store::Transition& t) {
  if (job.state != JobState::active || job.max_fail_pct >= 100) return false;
  auto [finished, bad] = finished_and_failed(devices);
  finished -= std::min(finished, job.hold_accepted_finished);
  bad -= std::min(bad, job.hold_accepted_failed);
  const std::size_t sample = std::max<std::size_t>(10, static_cast<std::size_t>(std::max(0, job.canary)));
  if (finished < sample) return false;
  const double pct = 100.0 * static_cast<double>(bad) / static_cast<double>(finished);
  if (pct <= job.max_fail_pct) return false;
  job.state = JobState::failure_hold;
  job.state_reason = fmt::format("{} of {} finished devices failed ({:.1f} % > {:g} %); release to go on", bad,
                                 finished, pct, job.max_fail_pct);
  t.audit.push_back(AuditEntry{now, "engine", "job.failure_hold", job.id, job.state_reason});
  log()->warn("job={} {}", job.id, job.state_reason);
  return true;
}

/// The canary wave (wave 1) of a job that has one and has not passed it: judged once all of it
/// is final, holding the job when too many failed. True while only the canary may dispatch;
/// `changed` is set when the job changed.
bool judge_canary(Job& job, const std::vector<JobDevice>& devices, util::UnixTime now, store::Transition& t,
                  bool& changed) {
  if (job.canary <= 0 || job.canary_passed) return false;
  std::size_t total = 0, done = 0, bad = 0;
  for (const auto& d : devices) {
    if (d.wave != 1) continue;
    ++total;
    // A phone whose CSR waits for an external CA ran its session: the CA's answer is not the
    // canary's question, and waiting for it would hold the job for a manager's approval.
    if (is_final(d.state) || d.state == S::pending_ca) ++done;
    if (d.state == S::failed || d.state == S::expired) ++bad;
  }
  if (total == 0 || done != total) return true;
  const double pct = 100.0 * static_cast<double>(bad) / static_cast<double>(total);
  if (pct <= job.max_fail_pct) {
    job.canary_passed = true;
    changed = true;
    log()->info("job={} canary passed: {} of {} failed", job.id, bad, total);
  } else if (job.state != JobState::canary_hold) {
    job.state = JobState::canary_hold;
    job.state_reason = fmt::format("canary: {} of {} devices failed ({:.1f} % > {:.1f} %); release to go on", bad,
                                   total, pct, job.max_fail_pct);
    t.audit.push_back(AuditEntry{now, "engine", "job.canary_hold", job.id, job.state_reason});
    log()->warn("job={} {}", job.id, job.state_reason);
    changed = true;
  }
  return false;
}

/// Completes a job all of whose devices are final; true when it did.
bool complete_when_final(Job& job, const std::vector<JobDevice>& devices, util::UnixTime now, store::Transition& t) {
  const bool all_final =
      std::all_of(devices.begin(), devices.end(), [](const JobDevice& d) { return is_final(d.state); });
  if (!all_final || job.state == JobState::completed || job.state == JobState::cancelled) return false;
  job.state = JobState::completed;
  job.finished_at = now;
  job.state_reason.clear();
  t.audit.push_back(AuditEntry{now, "engine", "job.completed", job.id, std::to_string(devices.size()) + " devices"});
  log()->info("job={} completed", job.id);
  return true;
}
}  // namespace

std::pair<std::size_t, std::size_t> finished_and_failed(const std::vector<JobDevice>& devices) {
  std::size_t finished = 0, bad = 0;
  for (const auto& d : devices) {
    if (!is_final(d.state) || d.state == S::cancelled) continue;
    ++finished;
    bad += d.state == S::failed || d.state == S::expired;
  }
  return {finished, bad};
}

Result<Schedule> schedule_of(const Job& job) {
  std::vector<Window> windows, blackout_windows;
  std::vector<Interval> blackout_intervals;
  for (const auto& w : job.windows) {
    auto parsed = Window::parse(w);
    if (!parsed) return make_error(Errc::invalid_argument, "window \"" + w + "\": " + parsed.error().message);
    windows.push_back(std::move(*parsed));
  }
  for (const auto& b : job.blackouts) {
    auto parsed = Schedule::parse_blackout(b);
    if (!parsed) return make_error(Errc::invalid_argument, "blackout \"" + b + "\": " + parsed.error().message);
    if (parsed->first) blackout_windows.push_back(std::move(*parsed->first));
    if (parsed->second) blackout_intervals.push_back(*parsed->second);
  }
  return Schedule::make(std::move(windows), std::move(blackout_windows), std::move(blackout_intervals));
}

Engine::Engine(store::Store& store, const util::Clock& clock, TriggerRunner& runner, EngineConfig config)
    : store_(store),
      clock_(clock),
      runner_(runner),
      config_(config),
      global_rate_(config.global_rate_per_minute, 1, clock.now_ms()),
      rng_(std::random_device{}()),
      breakers_(config.breakers ? config.breakers : std::make_shared<Breakers>()),
      apply_endpoint_(runner.shared_endpoint()) {
  breakers_->configure(Dependency::apply_config, config.breaker, apply_endpoint_.value_or(""));
  const auto global = tick_burst(config.global_rate_per_minute, config.global_burst, config.tick_ms, "--global-burst");
  global_rate_ = RateLimiter(config.global_rate_per_minute, global.burst, clock.now_ms());
  if (!global.note.empty())
    log()->info("global rate {}/min, burst {} ({})", config.global_rate_per_minute, global.burst, global.note);
}

Engine::~Engine() = default;

RetryPolicy Engine::policy_for(const Job& job) const {
  RetryPolicy p = config_.retry;
  p.max_attempts = std::max(1, job.max_attempts);
  return p;
}

Result<void> Engine::persist(store::Transition& t) {
  if (t.put_devices.empty() && t.put_job_devices.empty() && t.put_jobs.empty() && t.audit.empty() &&
      t.put_meta.empty() && t.delete_meta.empty())
    return ok();
  auto r = store_.apply(t, store::Sync::yes);
  if (!r) log()->error("store write failed: {}", r.error().message);
  t = store::Transition{};
  return r;
}

Result<void> Engine::recover() {
  std::lock_guard lock(mutex_);
  const auto now_ms = clock_.now_ms();
  store::Transition t;
  if (auto b = restore_breakers(t); !b) return b;
  std::vector<Job> unfinished;
  auto r = store_.for_each_job([&](const Job& j) {
    if (j.state != JobState::completed && j.state != JobState::cancelled) unfinished.push_back(j);
    return true;
  });
  if (!r) return r;
  // CA modes: devices whose certificate arrived while no daemon ran (offline import in the
  // CLI's in-process mode) or just before a crash are collected below.
  std::set<std::string> answered;
  auto csrs = store::CsrLedger(store_).for_each(
      [&](const CsrRecord& c) {
        if (c.state == CsrState::issued) answered.insert(c.device);
        return true;
      },
      store::CsrLedger::Undecodable::skip);
  if (!csrs) return csrs;
  std::size_t requeued = 0;
  for (auto& job : unfinished) {
    auto schedule = schedule_of(job);
    if (!schedule) return schedule.error();
    auto rt = std::make_unique<Runtime>(job, std::move(*schedule), now_ms, config_.tick_ms);
    auto scan = store_.for_each_job_device(job.id, [&](const JobDevice& d) {
      rt->devices.push_back(d);
      return true;
    });
    if (!scan) return scan;
    std::sort(rt->devices.begin(), rt->devices.end(),
              [](const JobDevice& a, const JobDevice& b) { return a.dispatch_order < b.dispatch_order; });
    // Count what was in flight at the crash first: the recover steps below take requeued
    // sessions off this count, which must not wrap below zero.
    global_in_flight_ += rt->in_flight();
    for (std::size_t i = 0; i < rt->devices.size(); ++i) {
      rt->index[rt->devices[i].device] = i;
      if (!is_final(rt->devices[i].state)) active_job_of_[rt->devices[i].device] = job.id;
      Event e;
      e.kind = K::recover;
      if (rt->devices[i].state == S::pending_ca && answered.count(rt->devices[i].device)) {
        e.kind = K::ca_ready;
        e.reason = "certificate from the CA waits for delivery";
      }
      if (apply_step(*rt, i, e, now_ms, t)) ++requeued;
    }
    log()->info("job={} recovered: {} devices, {} back in the queue after the restart", job.id, rt->devices.size(),
                requeued);
    jobs_[job.id] = std::move(rt);
  }
  return persist(t);
}

bool Engine::apply_step(Runtime& rt, std::size_t i, const Event& e, std::int64_t now_ms, store::Transition& t) {
  JobDevice& cur = rt.devices[i];
  const bool was_in_flight = cur.state == S::triggered || cur.state == S::in_session;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto s = step(cur, e, now_ms, policy_for(rt.job), u(rng_));
  if (!s.changed) return false;
  const bool now_in_flight = s.next.state == S::triggered || s.next.state == S::in_session;
  if (was_in_flight && !now_in_flight && global_in_flight_ > 0) --global_in_flight_;
  if (!was_in_flight && now_in_flight) ++global_in_flight_;
  cur = std::move(s.next);
  if (is_final(cur.state))
    active_job_of_.erase(cur.device);
  else
    active_job_of_[cur.device] = rt.job.id;
  if (cur.state == S::queued) rt.first_open = std::min(rt.first_open, i);
  t.put_job_devices.push_back(cur);
  apply_device_effects(cur, s.effects, rt.job, t);
  return true;
}

void Engine::apply_device_effects(const JobDevice& jd, const Effects& fx, const Job& job, store::Transition& t) {
  if (!fx.disarm_device && !fx.rearm_device) return;
  auto found = store_.get_device(jd.device);
  if (!found || !found->has_value()) return;
  Device d = **found;
  if (fx.disarm_device) {
    d.operation = CertificateOperation::none;
    d.job_id.clear();
    if (jd.state == S::expired) {
      d.status = OperationStatus::expired;
      d.auth_string.clear();  // void once Operation Completes By passed
    } else {
      d.status = jd.state == S::cancelled ? OperationStatus::none : OperationStatus::failed;
    }
    d.status_reason = "job " + job.id + ": " + jd.reason;
  } else {
    d.operation = job.operation;
    d.job_id = job.id;
    d.status = OperationStatus::pending;
    d.status_reason.clear();
    d.auth_failures = 0;
    d.keygen_failures = 0;
  }
  d.updated_at = clock_.now();
  t.put_devices.push_back(std::move(d));
}

void Engine::tick() {
  std::vector<std::pair<std::string, Device>> fire;
  TickClaims claims{store_.claims(), {}, {}};
  std::vector<store::DeviceClaim> jobs_held;
  store::Transition t;
  {
    std::lock_guard lock(mutex_);
    const auto now_ms = clock_.now_ms();
    for (auto& [id, rt] : jobs_) {
      auto job_claim = job_claims_.try_claim(id);
      if (!job_claim.held()) continue;  // a control action on this job is being written
      tick_job(*rt, now_ms, t, fire, claims);
      jobs_held.push_back(std::move(job_claim));
    }
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      const auto st = it->second->job.state;
      it = (st == JobState::completed || st == JobState::cancelled) ? jobs_.erase(it) : std::next(it);
    }
  }
  // Written outside the engine's mutex: sessions keep reporting to the engine meanwhile.
  if (!persist(t)) return;  // nothing is triggered unless its dispatch is durable
  claims.held.clear();
  jobs_held.clear();
  for (auto& [job, device] : fire) {
    const std::string name = device.name;
    runner_.trigger(job, device, [this, job, name](TriggerResult r) { on_trigger_done(job, name, r); });
  }
}

void Engine::tick_job(Runtime& rt, std::int64_t now_ms, store::Transition& t,
                      std::vector<std::pair<std::string, Device>>& fire, TickClaims& claims) {
  Job& job = rt.job;
  if (job.state == JobState::completed || job.state == JobState::cancelled) return;
  const util::UnixTime now = now_ms / 1000;
  bool job_changed = false;
  expire_due(rt, now_ms, t, claims);
  const bool canary_only = judge_canary(job, rt.devices, now, t, job_changed);
  if (!canary_only && hold_on_failures(job, rt.devices, now, t)) job_changed = true;
  if (job.state == JobState::active && now >= job.start_at && rt.schedule.is_open(now))
    dispatch_ready(rt, now_ms, canary_only, t, fire, claims);
  while (!rt.recent_dispatches.empty() && rt.recent_dispatches.front() < now_ms - 60'000)
    rt.recent_dispatches.pop_front();
  if (complete_when_final(job, rt.devices, now, t)) job_changed = true;
  if (job_changed) t.put_jobs.push_back(job);
}

void Engine::expire_due(Runtime& rt, std::int64_t now_ms, store::Transition& t, TickClaims& claims) {
  const util::UnixTime now = now_ms / 1000;
  for (std::size_t i = 0; i < rt.devices.size(); ++i) {
    const JobDevice& d = rt.devices[i];
    if (is_final(d.state)) continue;
    const bool due = (d.deadline && now >= *d.deadline) ||
                     ((d.state == S::triggered || d.state == S::in_session) && now_ms >= d.next_attempt_ms);
    if (!due || !claims.own(d.device)) continue;
    if (d.deadline && now >= *d.deadline) {
      Event e;
      e.kind = K::deadline_passed;
      e.reason = "Operation Completes By " + util::format_iso8601(*d.deadline) + " passed";
      apply_step(rt, i, e, now_ms, t);
    } else if ((d.state == S::triggered || d.state == S::in_session) && now_ms >= d.next_attempt_ms) {
      Event e;
      e.kind = K::wait_expired;
      apply_step(rt, i, e, now_ms, t);
    }
  }
}

void Engine::dispatch_ready(Runtime& rt, std::int64_t now_ms, bool canary_only, store::Transition& t,
                            std::vector<std::pair<std::string, Device>>& fire, TickClaims& claims) {
  const Job& job = rt.job;
  const std::size_t job_cap = job.max_in_flight > 0 ? static_cast<std::size_t>(job.max_in_flight) : SIZE_MAX;
  const std::size_t global_cap =
      config_.global_max_in_flight > 0 ? static_cast<std::size_t>(config_.global_max_in_flight) : SIZE_MAX;
  std::size_t in_flight = rt.in_flight();
  std::size_t i = rt.first_open;
  bool seen_queued = false;
  while (i < rt.devices.size() && in_flight < job_cap && global_in_flight_ < global_cap) {
    JobDevice& d = rt.devices[i];
    if (d.state != S::queued || now_ms < d.next_attempt_ms || (canary_only && d.wave != 1) || !claims.own(d.device)) {
      if (d.state == S::queued && !seen_queued) {
        seen_queued = true;
        rt.first_open = i;
      }
      ++i;
      continue;
    }
    if (rt.rate.wait_ms(now_ms) > 0 || global_rate_.wait_ms(now_ms) > 0) break;
    // A dependency that is down holds every dispatch but its probe, and spends no token.
    const auto gate = dispatch_gate(d.device, now_ms, t);
    if (gate == CircuitBreaker::Gate::wait) break;
    rt.rate.try_acquire(now_ms);
    global_rate_.try_acquire(now_ms);
    Event e;
    e.kind = K::dispatch;
    const std::size_t before = t.put_job_devices.size();
    if (apply_step(rt, i, e, now_ms, t) && t.put_job_devices.size() > before) {
      rt.recent_dispatches.push_back(now_ms);
      if (rt.first_dispatch_ms == 0) rt.first_dispatch_ms = now_ms;
      ++in_flight;
      auto dev = store_.get_device(d.device);
      if (dev && dev->has_value()) fire.emplace_back(job.id, std::move(**dev));
    }
    ++i;
    if (gate == CircuitBreaker::Gate::probe) break;  // one probe, then wait for its outcome
  }
  if (!seen_queued) rt.first_open = i;
}

void Engine::on_trigger_done(const std::string& job, const std::string& device, const TriggerResult& result) {
  auto claim = store_.claims().claim(device);
  TickClaims others{store_.claims(), {}, {}};  // the devices whose given-back failures are charged
  store::Transition t;
  {
    std::lock_guard lock(mutex_);
    const auto now_ms = clock_.now_ms();
    Event e;
    if (result.outcome == TriggerOutcome::ok) {
      e.kind = K::trigger_ok;
    } else {
      e.kind = K::trigger_failed;
      e.retryable = result.outcome == TriggerOutcome::transient || result.outcome == TriggerOutcome::throttled;
      e.retry_after_s = result.retry_after_s;
      e.reason = "Apply Config " + std::string(to_string(result.outcome)) + ": " + result.detail;
      log()->info("job={} device={} trigger {}: {}", job, device, to_string(result.outcome), result.detail);
    }
    // The endpoint's breaker hears of every outcome, also for a job that ended meanwhile.
    if (is_shared_failure(result)) {
      e.shared_outage = note_apply_failure(job, device, result, now_ms, t);
      if (e.shared_outage) e.reason += " (not counted: the Apply Config endpoint seems down)";
    } else if (result.outcome == TriggerOutcome::ok || result.outcome == TriggerOutcome::permanent) {
      note_apply_answer(device, now_ms, t, others);  // it answered; needs-admin (a local check) proves nothing
    }
    if (auto it = jobs_.find(job); it != jobs_.end()) {
      if (auto pos = it->second->index.find(device); pos != it->second->index.end())
        apply_step(*it->second, pos->second, e, now_ms, t);
    }
  }
  // Written outside the engine's mutex, under the claims of every device it changes.
  (void)persist(t);
}

std::optional<JobDevice> Engine::on_session_event(Device& device, const SessionEvent& ev) {
  std::lock_guard lock(mutex_);
  if (device.job_id.empty()) return std::nullopt;
  auto it = jobs_.find(device.job_id);
  if (it == jobs_.end()) return std::nullopt;
  auto& rt = *it->second;
  auto pos = rt.index.find(device.name);
  if (pos == rt.index.end()) return std::nullopt;
  Event e;
  e.reason = ev.reason;
  e.serial = ev.serial;
  e.retryable = ev.retryable;
  switch (ev.kind) {
    case SessionEvent::Kind::started:
      e.kind = K::session_started;
      break;
    case SessionEvent::Kind::succeeded:
      e.kind = K::session_succeeded;
      break;
    case SessionEvent::Kind::failed:
      e.kind = K::session_failed;
      break;
    case SessionEvent::Kind::expired:
      e.kind = K::deadline_passed;
      break;
    case SessionEvent::Kind::deferred:
      e.kind = K::ca_pending;
      break;
  }
  store::Transition scratch;
  if (!apply_step(rt, pos->second, e, clock_.now_ms(), scratch)) return std::nullopt;
  const JobDevice& jd = rt.devices[pos->second];
  if (is_final(jd.state)) {
    device.job_id.clear();
    if (jd.state == S::failed) {
      // The job gave up on this device: its operation must not run on a later, unasked session.
      device.operation = CertificateOperation::none;
      if (device.status != OperationStatus::locked) device.status = OperationStatus::failed;
      device.status_reason = "job " + rt.job.id + ": " + jd.reason;
    }
  }
  return jd;
}

void Engine::set_issuer(IssuerKind issuer) {
  std::lock_guard lock(mutex_);
  config_.issuer = issuer;
}

void Engine::on_certificates_ready(const std::vector<std::string>& devices) {
  certificates_ready(devices);
}

void Engine::certificates_ready(const std::vector<std::string>& devices) {
  auto claims = store_.claims().claim_all(devices);
  store::Transition t;
  {
    std::lock_guard lock(mutex_);
    const auto now_ms = clock_.now_ms();
    for (const auto& name : devices) {
      auto job = active_job_of_.find(name);
      if (job == active_job_of_.end()) continue;  // not in a job: the phone collects it whenever it comes
      auto it = jobs_.find(job->second);
      if (it == jobs_.end()) continue;
      auto& rt = *it->second;
      auto pos = rt.index.find(name);
      if (pos == rt.index.end()) continue;
      Event e;
      e.kind = K::ca_ready;
      e.reason = "certificate from the CA waits for delivery";
      apply_step(rt, pos->second, e, now_ms, t);
    }
  }
  if (!t.put_job_devices.empty()) (void)persist(t);
}

std::size_t Engine::in_flight() const {
  std::lock_guard lock(mutex_);
  return global_in_flight_;
}

}  // namespace capf::engine
