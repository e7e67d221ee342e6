#include "capf/engine/loop.hpp"

#include <algorithm>

#include "capf/util/contain.hpp"

namespace capf::engine {

SchedulingLoop::SchedulingLoop(Engine& engine, std::chrono::milliseconds period, Round also)
    : engine_(engine), period_(std::max(period, std::chrono::milliseconds(1))), also_(std::move(also)) {}

SchedulingLoop::~SchedulingLoop() { stop(); }

void SchedulingLoop::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { run(); });
}

void SchedulingLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void SchedulingLoop::run() {
  // Fixed deadlines, not "sleep after each round": a slow round must not stretch the period,
  // or the rate limiter would lose the lateness of every token.
  std::unique_lock lock(mutex_);
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    lock.unlock();
    round();
    lock.lock();
    next += period_;
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // after a long stall, do not try to catch up in a burst
    wake_.wait_until(lock, next, [&] { return stop_; });
  }
}

void SchedulingLoop::round() noexcept {
  // The thread must outlive one bad round: a throw here would end the daemon. The engine's round
  // and the one run alongside are contained apart, so one that throws does not skip the other.
  util::contain("engine", "the job engine's round", [&] {
    util::fault_point_for_test("engine");
    engine_.tick();
  });
  if (also_) util::contain("engine", "the round run alongside the engine's", [&] { also_(); });
}

}  // namespace capf::engine
