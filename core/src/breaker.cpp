#include "capf/core/breaker.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "capf/util/backoff.hpp"

namespace capf {

std::string_view to_string(Dependency d) {
  switch (d) {
    case Dependency::apply_config: return "Apply Config endpoint";
    case Dependency::online_ca: return "Online CA";
    case Dependency::smtp: return "SMTP server";
  }
  return "?";
}

std::string_view key_of(Dependency d) {
  switch (d) {
    case Dependency::apply_config: return "apply-config";
    case Dependency::online_ca: return "online-ca";
    case Dependency::smtp: return "smtp";
  }
  return "?";
}

namespace {

/// An error text as it may be shown and logged: one line of at most 160 bytes, control
/// characters replaced (it may quote what a peer answered).
std::string one_line(std::string_view text) {
  std::string out(text.substr(0, 160));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

std::string_view to_string(BreakerStatus::State s) {
  switch (s) {
    case BreakerStatus::State::closed: return "closed";
    case BreakerStatus::State::open: return "open";
    case BreakerStatus::State::probing: return "probing";
  }
  return "?";
}

std::string BreakerStatus::describe() const {
  if (closed()) return {};
  std::string out(to_string(dependency));
  if (!endpoint.empty()) out += " " + endpoint;
  out += " unreachable since " + util::format_iso8601(since);
  if (!last_error.empty()) out += " (" + last_error + ")";
  out += state == State::probing ? ", probing now" : ", next probe at " + util::format_iso8601(next_probe);
  return out;
}

CircuitBreaker::CircuitBreaker(Dependency d, BreakerSettings s) : settings_(s) { state_.dependency = d; }

CircuitBreaker::Gate CircuitBreaker::gate(const std::string& subject, util::UnixTime now) {
  using S = BreakerStatus::State;
  if (state_.state == S::closed) return Gate::pass;
  if (state_.state == S::probing) {
    // A probe that never reported (its caller died with it) must not hold the breaker forever.
    if (now - state_.probe_started < settings_.probe_timeout_s) return Gate::wait;
    ++state_.probes_failed;
    state_.state = S::open;
  }
  if (now < state_.next_probe) return Gate::wait;
  state_.state = S::probing;
  state_.probe_started = now;
  probe_subject_ = subject;
  return Gate::probe;
}

bool CircuitBreaker::blocked(util::UnixTime now) const {
  using S = BreakerStatus::State;
  if (state_.state == S::closed) return false;
  if (state_.state == S::probing) return now - state_.probe_started < settings_.probe_timeout_s;
  return now < state_.next_probe;
}

void CircuitBreaker::open(util::UnixTime now, double jitter, std::int64_t at_least_s) {
  // The project's one backoff, with at least a second between probes: full jitter may draw 0.
  const std::int64_t delay =
      std::max<std::int64_t>({util::backoff_delay(state_.probes_failed + 1, settings_.probe_base_s,
                                                  settings_.probe_ceiling_s, jitter, now),
                              at_least_s, 1});
  state_.state = BreakerStatus::State::open;
  state_.next_probe = now + delay;
  state_.probe_started = 0;
  probe_subject_.clear();
}

CircuitBreaker::Change CircuitBreaker::failure(const std::string& subject, const std::string& error,
                                               util::UnixTime now, double jitter, std::int64_t at_least_s) {
  using S = BreakerStatus::State;
  state_.last_error = one_line(error);
  if (state_.state == S::open) return Change::none;  // a call sent before it opened
  if (state_.state == S::probing) {
    if (subject != probe_subject_) return Change::none;
    ++state_.probes_failed;
    open(now, jitter, at_least_s);
    return Change::probe_failed;
  }
  if (run_++ == 0) run_since_ = now;
  subjects_.insert(subject);
  if (run_ < settings_.threshold || static_cast<int>(subjects_.size()) < settings_.min_subjects) return Change::none;
  state_.since = run_since_;
  state_.probes_failed = 0;
  run_ = 0;
  subjects_.clear();
  open(now, jitter, at_least_s);
  return Change::opened;
}

CircuitBreaker::Change CircuitBreaker::success(util::UnixTime) {
  run_ = 0;
  subjects_.clear();
  if (state_.closed()) return Change::none;
  state_.state = BreakerStatus::State::closed;
  state_.since = state_.next_probe = state_.probe_started = 0;
  state_.probes_failed = 0;
  probe_subject_.clear();
  return Change::closed;
}

void CircuitBreaker::restore(const BreakerStatus& saved) {
  const std::string endpoint = state_.endpoint;
  state_ = saved;
  state_.endpoint = endpoint.empty() ? saved.endpoint : endpoint;  // the configuration of this start wins
  run_ = 0;
  subjects_.clear();
  probe_subject_.clear();
  if (state_.state == BreakerStatus::State::probing) {
    ++state_.probes_failed;
    state_.state = BreakerStatus::State::open;
    state_.probe_started = 0;
  }
}

std::string CircuitBreaker::encode() const {
  nlohmann::json j{{"dependency", key_of(state_.dependency)},
                   {"endpoint", state_.endpoint},
                   {"state", to_string(state_.state)},
                   {"since", state_.since},
                   {"next_probe", state_.next_probe},
                   {"probe_started", state_.probe_started},
                   {"probes_failed", state_.probes_failed},
                   {"last_error", state_.last_error}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<BreakerStatus> CircuitBreaker::decode(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  BreakerStatus s;
  const auto dep = j.value("dependency", "");
  bool known = false;
  for (auto d : {Dependency::apply_config, Dependency::online_ca, Dependency::smtp})
    if (dep == key_of(d)) s.dependency = d, known = true;
  if (!known) return std::nullopt;
  const auto state = j.value("state", "");
  if (state == "open") s.state = BreakerStatus::State::open;
  else if (state == "probing") s.state = BreakerStatus::State::probing;
  else if (state == "closed") s.state = BreakerStatus::State::closed;
  else return std::nullopt;
  try {
    s.endpoint = j.value("endpoint", "");
    s.since = j.value("since", util::UnixTime{0});
    s.next_probe = j.value("next_probe", util::UnixTime{0});
    s.probe_started = j.value("probe_started", util::UnixTime{0});
    s.probes_failed = std::clamp(j.value("probes_failed", 0), 0, 1000);
    s.last_error = j.value("last_error", "");
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of the wrong type
  }
  return s;
}

CircuitBreaker& Breakers::at(Dependency d) {
  auto it = breakers_.find(d);
  if (it == breakers_.end()) it = breakers_.emplace(d, CircuitBreaker(d)).first;
  return it->second;
}

const CircuitBreaker* Breakers::find(Dependency d) const {
  auto it = breakers_.find(d);
  return it == breakers_.end() ? nullptr : &it->second;
}

void Breakers::configure(Dependency d, const BreakerSettings& s, const std::string& endpoint) {
  std::lock_guard lock(mutex_);
  auto& b = at(d);
  if (b.status().endpoint != endpoint) b = CircuitBreaker(d, s);
  b.set_settings(s);
  b.set_endpoint(endpoint);
}

CircuitBreaker::Gate Breakers::gate(Dependency d, const std::string& subject, util::UnixTime now) {
  std::lock_guard lock(mutex_);
  return at(d).gate(subject, now);
}

bool Breakers::blocked(Dependency d, util::UnixTime now) const {
  std::lock_guard lock(mutex_);
  const auto* b = find(d);
  return b && b->blocked(now);
}

bool Breakers::suspecting(Dependency d) const {
  std::lock_guard lock(mutex_);
  const auto* b = find(d);
  return b && b->suspecting();
}

CircuitBreaker::Change Breakers::failure(Dependency d, const std::string& subject, const std::string& error,
                                         util::UnixTime now, double jitter, std::int64_t at_least_s) {
  std::lock_guard lock(mutex_);
  return at(d).failure(subject, error, now, jitter, at_least_s);
}

CircuitBreaker::Change Breakers::success(Dependency d, util::UnixTime now) {
  std::lock_guard lock(mutex_);
  return at(d).success(now);
}

BreakerStatus Breakers::status(Dependency d) const {
  std::lock_guard lock(mutex_);
  if (const auto* b = find(d)) return b->status();
  BreakerStatus s;
  s.dependency = d;
  return s;
}

std::vector<BreakerStatus> Breakers::all() const {
  std::lock_guard lock(mutex_);
  std::vector<BreakerStatus> out;
  for (const auto& [d, b] : breakers_) out.push_back(b.status());
  return out;
}

std::string Breakers::encode(Dependency d) const {
  std::lock_guard lock(mutex_);
  const auto* b = find(d);
  return b ? b->encode() : CircuitBreaker(d).encode();
}

void Breakers::restore(Dependency d, const BreakerStatus& saved) {
  std::lock_guard lock(mutex_);
  at(d).restore(saved);
}

}  // namespace capf
