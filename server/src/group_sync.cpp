#include "group_sync.hpp"

#include <stdexcept>
#include <utility>

#include "capf/util/contain.hpp"

namespace capf::server {

net::awaitable<void> GroupSync::wait(net::asio::any_io_executor ex) {
  const std::string error = co_await net::wait_for_callback([&](auto done) {
    bool post = false;
    {
      std::lock_guard lock(mutex_);
      waiting_.push_back(std::move(done));
      post = !std::exchange(posted_, true);
    }
    if (post) net::asio::post(ex, [this] { flush(); });
  });
  if (!error.empty()) throw std::runtime_error("a write was not confirmed on disk: " + error);
}

void GroupSync::flush() noexcept {
  std::vector<std::function<void(std::string)>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(waiting_);
    posted_ = false;
  }
  std::string error = "syncing the store failed";
  util::contain("io", "syncing the store for the sessions waiting", [&] {
    auto r = service_.sync_wal();
    error = r ? std::string() : r.error().message;
  });
  for (auto& done : batch) done(error);
}

}  // namespace capf::server
