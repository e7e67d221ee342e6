// The Apply Config endpoint's breaker in the engine: which trigger failures are the endpoint's
// (given back to the device) and which are the device's own (charged), the dispatch gate, and
// the breaker's saved state. The rule is in docs/arch/breakers.md.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "capf/engine/engine.hpp"
#include "capf/util/log.hpp"
#include "runtime.hpp"

namespace capf::engine {

namespace {

const util::ModuleLogger log{"engine"};

constexpr Dependency kApply = Dependency::apply_config;

/// Where version `v` of a breaker's saved state is kept. Version 0 is the key of the builds that
/// kept one unversioned state.
std::string meta_key(Dependency d, std::uint64_t v) {
  std::string key = "breaker:" + std::string(key_of(d));
  if (v == 0) return key;
  return key + fmt::format("@{:016x}", v);
}

/// The version in a key meta_key() made, or nullopt for another key under the same prefix.
std::optional<std::uint64_t> version_of(Dependency d, const std::string& key) {
  const std::string base = meta_key(d, 0);
  if (key == base) return 0;
  if (key.size() != base.size() + 17 || key.compare(0, base.size(), base) != 0 || key[base.size()] != '@')
    return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = base.size() + 1; i < key.size(); ++i) {
    const char c = key[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(digit);
  }
  return v;
}

}  // namespace

void Engine::save_breaker(Dependency d, util::UnixTime now, CircuitBreaker::Change change, store::Transition& t) {
  using C = CircuitBreaker::Change;
  const auto status = breakers_->status(d);
  // Decided here under the engine's mutex, written after it: two saves may land in either
  // order. Each goes under a key of its own version and removes its predecessor's, so the
  // highest version stored is always the newest state that reached the disk.
  const std::uint64_t v = ++breaker_version_;
  t.delete_meta.push_back(meta_key(d, v - 1));
  t.put_meta.emplace_back(meta_key(d, v), breakers_->encode(d));
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

Result<void> Engine::restore_breakers(store::Transition& t) {
  if (!apply_endpoint_) return ok();
  // The newest saved state is the highest version; a save that landed after a newer one left
  // its key behind, removed here.
  std::optional<std::pair<std::uint64_t, std::string>> newest;
  auto scan = store_.for_each_meta(meta_key(kApply, 0), [&](const std::string& key, const std::string& value) {
    const auto v = version_of(kApply, key);
    if (!v) return true;
    if (newest) t.delete_meta.push_back(meta_key(kApply, std::min(*v, newest->first)));
    if (!newest || *v > newest->first) newest.emplace(*v, value);
    return true;
  });
  if (!scan) return scan;
  if (!newest) return ok();
  breaker_version_ = newest->first;
  auto status = CircuitBreaker::decode(newest->second);
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
