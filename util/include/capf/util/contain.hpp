// Containment: an exception must never cross a thread-pool task, a coroutine or a handler and
// end the daemon. Every such boundary runs its work through `contain` (or net/spawn.hpp, which
// builds on it), so what escapes ends only that one piece of work, with a log line and a count.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace capf::util {

/// The text of an exception: what() for std::exception, else "unknown exception".
std::string describe(const std::exception_ptr& e);

/// Logs "<what> failed: <text>" (logger "capf", error level) and counts it in
/// capf_contained_exceptions_total{boundary}; `boundary` is one of a small fixed set
/// ("session", "ca-worker", "admin", "web", "trigger", "monitor", "engine", "io", "task").
void report_contained(std::string_view boundary, std::string_view what, const std::exception_ptr& e) noexcept;

/// Runs `fn()`; an exception it throws is reported (above) and swallowed. Returns true when
/// `fn` returned normally.
template <class F>
bool contain(std::string_view boundary, std::string_view what, F&& fn) noexcept {
  try {
    std::forward<F>(fn)();
    return true;
  } catch (...) {
    report_contained(boundary, what, std::current_exception());
    return false;
  }
}

/// Test seam: throws std::runtime_error("injected fault at POINT") when an armed entry names
/// `point` alone, or "point=subject" with this `subject`; each entry fires once. Entries come
/// from the environment variable CAPF_FAULT_FOR_TEST (comma-separated, read at the first call)
/// or from arm_faults_for_test. Costs one flag test when nothing is armed.
void fault_point_for_test(std::string_view point, std::string_view subject = {});
/// Test seam: replaces the armed entries (same form as CAPF_FAULT_FOR_TEST).
void arm_faults_for_test(std::string_view spec);

}  // namespace capf::util
