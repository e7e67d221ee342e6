// net/spawn.hpp: the detached coroutine, the pool task and the io_context thread each contain
// what they throw, and the work after it still runs.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "capf/net/spawn.hpp"
#include "capf/util/metrics.hpp"

namespace capf::net {
namespace {

double contained(const std::string& boundary) {
  return util::metrics::Registry::global()
      .counter("capf_contained_exceptions_total", "", {{"boundary", boundary}})
      .value();
}

TEST(Spawn, ACoroutineThatThrowsIsReportedNotDropped) {
  asio::io_context io;
  const double before = contained("session");
  bool after = false;
  spawn(io.get_executor(), []() -> awaitable<void> {
    throw std::runtime_error("a session that throws");
    co_return;
  }, "session", "a test session");
  spawn(io.get_executor(), [&]() -> awaitable<void> {
    after = true;
    co_return;
  }, "session", "the next session");
  run_io(io);
  EXPECT_TRUE(after);
  EXPECT_EQ(contained("session"), before + 1);
}

TEST(Spawn, APoolTaskThatThrowsLeavesThePoolWorking) {
  // Without containment the exception leaves asio's pool thread and the process terminates.
  asio::thread_pool pool(1);
  const double before = contained("task");
  std::atomic<int> ran{0};
  post(pool, "task", "a task that throws", [] { throw std::logic_error("boom"); });
  post(pool, "task", "a task after it", [&] { ++ran; });
  pool.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(contained("task"), before + 1);
}

TEST(Spawn, AHandlerThatThrowsDoesNotEndTheIoThread) {
  asio::io_context io;
  const double before = contained("io");
  int ran = 0;
  asio::post(io, [] { throw std::runtime_error("a plain handler"); });
  asio::post(io, [&] { ++ran; });
  asio::post(io, [] { throw 5; });
  asio::post(io, [&] { ++ran; });
  run_io(io);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(contained("io"), before + 2);
}

}  // namespace
}  // namespace capf::net
