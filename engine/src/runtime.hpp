// Private to engine/src: a job's in-memory state beside its stored records.
#pragma once

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "capf/engine/engine.hpp"

namespace capf::engine {

struct Engine::Runtime {
  Job job;
  Schedule schedule;
  RateLimiter rate;
  std::vector<JobDevice> devices;                    ///< in dispatch order
  std::unordered_map<std::string, std::size_t> index;  ///< device name → position
  std::deque<std::int64_t> recent_dispatches;        ///< ms of the last minute's dispatches
  std::int64_t first_dispatch_ms = 0;                ///< first dispatch since the job was loaded, 0 = none yet
  std::size_t first_open = 0;                        ///< no queued device before this position

  std::string burst_note;                            ///< tick_burst's note on the bucket's burst

  /// The job's bucket gets tick_burst's burst for the engine's tick.
  Runtime(Job j, Schedule s, std::int64_t now_ms, std::int64_t tick_ms)
      : job(std::move(j)), schedule(std::move(s)), rate(job.rate_per_minute, 1, now_ms) {
    auto b = tick_burst(job.rate_per_minute, job.burst, tick_ms, "--burst");
    rate = RateLimiter(job.rate_per_minute, b.burst, now_ms);
    burst_note = std::move(b.note);
  }

  /// Devices dispatched and not yet final.
  std::size_t in_flight() const {
    std::size_t n = 0;
    for (const auto& d : devices) n += d.state == JobDeviceState::triggered || d.state == JobDeviceState::in_session;
    return n;
  }
};

/// The devices one scheduling round changes: each is claimed (without waiting: a device whose
/// claim another writer holds is left for the next round) and kept until the round's write is
/// durable, so a session's write of the same device lands before or after it, never under it.
struct Engine::TickClaims {
  store::ClaimTable& table;
  std::vector<store::DeviceClaim> held;
  std::unordered_set<std::string> names;

  bool own(const std::string& device) {
    if (names.count(device)) return true;
    auto c = table.try_claim(device);
    if (!c.held()) return false;
    names.insert(device);
    held.push_back(std::move(c));
    return true;
  }
};

/// Finished devices (cancelled ones aside) and how many of them failed or expired.
std::pair<std::size_t, std::size_t> finished_and_failed(const std::vector<JobDevice>& devices);

/// Builds the Schedule of a job from its window and blackout texts.
Result<Schedule> schedule_of(const Job& job);

}  // namespace capf::engine
