// Drives CSRs through the Online CA outside CAPF sessions: retries after transient errors (with
// backoff) and polls requests the CA holds for approval. A session tries the CA once itself;
// whatever is left waiting is this worker's.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "capf/net/asio.hpp"
#include "capf/server/online_ca_coordinator.hpp"
#include "capf/util/time.hpp"

namespace capf::server {

class OnlineCaWorker {
 public:
  /// `parallel` requests to the CA at most at once.
  OnlineCaWorker(OnlineCaCoordinator& online, const util::Clock& clock, unsigned parallel = 4);
  ~OnlineCaWorker();
  /// Settles CSRs a crash left in flight, then runs until stop().
  void start();
  void stop();
  /// Runs one round now: every due CSR goes to the CA (used by start()'s loop and by tests).
  void round(bool at_start = false);

 private:
  OnlineCaCoordinator& online_;
  const util::Clock& clock_;
  net::asio::thread_pool pool_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> in_flight_;
  bool stop_ = false;
  std::thread loop_;
};

}  // namespace capf::server
