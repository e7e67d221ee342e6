// The rate limiter and windows: engine::RateLimiter and engine::Engine driven by a
// util::ManualClock and an Apply Config that only records when it was called.
#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "capf/bench/bench.hpp"
#include "capf/engine/engine.hpp"

namespace capf::bench {

namespace {

constexpr util::UnixTime kStart = 1'800'000'000;  // 2027-01-15T08:00:00Z, a Friday

/// Apply Config that succeeds at once and records the clock at each call.
class RecordingRunner final : public engine::TriggerRunner {
 public:
  explicit RecordingRunner(const util::Clock& c) : clock_(c) {}
  void trigger(const std::string&, const Device&, std::function<void(engine::TriggerResult)> done) override {
    calls.push_back(clock_.now_ms());
    done(engine::TriggerResult{});
  }
  std::vector<std::int64_t> calls;  ///< ms of each dispatch

 private:
  const util::Clock& clock_;
};

/// A store in `dir` with `n` phones; returns their names.
std::vector<std::string> add_devices(store::Store& store, std::size_t n) {
  store::Transition t;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    Device d;
    d.name = fmt::format("SEP0000{:08X}", i);
    d.device_pool = "DP-HQ";
    d.security_profile = "Cisco 8841 - Standard SIP Non-Secure Profile";
    names.push_back(d.name);
    t.put_devices.push_back(std::move(d));
  }
  if (!store.apply(t, store::Sync::no)) throw std::runtime_error("rate: cannot add devices");
  return names;
}

RateLine line(const std::string& what, double set, const std::vector<std::int64_t>& at_ms) {
  RateLine l{what, set, at_ms.size(), 0, 0};
  if (at_ms.size() >= 2) {
    const double minutes = static_cast<double>(at_ms.back() - at_ms.front()) / 60000.0;
    l.measured_per_minute = minutes > 0 ? static_cast<double>(at_ms.size() - 1) / minutes : 0;
    l.deviation_pct = (l.measured_per_minute - set) / set * 100.0;
  }
  return l;
}

/// The bare token bucket, polled every `step_ms`.
RateLine limiter_rate(double per_minute, std::size_t dispatches, std::int64_t step_ms) {
  util::ManualClock clock(kStart);
  engine::RateLimiter limiter(per_minute, 1, clock.now_ms());
  std::vector<std::int64_t> at;
  while (at.size() < dispatches) {
    if (limiter.try_acquire(clock.now_ms())) at.push_back(clock.now_ms());
    clock.advance_ms(step_ms);
  }
  return line("RateLimiter, poll " + std::to_string(step_ms) + " ms", per_minute, at);
}

/// Runs one job through the Engine; `check` sees each dispatch time (ms).
struct EngineRun {
  TempDir dir;
  std::unique_ptr<store::Store> store;
  util::ManualClock clock{kStart};
  RecordingRunner runner{clock};
  std::unique_ptr<engine::Engine> engine;
  std::vector<std::string> names;

  EngineRun(std::size_t devices, const Job& job) {
    auto s = store::Store::open(dir.path() + "/store");
    if (!s) throw std::runtime_error("rate: " + s.error().message);
    store = std::move(*s);
    names = add_devices(*store, devices);
    engine::EngineConfig c;
    c.retry.session_wait_s = 30 * 86400;  // phones never come: only first dispatches count
    engine = std::make_unique<engine::Engine>(*store, clock, runner, c);
    if (!engine->recover()) throw std::runtime_error("rate: engine recovery failed");
    engine::SubmitRequest r;
    r.job = job;
    r.devices = names;
    auto res = engine->submit(r);
    if (!res || !res->submitted)
      throw std::runtime_error("rate: job not submitted: " + (res ? res->capacity : res.error().message));
  }
  ~EngineRun() {
    engine.reset();
    store.reset();
  }
};

Job install_job(double per_minute) {
  Job j;
  j.operation = CertificateOperation::install_upgrade;
  j.auth_mode = AuthMode::null_string;
  j.rate_per_minute = per_minute;
  j.burst = 1;
  return j;
}

RateLine engine_rate(double per_minute, std::size_t dispatches, std::int64_t step_ms) {
  EngineRun run(dispatches, install_job(per_minute));
  const std::int64_t limit = static_cast<std::int64_t>(dispatches * 60000.0 / per_minute * 2 / step_ms) + 100;
  for (std::int64_t i = 0; i < limit && run.runner.calls.size() < dispatches; ++i) {
    run.engine->tick();
    run.clock.advance_ms(step_ms);
  }
  return line("Engine, tick " + std::to_string(step_ms) + " ms", per_minute, run.runner.calls);
}

}  // namespace

RateResult bench_rate(std::size_t dispatches, std::size_t window_devices) {
  RateResult r;
  dispatches = std::max<std::size_t>(2, dispatches);
  // 100 ms is the daemon's default --tick-ms; 103 ms models a loop that drifts 3 ms a tick
  // (a token that comes between two ticks is taken late, and with burst 1 the lateness is lost).
  for (double rate : {300.0, 60.0}) {
    r.lines.push_back(limiter_rate(rate, dispatches, 100));
    r.lines.push_back(engine_rate(rate, dispatches, 100));
    r.lines.push_back(engine_rate(rate, dispatches, 103));
  }

  // A windowed job over 7 simulated days: daily 1 h in Berlin, weekday 20 min in New York,
  // a Sunday blackout at the start of the Berlin window; 5/min; 5 s ticks.
  Job j = install_job(5);
  j.windows = {"0 1 * * * 1h Europe/Berlin", "30 12 * * 1-5 20m America/New_York"};
  j.blackouts = {"0 1 * * 0 30m Europe/Berlin"};
  r.windows = j.windows[0] + "; " + j.windows[1] + "; blackout " + j.blackouts[0];
  std::vector<engine::Window> windows;
  for (const auto& w : j.windows) windows.push_back(engine::Window::parse(w).value());
  auto schedule = engine::Schedule::make(windows, {engine::Window::parse(j.blackouts[0]).value()}, {}).value();
  r.open_minutes = static_cast<double>(schedule.open_seconds(kStart, kStart + 7 * 86400)) / 60.0;
  r.window_rate = j.rate_per_minute;
  EngineRun run(window_devices, j);
  for (int i = 0; i < 7 * 24 * 720; ++i) {
    run.engine->tick();
    run.clock.advance(5);
  }
  r.window_dispatches = run.runner.calls.size();
  for (auto at : run.runner.calls)
    if (!schedule.is_open(at / 1000)) ++r.outside_window;
  return r;
}

}  // namespace capf::bench
