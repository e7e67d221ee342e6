// Reading and writing whole CAPF messages on a TLS stream, shared by the daemon's sessions
// and the phone simulator. A read takes exactly 8 header bytes, then exactly the body; a
// write is one buffer, so one TLS record, as real phones expect.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "capf/net/asio.hpp"
#include "capf/protocol/wire.hpp"

namespace capf::net {

/// Thrown when a peer sends bytes that do not decode; the message names the problem.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads one message. Throws boost::system::system_error on I/O errors and ProtocolError on
/// a malformed message.
awaitable<protocol::Message> read_message(TlsStream& stream, const protocol::Limits& limits = {});

/// Writes one message with a single write.
awaitable<void> write_message(TlsStream& stream, const protocol::Message& m);

/// A per-connection watchdog: arm() with a deadline before each step; when a deadline passes
/// the socket is closed, so the pending operation fails and the session ends. `what` names
/// the step for the log.
class Watchdog {
 public:
  explicit Watchdog(TlsStream& stream);
  /// Starts watching on the stream's executor until stop(); `owner` keeps the object that
  /// holds this watchdog alive while the watch coroutine may still run.
  void start(std::shared_ptr<void> owner);
  /// Sets the deadline of the current step.
  void arm(std::chrono::steady_clock::duration timeout, std::string what);
  /// Stops watching (session end).
  void stop();
  /// True once the watchdog has closed the socket.
  bool fired() const { return fired_; }
  /// The step that was running when it fired.
  const std::string& step() const { return step_; }

 private:
  awaitable<void> loop(std::shared_ptr<void> owner);
  TlsStream& stream_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  std::string step_;
  bool fired_ = false;
  bool stopped_ = false;
};

/// Calls `start(done)` and waits, without blocking the thread, until `done(error)` is called
/// (from any thread, once; an empty `error` means success); resumes the caller on its own
/// executor with `error`. The caller's executor keeps work while it waits.
template <class Start>
awaitable<std::string> wait_for_callback(Start start) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::string)>(
      [&start](auto handler) {
        auto ex = asio::get_associated_executor(handler);
        struct Pending {
          decltype(handler) resume;
          asio::executor_work_guard<decltype(ex)> work;
        };
        auto p = std::make_shared<Pending>(Pending{std::move(handler), asio::make_work_guard(ex)});
        start([p](std::string error) {
          auto target = p->work.get_executor();
          asio::post(target, [p, error = std::move(error)]() mutable {
            auto work = std::move(p->work);
            std::move(p->resume)(std::move(error));
          });
        });
      },
      asio::use_awaitable);
}

/// Runs `fn` on `pool` (blocking work: key generation, signing, synced writes) and resumes
/// the caller on its own executor with the result. Exceptions propagate.
template <class Executor, class F>
auto run_blocking(Executor pool, F fn) -> awaitable<decltype(fn())> {
  using R = decltype(fn());
  if constexpr (std::is_void_v<R>) {
    co_await asio::co_spawn(
        pool,
        [fn = std::move(fn)]() mutable -> awaitable<void> {
          fn();
          co_return;
        },
        asio::use_awaitable);
  } else {
    // co_spawn needs a default-constructible result; Result<T> is not, so carry it in an optional.
    auto out = co_await asio::co_spawn(
        pool, [fn = std::move(fn)]() mutable -> awaitable<std::optional<R>> { co_return std::optional<R>(fn()); },
        asio::use_awaitable);
    co_return std::move(*out);
  }
}

}  // namespace capf::net
