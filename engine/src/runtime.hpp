// Private to engine/src: a job's in-memory state beside its stored records.
#pragma once

#include <deque>
#include <unordered_map>

#include "capf/engine/engine.hpp"

namespace capf::engine {

struct Engine::Runtime {
  Job job;
  Schedule schedule;
  RateLimiter rate;
  std::vector<JobDevice> devices;                    ///< in dispatch order
  std::unordered_map<std::string, std::size_t> index;  ///< device name → position
  std::deque<std::int64_t> recent_dispatches;        ///< ms of the last minute's dispatches
  std::size_t first_open = 0;                        ///< no queued device before this position

  Runtime(Job j, Schedule s, std::int64_t now_ms)
      : job(std::move(j)), schedule(std::move(s)), rate(job.rate_per_minute, std::max(1.0, job.burst), now_ms) {}

  /// Devices dispatched and not yet final.
  std::size_t in_flight() const {
    std::size_t n = 0;
    for (const auto& d : devices) n += d.state == JobDeviceState::triggered || d.state == JobDeviceState::in_session;
    return n;
  }
};

/// Builds the Schedule of a job from its window and blackout texts.
Result<Schedule> schedule_of(const Job& job);

}  // namespace capf::engine
