// Read-only views of jobs for status, watch and reports; and the thread-pool trigger runner.
#include <algorithm>

#include "capf/engine/engine.hpp"
#include "capf/net/asio.hpp"
#include "capf/net/spawn.hpp"
#include "capf/util/contain.hpp"
#include "runtime.hpp"

namespace capf::engine {

JobView Engine::make_view(const Runtime& rt, std::int64_t now_ms) const {
  JobView v;
  v.job = rt.job;
  std::size_t remaining = 0;
  for (const auto& d : rt.devices) {
    ++v.counts[d.state];
    if (d.state == JobDeviceState::queued) ++remaining;
  }
  v.in_flight = rt.in_flight();
  v.burst = rt.rate.burst();
  v.burst_note = rt.burst_note;
  const std::int64_t window_start = now_ms - 60'000;
  std::size_t recent = 0;
  for (auto t : rt.recent_dispatches) recent += t >= window_start;
  v.dispatched_last_minute = recent;
  if (rt.first_dispatch_ms > 0)
    v.rate_window_s = static_cast<int>(std::clamp<std::int64_t>((now_ms - rt.first_dispatch_ms) / 1000, 0, 60));
  if (v.rate_window_s >= 60) v.rate_per_minute = static_cast<double>(recent);
  const util::UnixTime now = now_ms / 1000;
  if (rt.schedule.always_open()) {
    v.schedule_note = "no maintenance window: dispatching whenever the job is active";
  } else if (auto open = rt.schedule.next_open(now)) {
    v.schedule_note = open->start <= now ? "window open until " + util::format_iso8601(open->end)
                                         : "next window opens " + util::format_iso8601(open->start);
  } else {
    v.schedule_note = "no window opens within 400 days";
  }
  if (now < rt.job.start_at) v.schedule_note += "; starts at " + util::format_iso8601(rt.job.start_at);
  if (v.counts[JobDeviceState::queued] > 0) v.waiting = waiting_for(rt);
  // Phones whose CSRs wait for an Online CA that is down wait with it.
  if (!v.waiting && v.counts[JobDeviceState::pending_ca] > 0 && rt.job.state == JobState::active) {
    if (auto ca = breakers_->status(Dependency::online_ca); !ca.closed()) v.waiting = std::move(ca);
  }
  // Without a set rate the ETA extrapolates what was measured, over less than a minute if need be.
  double measured = v.rate_per_minute.value_or(0);
  if (!v.rate_per_minute && v.rate_window_s >= 5) measured = 60.0 * static_cast<double>(recent) / v.rate_window_s;
  const double rate = rt.job.rate_per_minute > 0 ? rt.job.rate_per_minute : measured;
  if (remaining == 0) {
    v.eta = now;
  } else if (rate > 0) {
    v.eta = rt.schedule.finish_time(remaining, rate, std::max(now, rt.job.start_at));
  }
  return v;
}

std::vector<JobView> Engine::list() const {
  std::lock_guard lock(mutex_);
  const auto now_ms = clock_.now_ms();
  std::vector<JobView> out;
  std::map<std::string, bool> live;
  for (const auto& [id, rt] : jobs_) live[id] = true;
  (void)store_.for_each_job([&](const Job& j) {
    if (auto it = jobs_.find(j.id); it != jobs_.end()) {
      out.push_back(make_view(*it->second, now_ms));
    } else {
      JobView v;
      v.job = j;
      (void)store_.for_each_job_device(j.id, [&](const JobDevice& d) {
        ++v.counts[d.state];
        return true;
      });
      out.push_back(std::move(v));
    }
    return true;
  });
  return out;
}

Result<JobView> Engine::view(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) return make_view(*it->second, clock_.now_ms());
  auto stored = store_.get_job(id);
  if (!stored) return stored.error();
  if (!stored->has_value()) return make_error(Errc::not_found, "no job " + id);
  JobView v;
  v.job = **stored;
  auto scan = store_.for_each_job_device(id, [&](const JobDevice& d) {
    ++v.counts[d.state];
    return true;
  });
  if (!scan) return scan.error();
  return v;
}

Result<std::vector<JobDevice>> Engine::devices(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) return it->second->devices;
  std::vector<JobDevice> out;
  auto stored = store_.get_job(id);
  if (!stored) return stored.error();
  if (!stored->has_value()) return make_error(Errc::not_found, "no job " + id);
  auto scan = store_.for_each_job_device(id, [&](const JobDevice& d) {
    out.push_back(d);
    return true;
  });
  if (!scan) return scan.error();
  std::sort(out.begin(), out.end(), [](const JobDevice& a, const JobDevice& b) { return a.dispatch_order < b.dispatch_order; });
  return out;
}

struct PoolTriggerRunner::Impl {
  TriggerConfig config;
  net::asio::thread_pool pool;
  Impl(TriggerConfig c, unsigned threads) : config(std::move(c)), pool(std::max(1u, threads)) {}
};

PoolTriggerRunner::PoolTriggerRunner(TriggerConfig config, unsigned threads)
    : impl_(std::make_unique<Impl>(std::move(config), threads)) {}

PoolTriggerRunner::~PoolTriggerRunner() { join(); }

void PoolTriggerRunner::trigger(const std::string& job, const Device& device, std::function<void(TriggerResult)> done) {
  net::post(impl_->pool, "trigger", "Apply Config for device " + device.name, [this, job, device, done = std::move(done)] {
    // A trigger that throws is a failed attempt like any other, so the device is retried or
    // failed by the job's rules instead of staying `triggered` until its wait runs out.
    TriggerResult result;
    try {
      util::fault_point_for_test("trigger", device.name);
      result = run_trigger(impl_->config, device, job);
    } catch (...) {
      util::report_contained("trigger", "Apply Config for device " + device.name, std::current_exception());
      result = {TriggerOutcome::transient, "Apply Config failed inside capf: " + util::describe(std::current_exception()),
                std::nullopt};
    }
    done(std::move(result));
  });
}

std::optional<std::string> PoolTriggerRunner::shared_endpoint() const { return engine::shared_endpoint(impl_->config); }

void PoolTriggerRunner::join() { impl_->pool.join(); }

}  // namespace capf::engine
