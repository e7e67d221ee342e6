// The daemon's three ways to start work that nobody waits for — a detached coroutine, a task
// on a thread pool, and the io_context's own threads — each with containment (util/contain.hpp):
// whatever such work throws ends that work only, with a log line and a count. Asio's `detached`
// would drop the exception silently (and with it the cleanup the coroutine still owed), and an
// exception leaving a pool task or io_context::run() would terminate the process.
#pragma once

#include <exception>
#include <string>

#include "capf/net/asio.hpp"
#include "capf/util/contain.hpp"

namespace capf::net {

/// Starts `a` on `ex` (an awaitable<void>, or a function returning one, as asio::co_spawn takes
/// them): a connection, an accept loop. An exception that escapes it is reported at `boundary`
/// (a string literal: "session", "admin", "web", …) as `what`.
template <class Executor, class A>
void spawn(Executor ex, A&& a, const char* boundary, std::string what) {
  asio::co_spawn(ex, std::forward<A>(a), [boundary, what = std::move(what)](std::exception_ptr e) {
    if (e) util::report_contained(boundary, what, e);
  });
}

/// Posts `fn` to `pool`; an exception it throws is reported at `boundary` as `what`.
template <class Pool, class F>
void post(Pool& pool, const char* boundary, std::string what, F fn) {
  asio::post(pool, [boundary, what = std::move(what), fn = std::move(fn)]() mutable {
    util::contain(boundary, what, fn);
  });
}

/// Runs `io` on this thread until it is stopped or out of work. A handler that throws is
/// reported at the "io" boundary and the loop goes on (asio lets run() resume after a throw).
void run_io(asio::io_context& io);

}  // namespace capf::net
