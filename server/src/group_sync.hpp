// Private to server/src: the group commit of the sessions' `Sync::later` writes. A session that
// must not act before its write is on disk waits here; the first to wait in a turn of its I/O
// loop posts one sync behind the handlers already queued, and that one fdatasync answers every
// session that waited meanwhile. No other thread, no hand-off: the I/O thread syncs, as a
// single-threaded server does at the end of its loop turn.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "capf/net/message_io.hpp"
#include "capf/server/enrollment.hpp"

namespace capf::server {

class GroupSync {
 public:
  explicit GroupSync(EnrollmentService& service) : service_(service) {}

  /// Resumes once every write the service made before the call is on disk, the sync running on
  /// `ex` (the caller's I/O executor); throws std::runtime_error with the store's reason when the
  /// sync failed.
  net::awaitable<void> wait(net::asio::any_io_executor ex);

 private:
  void flush() noexcept;

  EnrollmentService& service_;
  std::mutex mutex_;  ///< guards waiting_ and posted_ (several I/O threads may wait at once)
  std::vector<std::function<void(std::string)>> waiting_;
  bool posted_ = false;
};

}  // namespace capf::server
