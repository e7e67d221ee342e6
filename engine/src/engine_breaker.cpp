// The Apply Config endpoint's breaker in the engine: which trigger failures are the endpoint's
// (given back to the device) and which are the device's own (charged), the dispatch gate, and
// the breaker's saved state. The rule is in docs/arch/breakers.md.
#include <algorithm>

#include "capf/engine/engine.hpp"
#include "capf/util/log.hpp"
#include "runtime.hpp"

namespace capf::engine {

namespace {

auto log() {
  static auto l = util::logger("engine");
  return l;
}

constexpr Dependency kApply = Dependency::apply_config;

std::string meta_key(Dependency d) { return "breaker:" + std::string(key_of(d)); }

}  // namespace

void Engine::save_breaker(Dependency d, util::UnixTime now, CircuitBreaker::Change change, store::Transition& t) {
  using C = CircuitBreaker::Change;
  const auto status = breakers_->status(d);
  t.put_meta.emplace_back(meta_key(d), breakers_->encode(d));
  if (change == C::opened) {
    log()->warn("{}: dispatch that needs it waits", status.describe());
    t.audit.push_back(AuditEntry{now, "engine", "dependency.down", std::string(key_of(d)), status.describe()});
  } else if (change == C::closed) {
    log()->info("{} answers again: dispatch resumes", to_string(d));
    t.audit.push_back(AuditEntry{now, "engine", "dependency.up", std::string(key_of(d)),
                                 std::string(to_string(d)) + " " + status.endpoint + " answers again"});
  } else if (change == C::probe_failed) {
    log()->info("probe failed: {}", status.describe());
  }
}

Result<void> Engine::restore_breakers() {
  if (!apply_endpoint_) return ok();
  auto saved = store_.get_meta(meta_key(kApply));
  if (!saved) return saved.error();
  if (!saved->has_value()) return ok();
  auto status = CircuitBreaker::decode(**saved);
  // Another endpoint since the last start (the administrator changed it): nothing is known of it.
  if (!status || status->endpoint != *apply_endpoint_) return ok();
  breakers_->restore(kApply, *status);
  if (!status->closed())
    log()->warn("{} (as before the restart): the first dispatch is a probe", breakers_->status(kApply).describe());
  return ok();
}

CircuitBreaker::Gate Engine::dispatch_gate(const std::string& device, std::int64_t now_ms, store::Transition& t) {
  if (!apply_endpoint_) return CircuitBreaker::Gate::pass;
  const auto gate = breakers_->gate(kApply, device, now_ms / 1000);
  if (gate == CircuitBreaker::Gate::probe) {
    log()->info("probing the Apply Config endpoint {} with device {}", *apply_endpoint_, device);
    save_breaker(kApply, now_ms / 1000, CircuitBreaker::Change::none, t);
  }
  return gate;
}

bool Engine::note_apply_failure(const std::string& job, const std::string& device, const TriggerResult& r,
                                std::int64_t now_ms, store::Transition& t) {
  if (!apply_endpoint_ || !is_shared_failure(r)) return false;
  const util::UnixTime now = now_ms / 1000;
  const bool was_down = !breakers_->status(kApply).closed();
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto change = breakers_->failure(kApply, device, r.detail, now, u(rng_), r.retry_after_s.value_or(0));
  if (change != CircuitBreaker::Change::none) save_breaker(kApply, now, change, t);
  if (change == CircuitBreaker::Change::opened) suspects_.clear();  // their failures were the outage's
  if (was_down || change == CircuitBreaker::Change::opened) return true;
  // The same device failing again with no other device failing in between says nothing about the
  // endpoint: it is charged, so one unreachable phone behind a shared endpoint still runs out.
  const bool again = std::any_of(suspects_.begin(), suspects_.end(), [&](const auto& s) { return s.second == device; });
  if (again) return false;
  suspects_.emplace_back(job, device);
  return true;
}

void Engine::note_apply_answer(const std::string& device, std::int64_t now_ms, store::Transition& t,
                               TickClaims& others) {
  if (!apply_endpoint_) return;
  const auto change = breakers_->success(kApply, now_ms / 1000);
  if (change != CircuitBreaker::Change::none) save_breaker(kApply, now_ms / 1000, change, t);
  // The endpoint works for this device: the failures given back meanwhile were the others' own.
  auto suspects = std::move(suspects_);
  suspects_.clear();
  for (const auto& [job, name] : suspects) {
    if (name == device) continue;
    auto it = jobs_.find(job);
    if (it == jobs_.end()) continue;
    auto pos = it->second->index.find(name);
    if (pos == it->second->index.end()) continue;
    // Its record is written by whoever holds its claim now: charged at the next answer instead.
    if (!others.own(name)) {
      suspects_.emplace_back(job, name);
      continue;
    }
    Event e;
    e.kind = Event::Kind::charge;
    apply_step(*it->second, pos->second, e, now_ms, t);
  }
}

std::optional<BreakerStatus> Engine::waiting_for(const Runtime& rt) const {
  if (!apply_endpoint_ || rt.job.state != JobState::active) return std::nullopt;
  auto status = breakers_->status(kApply);
  if (status.closed()) return std::nullopt;
  return status;
}

}  // namespace capf::engine
