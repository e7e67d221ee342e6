// The engine's scheduling loop: one round every period on a thread of its own, until stopped.
// The daemon only wires it (which engine, which period, what else runs in the same round).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "capf/engine/engine.hpp"

namespace capf::engine {

class SchedulingLoop {
 public:
  /// Work run after the engine's tick in the same round (e.g. the renewal policies); an
  /// exception it throws is logged and the loop goes on.
  using Round = std::function<void()>;

  /// Nothing runs until start().
  SchedulingLoop(Engine& engine, std::chrono::milliseconds period, Round also = {});
  /// Stops the loop (see stop()).
  ~SchedulingLoop();
  SchedulingLoop(const SchedulingLoop&) = delete;
  SchedulingLoop& operator=(const SchedulingLoop&) = delete;

  /// Starts the thread; its first round runs at once. Calling it twice does nothing.
  void start();
  /// Wakes the thread and waits for the round under way to end; no round starts afterwards.
  void stop();

 private:
  void run();
  /// One round; no exception leaves it.
  void round() noexcept;

  Engine& engine_;
  const std::chrono::milliseconds period_;
  Round also_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace capf::engine
