// Job submission (what can work, arming the devices, the window check) and job control.
#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "capf/crypto/crypto.hpp"
#include "capf/engine/engine.hpp"
#include "capf/util/log.hpp"
#include "capf/util/text.hpp"
#include "runtime.hpp"

namespace capf::engine {

namespace {

using S = JobDeviceState;

/// Phones (SEP…) leave the factory with a MIC; soft clients such as Jabber (CSF…) have none.
bool has_mic(const Device& d) {
  return d.name.size() > 3 && util::iequals(d.name.substr(0, 3), "SEP");
}

/// The canary and the automatic hold of a job, in words, with how to change them.
std::string safety_note(const Job& job, const SubmitRequest& r) {
  std::string out = job.canary > 0 ? "canary: the first " + std::to_string(job.canary) +
                                         " devices go first, the rest wait until they are final"
                                   : std::string("canary: none");
  if (r.default_canary)
    out += job.canary > 0 ? " (default: 1 % of the devices, 5–50; --canary N changes it, --canary 0 turns it off)" : "";
  else if (job.canary == 0)
    out += " (--canary 0)";
  out += "; automatic hold: ";
  if (job.max_fail_pct >= 100) {
    out += "off (--max-fail-pct 100)";
  } else {
    out += fmt::format("when more than {:g} % of the finished devices failed (the canary's, then the whole job's)",
                       job.max_fail_pct);
    if (r.default_max_fail_pct) out += " (default; --max-fail-pct P changes it, --max-fail-pct 100 turns it off)";
  }
  return out;
}

/// Arms `d` for `job`: its Certificate Operation and key settings, its Authentication String by
/// the job's string policy (a generated one is reported in `result`), a fresh pending status.
void arm(Device& d, const Job& job, const SubmitRequest& r, const std::string& shared, util::UnixTime now,
         SubmitResult& result) {
  d.operation = job.operation;
  if (job.auth_mode) d.auth_mode = *job.auth_mode;
  if (job.rsa_key_bits) d.rsa_key_bits = *job.rsa_key_bits;
  if (job.key_order) d.key_order = *job.key_order;
  if (job.ec_key_bits) d.ec_key_bits = *job.ec_key_bits;
  if (job.completes_by) d.completes_by = job.completes_by;
  if (d.auth_mode == AuthMode::auth_string) {
    switch (job.string_policy) {
      case StringPolicy::keep:
        break;
      case StringPolicy::unique:
        d.auth_string = crypto::random_digits(static_cast<std::size_t>(r.string_length));
        result.generated_strings.emplace_back(d.name, d.auth_string);
        break;
      case StringPolicy::shared:
        d.auth_string = shared;
        if (r.shared_string.empty()) result.generated_strings.emplace_back(d.name, d.auth_string);
        break;
      case StringPolicy::csv:
        d.auth_string = r.csv_strings.at(d.name);
        break;
    }
  }
  d.status = OperationStatus::pending;
  d.status_reason.clear();
  d.auth_failures = 0;
  d.keygen_failures = 0;
  d.job_id = job.id;
  d.updated_at = now;
}

/// The canary and the automatic hold the job gets (the safe defaults where the submitter gave
/// none), and the burst and the window check that a submission reports.
void settle_limits(Job& job, const SubmitRequest& r, const Schedule& schedule, std::size_t accepted, util::UnixTime now,
                   const EngineConfig& config, SubmitResult& result) {
  if (r.default_canary) job.canary = default_canary(accepted);
  if (r.default_max_fail_pct) job.max_fail_pct = kDefaultMaxFailPct;
  result.canary = job.canary;
  result.max_fail_pct = job.max_fail_pct;
  result.safety = safety_note(job, r);
  const auto burst = tick_burst(job.rate_per_minute, job.burst, config.tick_ms, "--burst");
  result.burst = burst.burst;
  result.burst_note = burst.note;
  const double rate = job.rate_per_minute > 0             ? job.rate_per_minute
                      : config.global_rate_per_minute > 0 ? config.global_rate_per_minute
                                                          : 0;
  auto cap = check_capacity(schedule, accepted, rate > 0 ? rate : 1e9, std::max(now, job.start_at), job.completes_by);
  result.capacity = cap.message;
  result.capacity_fits = cap.fits;
}

/// Arms the accepted devices for `job` and lists them as the job's devices in `t` and `rt`.
/// A night's peak memory is this arming: each device is read again (it is claimed, so it is
/// the record checked before) and armed straight into its encoded form in `armed`, and the
/// job's device list is built once, written, then kept as the runtime's.
Result<void> arm_devices(store::Store& store, const SubmitRequest& r, const Job& job,
                         const std::vector<std::string>& accepted, util::UnixTime now, Engine::Runtime& rt,
                         store::DeviceBatch& armed, store::Transition& t, SubmitResult& result) {
  std::string shared = r.shared_string;
  if (job.string_policy == StringPolicy::shared && shared.empty())
    shared = crypto::random_digits(static_cast<std::size_t>(r.string_length));
  armed.reserve(accepted.size(), 192 * accepted.size());
  t.put_job_devices.reserve(accepted.size());
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    auto found = store.get_device(accepted[i]);
    if (!found) return found.error();
    if (!found->has_value()) return make_error(Errc::internal, "device " + accepted[i] + " vanished while claimed");
    Device& d = **found;
    arm(d, job, r, shared, now, result);
    if (auto added = armed.add(d); !added) return added;
    JobDevice jd;
    jd.job = job.id;
    jd.device = d.name;
    jd.deadline = d.completes_by;
    jd.wave = static_cast<int>(i) < job.canary ? 1 : 0;
    jd.dispatch_order = static_cast<std::int64_t>(i) + 1;
    jd.queued_at = now;
    jd.next_attempt_ms = 0;
    rt.index[d.name] = i;
    t.put_job_devices.push_back(std::move(jd));
  }
  return ok();
}

}  // namespace

int default_canary(std::size_t devices) {
  const std::size_t wave = std::clamp<std::size_t>(devices / 100, 5, 50);
  return static_cast<int>(std::min(wave, devices));
}

Result<std::vector<std::pair<std::string, std::string>>> Engine::check_devices(const SubmitRequest& r,
                                                                               std::vector<std::string>& accepted) {
  std::vector<std::pair<std::string, std::string>> refused;
  const Job& job = r.job;
  accepted.reserve(r.devices.size());
  for (const auto& name : r.devices) {
    auto found = store_.get_device(name);
    if (!found) return found.error();
    if (!found->has_value()) {
      refused.emplace_back(name, "no such device in the inventory");
      continue;
    }
    const Device& d = **found;
    const AuthMode mode = job.auth_mode.value_or(d.auth_mode);
    if (auto other = active_job_of_.find(name); other != active_job_of_.end())
      refused.emplace_back(name, "already in unfinished job " + other->second);
    else if (job.operation == CertificateOperation::install_upgrade && mode == AuthMode::existing_cert_lsc &&
             d.lsc_serial.empty() && !has_mic(d))
      refused.emplace_back(name, "By Existing Certificate needs a known LSC or MIC; this device has neither");
    else if (mode == AuthMode::existing_cert_lsc && d.lsc_serial.empty() &&
             job.operation != CertificateOperation::install_upgrade)
      refused.emplace_back(name, "By Existing Certificate (Precedence to LSC): no known LSC on this device");
    else if (mode == AuthMode::existing_cert_mic && !has_mic(d))
      refused.emplace_back(name, "By Existing Certificate (Precedence to MIC): no MIC known for this kind of device");
    else if (auto why = mode == AuthMode::auth_string ? auth_string_refusal(d.security_mode) : std::nullopt)
      refused.emplace_back(name, *why);
    else if (mode == AuthMode::auth_string && r.job.string_policy == StringPolicy::keep && d.auth_string.empty())
      refused.emplace_back(
          name, "By Authentication String: the device has no string (use --string-policy unique|shared|csv)");
    else if (mode == AuthMode::auth_string && r.job.string_policy == StringPolicy::csv && !r.csv_strings.count(name))
      refused.emplace_back(name, "By Authentication String: no Authentication String for it in the CSV");
    else if (config_.issuer == IssuerKind::online_ca && job.operation == CertificateOperation::install_upgrade &&
             job.key_order.value_or(d.key_order) != KeyOrder::rsa_only)
      refused.emplace_back(name, "EC keys cannot be issued by the Online CA (RSA only); use --key-order rsa");
    else
      accepted.push_back(name);
  }
  return refused;
}

Result<std::int64_t> Engine::next_job_number() {
  if (!job_counter_) {
    auto counter = store_.get_meta("job_counter");
    if (!counter) return counter.error();
    job_counter_ = util::parse_int(counter->value_or("0")).value_or(0);
  }
  return ++*job_counter_;
}

Result<SubmitResult> Engine::submit(const SubmitRequest& r) {
  if (auto valid = r.validate(); !valid) return valid.error();
  if (r.devices.empty()) return make_error(Errc::invalid_argument, "the selection matches no device");
  auto schedule = schedule_of(r.job);
  if (!schedule) return schedule.error();

  // The selected devices are armed by a read-modify-write of each: their claims come first,
  // then the engine's mutex, which is let go before the write.
  std::vector<store::DeviceClaim> claims;
  if (!r.dry_run) claims = store_.claims().claim_all(r.devices);
  std::unique_lock lock(mutex_);
  const auto now_ms = clock_.now_ms();
  const util::UnixTime now = now_ms / 1000;
  SubmitResult result;
  std::vector<std::string> accepted;
  auto refused = check_devices(r, accepted);
  if (!refused) return refused.error();
  result.refused = std::move(*refused);
  result.accepted = accepted.size();
  Job job = r.job;
  settle_limits(job, r, *schedule, accepted.size(), now, config_, result);
  if (r.dry_run) return result;
  if (!result.refused.empty() && !r.skip_invalid) return result;  // the caller shows why
  if (accepted.empty()) return result;
  if (!result.capacity_fits && !r.force) return result;

  // The id comes from a counter kept in the store, so ids stay unique across restarts; it is
  // counted in memory so that two submissions never take the same number between their writes.
  auto number = next_job_number();
  if (!number) return number.error();
  job.id = fmt::format("J{:04}", *number);
  job.created_at = now;
  job.created_by = r.actor;
  job.state = job.state == JobState::held ? JobState::held : JobState::active;
  job.devices = accepted.size();
  job.canary_passed = job.canary == 0;

  store::Transition t;
  auto rt = std::make_unique<Runtime>(job, std::move(*schedule), now_ms, config_.tick_ms);
  store::DeviceBatch armed;
  if (auto a = arm_devices(store_, r, job, accepted, now, *rt, armed, t, result); !a) return a.error();
  t.put_jobs.push_back(job);
  t.put_meta.emplace_back("job_counter", std::to_string(*number));
  t.audit.push_back(AuditEntry{now, r.actor, "job.submit", job.id,
                               std::string(to_string(job.operation)) + " on " + std::to_string(accepted.size()) +
                                   " devices (" + job.selection + ")"});
  // The job's devices are held (claimed), and the job is not visible to tick until it is
  // durable, so nothing is dispatched from an arming that could still be lost.
  lock.unlock();
  if (auto w = store_.apply(armed, t, store::Sync::yes); !w) return w.error();
  lock.lock();
  rt->devices = std::move(t.put_job_devices);
  for (const auto& d : rt->devices) active_job_of_[d.device] = job.id;
  jobs_[job.id] = std::move(rt);
  result.job_id = job.id;
  result.submitted = true;
  util::logger("engine")->info("job={} submitted: {} devices, {}", job.id, accepted.size(), job.selection);
  return result;
}

Result<JobView> Engine::control(const std::string& id, const std::string& action, const std::string& actor) {
  // The job's record has one writer at a time; cancel and retry re-arm or disarm devices, so
  // every device of the job is claimed (in name order) before the engine's mutex is taken.
  auto job_claim = job_claims_.claim(id);
  std::vector<store::DeviceClaim> claims;
  if (action == "cancel" || action == "retry") {
    std::vector<std::string> names;
    {
      std::lock_guard lock(mutex_);
      if (auto it = jobs_.find(id); it != jobs_.end())
        for (const auto& d : it->second->devices) names.push_back(d.device);
    }
    if (names.empty())
      (void)store_.for_each_job_device(id, [&](const JobDevice& d) {
        names.push_back(d.device);
        return true;
      });
    claims = store_.claims().claim_all(std::move(names));
  }
  store::Transition t;
  auto view = control_locked(id, action, actor, t);
  if (!view) return view;
  if (auto w = persist(t); !w) return w.error();
  return view;
}

Result<JobView> Engine::control_locked(const std::string& id, const std::string& action, const std::string& actor,
                                       store::Transition& t) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    auto stored = store_.get_job(id);
    if (!stored) return stored.error();
    if (!stored->has_value()) return make_error(Errc::not_found, "no job " + id);
    if (action != "retry")
      return make_error(Errc::invalid_argument, "job " + id + " is " + std::string(to_string((*stored)->state)) +
                                                    "; only retry applies to a finished job");
    // A finished job comes back to life for its failed devices.
    auto schedule = schedule_of(**stored);
    if (!schedule) return schedule.error();
    auto rt = std::make_unique<Runtime>(**stored, std::move(*schedule), clock_.now_ms(), config_.tick_ms);
    auto scan = store_.for_each_job_device(id, [&](const JobDevice& d) {
      rt->devices.push_back(d);
      return true;
    });
    if (!scan) return scan.error();
    std::sort(rt->devices.begin(), rt->devices.end(),
              [](const JobDevice& a, const JobDevice& b) { return a.dispatch_order < b.dispatch_order; });
    for (std::size_t i = 0; i < rt->devices.size(); ++i) rt->index[rt->devices[i].device] = i;
    it = jobs_.emplace(id, std::move(rt)).first;
  }
  Runtime& rt = *it->second;
  Job& job = rt.job;
  const auto now_ms = clock_.now_ms();
  auto refuse = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, "cannot " + action + " job " + id + ": " + why);
  };
  if (action == "hold") {
    if (job.state != JobState::active && job.state != JobState::paused)
      return refuse("it is " + std::string(to_string(job.state)));
    job.state = JobState::held;
    job.state_reason = "held by " + actor;
  } else if (action == "release") {
    if (job.state != JobState::held && job.state != JobState::canary_hold && job.state != JobState::failure_hold)
      return refuse("it is not held");
    if (job.state == JobState::canary_hold) job.canary_passed = true;  // the administrator accepts the canary
    if (job.state == JobState::failure_hold) {
      // The failures so far are accepted; the share is judged again over those that follow.
      std::tie(job.hold_accepted_finished, job.hold_accepted_failed) = finished_and_failed(rt.devices);
    }
    job.state = JobState::active;
    job.state_reason.clear();
  } else if (action == "pause") {
    if (job.state != JobState::active) return refuse("it is " + std::string(to_string(job.state)));
    job.state = JobState::paused;
    job.state_reason = "paused by " + actor + "; devices in flight finish";
  } else if (action == "resume") {
    if (job.state != JobState::paused) return refuse("it is not paused");
    job.state = JobState::active;
    job.state_reason.clear();
  } else if (action == "cancel") {
    if (job.state == JobState::cancelled || job.state == JobState::completed) return refuse("it already ended");
    Event e;
    e.kind = Event::Kind::cancel;
    e.reason = "job cancelled by " + actor;
    for (std::size_t i = 0; i < rt.devices.size(); ++i) apply_step(rt, i, e, now_ms, t);
    job.state = JobState::cancelled;
    job.state_reason = "cancelled by " + actor;
    job.finished_at = now_ms / 1000;
  } else if (action == "retry") {
    Event e;
    e.kind = Event::Kind::retry;
    std::size_t n = 0;
    for (std::size_t i = 0; i < rt.devices.size(); ++i) n += apply_step(rt, i, e, now_ms, t);
    if (n == 0) return refuse("it has no failed devices");
    if (job.state == JobState::completed) job.state = JobState::active;
    job.finished_at = 0;
    job.state_reason = "retrying " + std::to_string(n) + " failed devices";
  } else {
    return make_error(Errc::invalid_argument,
                      "unknown job action \"" + action + "\" (hold, release, pause, resume, cancel, retry)");
  }
  t.put_jobs.push_back(job);
  t.audit.push_back(AuditEntry{now_ms / 1000, actor, "job." + action, id, job.state_reason});
  JobView v = make_view(rt, now_ms);
  if (job.state == JobState::cancelled) jobs_.erase(it);
  return v;
}

}  // namespace capf::engine
