#include "capf/server/ca_worker.hpp"

#include "capf/net/spawn.hpp"
#include "capf/util/contain.hpp"
#include "capf/util/log.hpp"

namespace capf::server {

namespace {
const util::ModuleLogger log{"capf"};
}  // namespace

OnlineCaWorker::OnlineCaWorker(OnlineCaCoordinator& online, const util::Clock& clock, unsigned parallel)
    : online_(online), clock_(clock), pool_(parallel == 0 ? 1 : parallel) {}

OnlineCaWorker::~OnlineCaWorker() {
  stop();
  pool_.join();
}

void OnlineCaWorker::start() {
  loop_ = std::thread([this] {
    bool first = true;
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      util::contain("ca-worker", "an online CA round", [&] { round(first); });
      first = false;
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
    }
  });
}

void OnlineCaWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

void OnlineCaWorker::round(bool at_start) {
  // Online CSRs are followed up even after the issuer changed: the CA already has them.
  const auto now = clock_.now();
  for (const auto& csr : online_.due(at_start)) {
    if (csr.next_try_at > now) continue;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      if (!in_flight_.insert(csr.id).second) continue;
    }
    net::post(pool_, "ca-worker", "online CA work for device " + csr.device, [this, id = csr.id, device = csr.device] {
      // Taken off the in-flight set however the work ends, or the CSR would never be tried again.
      struct Done {
        OnlineCaWorker& self;
        const std::string& id;
        ~Done() {
          std::lock_guard lock(self.mutex_);
          self.in_flight_.erase(id);
        }
      } done{*this, id};
      util::fault_point_for_test("ca-worker", device);
      auto step = online_.work(id);
      log()->info("online CA: device={} csr={} {}", device, id.substr(0, 12),
                  step.certificate ? "issued" : (step.waiting ? "waiting: " + step.reason : "ended: " + step.reason));
    });
  }
}

}  // namespace capf::server
